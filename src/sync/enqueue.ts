// Asking for syncs. Event syncs go to a `stately` queue keyed by the calendar row: pg-boss allows
// one job per state per key, so at most one sync is queued and one runs per calendar; a request
// while one is queued collapses into it, and a request while one runs queues exactly one more.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { JOB_PRIORITY } from '../jobs/index.ts';
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
 * Queues an incremental (or, without a sync token, full) sync of one calendar row. Coalesced:
 * returns false when it collapsed into a sync already queued for that calendar (or when there is
 * no such calendar). The request time is noted first, so a sync that starts later covers it.
 */
export async function enqueueEventSync(ctx: Ctx, calendarRowId: string, opts: EnqueueEventSyncOptions = {}): Promise<boolean> {
  if (!UUID.test(calendarRowId)) return false;
  const db = opts.tx ?? ctx.db;
  // clock_timestamp() in the SET: evaluated once the row is locked (a sync starting holds it), so the
  // request is never stamped earlier than a sync start it waited for.
  const noted = await db.execute<{ calendar_id: string }>(sql`
    insert into ${calendarSyncStates} (calendar_id, requested_at)
    select ${calendarRowId}::uuid, clock_timestamp() where exists (select 1 from ${calendars} where id = ${calendarRowId}::uuid)
    on conflict (calendar_id) do update set requested_at = clock_timestamp()
    returning calendar_id`);
  if (!noted[0]) return false;
  const interactive = INTERACTIVE_REASONS.has(opts.reason ?? 'manual');
  const id = await ctx.jobs.send(
    EVENT_SYNC_JOB,
    {
      calendarRowId,
      reason: opts.reason ?? 'manual',
      ...(opts.notifiedAt ? { notifiedAt: opts.notifiedAt.toISOString() } : {}),
    },
    {
      singletonKey: calendarRowId,
      priority: interactive ? JOB_PRIORITY.interactive : JOB_PRIORITY.background,
      ...(opts.tx ? { tx: opts.tx } : {}),
    },
  );
  return id !== null;
}

/**
 * Syncs someone waits for (a change pushed by Google, a selection, an explicit resync) go ahead
 * of background ones (first syncs of a burst of links, catch-up, polls) in the queue and in the
 * quota (src/google's pacing).
 */
const INTERACTIVE_REASONS = new Set<string>(['notification', 'selected', 'resync', 'manual']);

export function isInteractiveSync(reason: string): boolean {
  return INTERACTIVE_REASONS.has(reason);
}

/** Queues a calendar-list sync for an owner (coalesced the same way, keyed by owner). */
export async function enqueueCalendarListSync(ctx: Ctx, ownerId: string, opts: { tx?: Executor; reason?: string } = {}): Promise<boolean> {
  const id = await ctx.jobs.send(
    CALENDAR_LIST_SYNC_JOB,
    { ownerId, reason: opts.reason ?? 'manual' },
    {
      singletonKey: ownerId,
      priority: INTERACTIVE_REASONS.has(opts.reason ?? 'manual') ? JOB_PRIORITY.interactive : JOB_PRIORITY.background,
      ...(opts.tx ? { tx: opts.tx } : {}),
    },
  );
  return id !== null;
}
