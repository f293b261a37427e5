// bookings.cancel: the owner (subscriber) calls off a requested or confirmed booking. The booking becomes
// `cancelled` (the status a deletion in Google Calendar also leads to; booking.changed's cause tells them
// apart: `cancelled` here, `google.cancelled` there), its slot is free at once, and the event is deleted
// with sendUpdates=all so that Google sends the bookee the cancellation. The reason, if given, is the
// booking's statusReason (Google's events.delete takes none). Cancelling a cancelled booking returns it.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { bookingById, LIVE_STATUSES } from './queries.ts';
import { tellGoogle } from './decide-booking.ts';
import { transitionBooking } from './transitions.ts';
import { bookingView, type BookingView } from './view.ts';

export async function cancelBooking(ctx: Ctx, input: { id: string; reason?: string }): Promise<BookingView> {
  const reason = input.reason?.trim();
  const cancelled = await ctx.db.transaction(async (tx) => {
    const cur = await bookingById(tx, input.id, { forUpdate: true });
    if (!cur) throw new AppError('NOT_FOUND', `no booking ${input.id}`);
    if (cur.status === 'cancelled') return cur;
    if (!LIVE_STATUSES.includes(cur.status)) {
      throw new AppError('CONFLICT', `booking ${cur.id} is ${cur.status}: only a requested or confirmed booking can be cancelled`);
    }
    return transitionBooking(tx, ctx, cur, 'cancelled', {
      reason: reason ? `cancelled by the owner: ${reason}` : 'cancelled by the owner',
      cause: 'cancelled',
      google: 'later',
    });
  });
  return bookingView(await tellGoogle(ctx, cancelled));
}
