// tRPC transport of the bookings module: validate, call one verb.
import { z } from 'zod';
import { BookingId, CalendarId, Email, ExternalOwnerId, Instant, PageCursor, PageLimit, router, serviceProcedure } from '../api/index.ts';
import { BOOKING_STATUSES } from './statuses.ts';
import { requestBooking } from './request-booking.ts';
import { confirmBooking, denyBooking } from './decide-booking.ts';
import { getBooking, listOwnerBookings } from './read-bookings.ts';
import { rescheduleBooking } from './reschedule-booking.ts';
import { cancelBooking } from './cancel-booking.ts';
import { getBookingSettings, setBookingSettings } from './settings.ts';

const BookingInput = z.object({ id: BookingId });

const RequestInput = z.object({
  externalOwnerId: ExternalOwnerId,
  calendarId: CalendarId.optional(),
  start: Instant,
  end: Instant,
  title: z.string().trim().min(1).max(1024),
  bookee: z.object({
    email: Email,
    name: z.string().max(255).optional(),
  }),
  conference: z.enum(['meet']).optional(),
});

const RescheduleInput = z.object({ id: BookingId, start: Instant, end: Instant });
const CancelInput = z.object({ id: BookingId, reason: z.string().trim().max(500).optional() });

const ListInput = z.object({
  externalOwnerId: ExternalOwnerId,
  status: z.enum(BOOKING_STATUSES).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  limit: PageLimit(500).optional(),
  cursor: PageCursor.optional(),
});

export const bookingsRouter = router({
  bookings: router({
    request: serviceProcedure.input(RequestInput).mutation(({ ctx, input }) => requestBooking(ctx.app, input)),
    confirm: serviceProcedure.input(BookingInput).mutation(({ ctx, input }) => confirmBooking(ctx.app, input)),
    deny: serviceProcedure.input(BookingInput).mutation(({ ctx, input }) => denyBooking(ctx.app, input)),
    reschedule: serviceProcedure.input(RescheduleInput).mutation(({ ctx, input }) => rescheduleBooking(ctx.app, input)),
    cancel: serviceProcedure.input(CancelInput).mutation(({ ctx, input }) => cancelBooking(ctx.app, input)),
    get: serviceProcedure.input(BookingInput).query(({ ctx, input }) => getBooking(ctx.app, input)),
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
