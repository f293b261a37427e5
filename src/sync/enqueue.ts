// Asking for syncs. Event syncs go to a `stately` queue keyed by the calendar row: pg-boss allows
// one job per state per key, so at most one sync is queued and one runs per calendar; a request
// while one is queued collapses into it, and a request while one runs queues exactly one more.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { JOB_PRIORITY } from '../jobs/index.ts';
import { calendars, calendarSyncStates } from '../../schema/sync.ts';
import { calendarListSyncJob, eventSyncJob } from './jobs.ts';

/** In a RETURNING of calendar_sync_states: ms until a trailing sync may start, null when idle. */
const trailingWaitMs = sql.raw(`(case when started_at > coalesce(finished_at, '-infinity')
  then extract(epoch from (started_at + make_interval(secs => 0.25) - clock_timestamp())) * 1000
  end)::float8 as wait_ms`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type SyncReason = 'notification' | 'selected' | 'resync' | 'linked' | 'poll' | 'catchup' | 'manual' | 'calendarList' | 'resumed';

export interface EnqueueEventSyncOptions {
  /** Enqueue inside this transaction (the job exists only if it commits). */
  tx?: Executor;
  reason?: SyncReason | string;
  /** When the push notification that asks for this sync arrived (for the notification-to-sync metric). */
  notifiedAt?: Date;
}

/**
 * A sync asked for while another of the same calendar is listing or writing (the trailing edge)
 * starts when that one ends, but no sooner than this after it started: a calendar that changes
 * without pause costs at most four list calls a second, not as many as back-to-back syncs allow
 * (they would spend its owner's whole per-user quota). A request for an idle calendar (no sync
 * running, or the last one's changes already committed) starts its sync at once: the leading edge.
 */
export const SYNC_TRAILING_MIN_MS = 250;

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
  const noted = await db.execute<{ wait_ms: number | null }>(sql`
    insert into ${calendarSyncStates} (calendar_id, requested_at)
    select ${calendarRowId}::uuid, clock_timestamp() where exists (select 1 from ${calendars} where id = ${calendarRowId}::uuid)
    on conflict (calendar_id) do update set requested_at = clock_timestamp()
    returning ${trailingWaitMs}`);
  if (!noted[0]) return false;
  const waitMs = Math.min(Math.max(0, Math.ceil(Number(noted[0].wait_ms ?? 0))), SYNC_TRAILING_MIN_MS);
  const interactive = INTERACTIVE_REASONS.has(opts.reason ?? 'manual');
  const id = await eventSyncJob.send(
    ctx,
    {
      calendarRowId,
      reason: opts.reason ?? 'manual',
      ...(opts.notifiedAt ? { notifiedAt: opts.notifiedAt.toISOString() } : {}),
    },
    {
      singletonKey: calendarRowId,
      priority: interactive ? JOB_PRIORITY.interactive : JOB_PRIORITY.background,
      // The trailing edge of a calendar being synced right now (infrastructure timing on the real
      // clock); the send wakes this process's worker when it comes due.
      ...(waitMs > 0 ? { startAfter: new Date(Date.now() + waitMs) } : {}),
      ...(opts.tx ? { tx: opts.tx } : {}),
    },
  );
  return id !== null;
}

/**
 * Many calendars' syncs at once (the webhook's drain): one statement notes the requests, one
 * INSERT queues the jobs, each coalesced as enqueueEventSync's. Returns how many calendars exist.
 */
export async function enqueueEventSyncs(
  ctx: Ctx,
  requests: Array<{ calendarRowId: string; reason: SyncReason | string; notifiedAt?: Date }>,
  opts: { tx?: Executor } = {},
): Promise<number> {
  const byId = new Map<string, { calendarRowId: string; reason: string; notifiedAt?: Date }>();
  for (const r of requests) {
    if (!UUID.test(r.calendarRowId)) continue;
    const id = r.calendarRowId.toLowerCase();
    const cur = byId.get(id);
    if (!cur || (r.notifiedAt && (!cur.notifiedAt || r.notifiedAt < cur.notifiedAt))) byId.set(id, { ...r, calendarRowId: id });
  }
  if (byId.size === 0) return 0;
  const ids = JSON.stringify([...byId.keys()].sort());
  const db = opts.tx ?? ctx.db;
  // In id order, so that two drains never lock the same rows in opposite orders.
  const noted = await db.execute<{ calendar_id: string; wait_ms: number | null }>(sql`
    insert into ${calendarSyncStates} (calendar_id, requested_at)
    select c.id, clock_timestamp() from ${calendars} c
    where c.id in (select x::uuid from jsonb_array_elements_text(${ids}::jsonb) x)
    order by c.id
    on conflict (calendar_id) do update set requested_at = clock_timestamp()
    returning calendar_id, ${trailingWaitMs}`);
  const jobs = noted.flatMap((row) => {
    const r = byId.get(String(row.calendar_id));
    if (!r) return [];
    return [
      {
        data: { calendarRowId: r.calendarRowId, reason: r.reason, ...(r.notifiedAt ? { notifiedAt: r.notifiedAt.toISOString() } : {}) },
        singletonKey: r.calendarRowId,
        priority: INTERACTIVE_REASONS.has(r.reason) ? JOB_PRIORITY.interactive : JOB_PRIORITY.background,
        ...(Number(row.wait_ms) > 0 ? { startAfter: new Date(Date.now() + Math.min(Math.ceil(Number(row.wait_ms)), SYNC_TRAILING_MIN_MS)) } : {}),
      },
    ];
  });
  await eventSyncJob.sendMany(ctx, jobs, opts.tx ? { tx: opts.tx } : {});
  return jobs.length;
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
  const id = await calendarListSyncJob.send(
    ctx,
    { ownerId, reason: opts.reason ?? 'manual' },
    {
      singletonKey: ownerId,
      priority: INTERACTIVE_REASONS.has(opts.reason ?? 'manual') ? JOB_PRIORITY.interactive : JOB_PRIORITY.background,
      ...(opts.tx ? { tx: opts.tx } : {}),
    },
  );
  return id !== null;
}
