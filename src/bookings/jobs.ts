// bookings.reconcile: brings Google in line with one booking (insert, patch or delete its event).
// Enqueued in the transaction of every change that owes Google a write: at once for reactions to
// Google (a bookee's decline), as a delayed safety net for procedures that make the call themselves.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { AppError } from '../errors/index.ts';
import type { Ctx } from '../context/index.ts';
import { bookingById, recordGoogleError, settleGoogle, LIVE_STATUSES } from './queries.ts';
import { reconcileBooking } from './google-writes.ts';
import { transitionBooking } from './transitions.ts';
import { RECONCILE_JOB } from './outbox.ts';

export const reconcileJob = defineJob({
  name: RECONCILE_JOB,
  schema: z.object({ bookingId: z.uuid() }),
  retryLimit: 10,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 1800,
  expireInSeconds: 300,
  concurrency: 4,
  handler: async (ctx, data, job) => {
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
  },
});

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

export const bookingsJobs = [reconcileJob];
