// booking.changed: every change of a booking an application may care about (a new booking, each
// status transition, a move, the bookee's answer) goes to fan-out inside the transaction that made
// it, so the delivery exists exactly when the change committed.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { publishDomainEvent } from '../fanout/index.ts';
import type { Booking } from './queries.ts';
import { bookingView } from './view.ts';

export type BookingChangeCause =
  | 'requested'
  | 'confirmed'
  | 'denied'
  | 'failed'
  | 'rescheduled'
  | 'cancelled'
  | 'google.declined'
  | 'google.responded'
  | 'google.cancelled'
  | 'google.moved'
  | 'google.conference';

export async function publishBookingChanged(
  tx: Executor,
  ctx: Ctx,
  booking: Booking,
  cause: BookingChangeCause,
  previous?: Pick<Booking, 'status' | 'startAt' | 'endAt' | 'bookeeResponse'>,
): Promise<void> {
  await publishDomainEvent(tx, ctx, {
    type: 'booking.changed',
    ownerId: booking.ownerId,
    externalOwnerId: booking.externalOwnerId,
    calendarId: booking.calendarId,
    data: {
      cause,
      booking: bookingView(booking),
      ...(previous
        ? {
            previous: {
              status: previous.status,
              start: previous.startAt.toISOString(),
              end: previous.endAt.toISOString(),
              bookeeResponse: previous.bookeeResponse,
            },
          }
        : {}),
    },
  });
}
