// Asking for syncs. Event syncs go to a `stately` queue keyed by the calendar row: pg-boss allows
// one job per state per key, so at most one sync is queued and one runs per calendar; a request
// while one is queued collapses into it, and a request while one runs queues exactly one more.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { calendars, calendarSyncStates } from '../../schema/sync.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
 * Syncs of one calendar start at least this far apart. A burst of notifications then costs at most
 * two list calls: the sync running (or just run) and one deferred sync that covers the rest.
 */
export const SYNC_MIN_SPACING_MS = 1000;

/**
 * Queues an incremental (or, without a sync token, full) sync of one calendar row. Coalesced:
 * returns false when it collapsed into a sync already queued for that calendar (or when there is
 * no such calendar). The request time is noted first, so a sync that starts later covers it.
 */
export async function enqueueEventSync(ctx: Ctx, calendarRowId: string, opts: EnqueueEventSyncOptions = {}): Promise<boolean> {
  if (!UUID.test(calendarRowId)) return false;
  const db = opts.tx ?? ctx.db;
  const noted = await db.execute<{ wait_ms: number | null }>(sql`
    insert into ${calendarSyncStates} (calendar_id, requested_at)
    select ${calendarRowId}::uuid, clock_timestamp() where exists (select 1 from ${calendars} where id = ${calendarRowId}::uuid)
    on conflict (calendar_id) do update set requested_at = excluded.requested_at
    returning (extract(epoch from (${calendarSyncStates.startedAt} + make_interval(secs => ${SYNC_MIN_SPACING_MS / 1000}) - clock_timestamp())) * 1000)::float8 as wait_ms`);
  const row = noted[0];
  if (!row) return false;
  const waitMs = row.wait_ms !== null && row.wait_ms > 0 ? Math.min(row.wait_ms, SYNC_MIN_SPACING_MS) : 0;
  const id = await ctx.jobs.send(
    EVENT_SYNC_JOB,
    {
      calendarRowId,
      reason: opts.reason ?? 'manual',
      ...(opts.notifiedAt ? { notifiedAt: opts.notifiedAt.toISOString() } : {}),
    },
    {
      singletonKey: calendarRowId,
      // A sync started less than SYNC_MIN_SPACING_MS ago: this one waits out the rest (infrastructure
      // timing on the real clock, not the domain clock).
      ...(waitMs > 0 ? { startAfter: new Date(Date.now() + Math.ceil(waitMs)) } : {}),
      ...(opts.tx ? { tx: opts.tx } : {}),
    },
  );
  ctx.jobs.wake(EVENT_SYNC_JOB);
  // pg-boss sends no NOTIFY when a deferred job comes due: wake this process's worker then.
  if (waitMs > 0) setTimeout(() => ctx.jobs.wake(EVENT_SYNC_JOB), Math.ceil(waitMs) + 15).unref?.();
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
