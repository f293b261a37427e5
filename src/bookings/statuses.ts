// The booking statuses, for transports that may not import the table file themselves.
export { BOOKING_STATUSES, type BookingStatus } from '../../schema/bookings.ts';
