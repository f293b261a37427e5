// The handler of bookings.reconcile (jobs.ts): one attempt at bringing Google in line with a
// booking, the error recorded on the booking, and what the last attempt gives up.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import type { JobInfo } from '../jobs/index.ts';
import { bookingById, recordGoogleError, settleGoogle, LIVE_STATUSES } from './queries.ts';
import { reconcileBooking } from './google-writes.ts';
import { transitionBooking } from './transitions.ts';

export async function runReconcileJob(ctx: Ctx, data: { bookingId: string }, job: JobInfo): Promise<{ status: string }> {
  try {
    const b = await reconcileBooking(ctx, data.bookingId);
    return { status: b?.status ?? 'gone' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await recordGoogleError(ctx.db, data.bookingId, message, ctx.clock.now());
    const final = !(err instanceof AppError) || !err.retryable || job.lastAttempt;
    if (final) await giveUp(ctx, data.bookingId, message);
    throw err;
  }
}

/**
 * The last attempt failed. A booking whose event never reached Google (the request's process died
 * before inserting it, and Google keeps refusing) cannot stand: it fails, freeing its slot. Other
 * writes (a status patch, a delete) stay owed and visible (googlePending, lastError) for an admin.
 */
async function giveUp(ctx: Ctx, bookingId: string, message: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const cur = await bookingById(tx, bookingId, { forUpdate: true });
    if (!cur || cur.eventInserted || !LIVE_STATUSES.includes(cur.status)) return;
    await transitionBooking(tx, ctx, cur, 'failed', { reason: `Google did not take the event: ${message}`, cause: 'failed' });
    await settleGoogle(tx, bookingId);
  });
}
