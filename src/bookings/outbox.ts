// The Google side of a booking is brought in line by `bookings.reconcile`, enqueued in the same
// transaction as the change that needs it: if the process dies between the commit and the call to
// Google, the job still runs.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { reconcileJob } from './jobs.ts';

/**
 * Writes asked for by a procedure are made at once by that procedure (the caller wants to know the
 * outcome); the job is only its safety net, so it waits this long before looking.
 */
export const SAFETY_NET_SECONDS = 30;

export async function enqueueReconcile(tx: Executor, ctx: Ctx, bookingId: string, opts: { afterSeconds?: number } = {}): Promise<void> {
  await reconcileJob.send(ctx, { bookingId }, { tx, ...(opts.afterSeconds ? { startAfter: opts.afterSeconds } : {}) });
}
