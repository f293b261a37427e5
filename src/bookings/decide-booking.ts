// bookings.confirm and bookings.deny: the owner's (subscriber's) decision on a requested booking.
// The decision commits first (with the safety-net job), then Google is told: confirm patches the
// event to `confirmed`, deny deletes it, both with sendUpdates=all so that Google emails the bookee.
// Repeating the same decision is harmless and returns the booking; any other state is a CONFLICT
// naming it.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { bookingById, recordGoogleError, type Booking } from './queries.ts';
import { reconcileBooking } from './google-writes.ts';
import { transitionBooking } from './transitions.ts';
import { bookingView, type BookingView } from './view.ts';

export async function confirmBooking(ctx: Ctx, input: { id: string }): Promise<BookingView> {
  return decide(ctx, input.id, 'confirmed', 'confirmed by the owner');
}

export async function denyBooking(ctx: Ctx, input: { id: string }): Promise<BookingView> {
  return decide(ctx, input.id, 'denied', 'denied by the owner');
}

async function decide(ctx: Ctx, id: string, to: 'confirmed' | 'denied', reason: string): Promise<BookingView> {
  const verb = to === 'confirmed' ? 'confirm' : 'deny';
  const decided = await ctx.db.transaction(async (tx) => {
    const cur = await bookingById(tx, id, { forUpdate: true });
    if (!cur) throw new AppError('NOT_FOUND', `no booking ${id}`);
    if (cur.status === to) return cur;
    if (cur.status !== 'requested') {
      throw new AppError('CONFLICT', `booking ${id} is ${cur.status}: only a requested booking can be ${to === 'confirmed' ? 'confirmed' : 'denied'}`);
    }
    return transitionBooking(tx, ctx, cur, to, { reason, cause: to, google: 'later' });
  });
  const after = await tellGoogle(ctx, decided);
  if (after.status !== to) {
    // Google had moved on meanwhile (e.g. the owner deleted the event there).
    throw new AppError('CONFLICT', `booking ${id} is ${after.status}${after.statusReason ? ` (${after.statusReason})` : ''}: could not ${verb} it`);
  }
  return bookingView(after);
}

/**
 * Makes the owed Google write now. A failure does not undo the decision: it is recorded on the
 * booking (googlePending, lastError) and the reconcile job retries with backoff.
 */
export async function tellGoogle(ctx: Ctx, b: Booking): Promise<Booking> {
  try {
    return (await reconcileBooking(ctx, b.id)) ?? b;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.warn({ bookingId: b.id, err: { message } }, 'Google write failed; the reconcile job will retry');
    await recordGoogleError(ctx.db, b.id, message, ctx.clock.now());
    return (await bookingById(ctx.db, b.id)) ?? b;
  }
}
