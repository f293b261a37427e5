// Asking for syncs. Event syncs go to a `stately` queue keyed by the calendar row: pg-boss allows
// one job per state per key, so at most one sync is queued and one runs per calendar; a request
// while one is queued collapses into it, and a request while one runs queues exactly one more.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';

export const EVENT_SYNC_JOB = 'sync.events';
export const CALENDAR_LIST_SYNC_JOB = 'sync.calendarList';
export const POLL_JOB = 'sync.poll';
export const SAFETY_NET_JOB = 'sync.safetyNet';

export type SyncReason = 'notification' | 'selected' | 'resync' | 'linked' | 'poll' | 'catchup' | 'manual' | 'calendarList';

export interface EnqueueEventSyncOptions {
  /** Enqueue inside this transaction (the job exists only if it commits). */
  tx?: Executor;
  reason?: SyncReason | string;
  /** When the push notification that asks for this sync arrived (for the notification-to-sync metric). */
  notifiedAt?: Date;
}

/**
 * Queues an incremental (or, without a sync token, full) sync of one calendar row. Coalesced:
 * returns false when it collapsed into a sync already queued for that calendar.
 */
export async function enqueueEventSync(ctx: Ctx, calendarRowId: string, opts: EnqueueEventSyncOptions = {}): Promise<boolean> {
  const id = await ctx.jobs.send(
    EVENT_SYNC_JOB,
    {
      calendarRowId,
      reason: opts.reason ?? 'manual',
      ...(opts.notifiedAt ? { notifiedAt: opts.notifiedAt.toISOString() } : {}),
    },
    { singletonKey: calendarRowId, ...(opts.tx ? { tx: opts.tx } : {}) },
  );
  ctx.jobs.wake(EVENT_SYNC_JOB);
  return id !== null;
}

/** Queues a calendar-list sync for an owner (coalesced the same way, keyed by owner). */
export async function enqueueCalendarListSync(ctx: Ctx, ownerId: string, opts: { tx?: Executor; reason?: string } = {}): Promise<boolean> {
  const id = await ctx.jobs.send(
    CALENDAR_LIST_SYNC_JOB,
    { ownerId, reason: opts.reason ?? 'manual' },
    { singletonKey: ownerId, ...(opts.tx ? { tx: opts.tx } : {}) },
  );
  ctx.jobs.wake(CALENDAR_LIST_SYNC_JOB);
  return id !== null;
}
