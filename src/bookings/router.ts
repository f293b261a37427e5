// tRPC transport of the bookings module: validate, call one verb.
import { z } from 'zod';
import { router, serviceProcedure } from '../api/index.ts';
import { BOOKING_STATUSES } from './statuses.ts';
import { requestBooking } from './request-booking.ts';
import { confirmBooking, denyBooking } from './decide-booking.ts';
import { getBooking, listOwnerBookings } from './read-bookings.ts';
import { rescheduleBooking } from './reschedule-booking.ts';
import { cancelBooking } from './cancel-booking.ts';
import { getBookingSettings, setBookingSettings } from './settings.ts';

const ExternalOwnerId = z.string().min(1).max(255);
const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone offset (e.g. 2030-01-01T10:00:00Z)' });
const BookingId = z.object({ id: z.uuid({ message: 'must be a booking id (UUID)' }) });

const RequestInput = z.object({
  externalOwnerId: ExternalOwnerId,
  calendarId: z.string().min(1).max(1024).optional(),
  start: Instant,
  end: Instant,
  title: z.string().trim().min(1).max(1024),
  bookee: z.object({
    email: z.email({ message: 'must be a valid email address' }).max(320),
    name: z.string().max(255).optional(),
  }),
  conference: z.enum(['meet']).optional(),
});

const RescheduleInput = z.object({ id: BookingId.shape.id, start: Instant, end: Instant });
const CancelInput = z.object({ id: BookingId.shape.id, reason: z.string().trim().max(500).optional() });

const ListInput = z.object({
  externalOwnerId: ExternalOwnerId,
  status: z.enum(BOOKING_STATUSES).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  limit: z.number().int().min(1).max(500).optional(),
  cursor: z.string().max(200).optional(),
});

export const bookingsRouter = router({
  bookings: router({
    request: serviceProcedure.input(RequestInput).mutation(({ ctx, input }) => requestBooking(ctx.app, input)),
    confirm: serviceProcedure.input(BookingId).mutation(({ ctx, input }) => confirmBooking(ctx.app, input)),
    deny: serviceProcedure.input(BookingId).mutation(({ ctx, input }) => denyBooking(ctx.app, input)),
    reschedule: serviceProcedure.input(RescheduleInput).mutation(({ ctx, input }) => rescheduleBooking(ctx.app, input)),
    cancel: serviceProcedure.input(CancelInput).mutation(({ ctx, input }) => cancelBooking(ctx.app, input)),
    get: serviceProcedure.input(BookingId).query(({ ctx, input }) => getBooking(ctx.app, input)),
    list: serviceProcedure.input(ListInput).query(({ ctx, input }) => listOwnerBookings(ctx.app, input)),
    settings: router({
      get: serviceProcedure
        .input(z.object({ externalOwnerId: ExternalOwnerId }))
        .query(({ ctx, input }) => getBookingSettings(ctx.app, input)),
      set: serviceProcedure
        .input(z.object({ externalOwnerId: ExternalOwnerId, autoConfirm: z.boolean() }))
        .mutation(({ ctx, input }) => setBookingSettings(ctx.app, input)),
    }),
  }),
});
