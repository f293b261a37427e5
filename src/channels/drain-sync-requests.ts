// Draining the webhook's outbox: each pending sync request becomes sync's coalesced job
// (enqueueEventSync / enqueueCalendarListSync) and is deleted in the same transaction, unless a new
// notification bumped it meanwhile (then the next drain takes it). The webhook asks for a drain
// right after each note, so a notification is handed to the sync within milliseconds; a cron drains
// whatever a crashed process left behind. Requests of many notifications collapse into one row per
// resource while a drain runs, so the webhook's cost does not grow with the number of calendars.
import type { Ctx } from '../context/index.ts';
import { enqueueCalendarListSync, enqueueEventSyncs } from '../sync/index.ts';
import { deleteSyncRequests, flushMessageNumbers, pendingSyncRequests } from './queries.ts';
import type { SyncRequestHolds } from './sync-request-holds.ts';
import { schedulePushRechecks } from './push-recheck.ts';

export const DRAIN_BATCH = 500;

/**
 * One drain pass over at most `limit` requests: this process's, and those of a holder that died,
 * but none held back (a busy resource's, sync-request-holds.ts). Returns how many were handed to
 * the sync. Message numbers of notifications answered without a write are written first.
 */
export async function drainSyncRequests(ctx: Ctx, holds: SyncRequestHolds, opts: { limit?: number } = {}): Promise<number> {
  const limit = opts.limit ?? DRAIN_BATCH;
  const unflushed = holds.takeUnflushed();
  try {
    // Its own statement: row locks on channels held only for it, not for the enqueueing below.
    await flushMessageNumbers(ctx.db, unflushed);
  } catch (err) {
    holds.restore(unflushed);
    throw err;
  }
  const rows = await pendingSyncRequests(ctx.db, limit, holds.holder);
  if (rows.length === 0) return 0;
  await ctx.db.transaction(async (tx) => {
    const events = rows.filter((r) => r.kind === 'events' && r.calendarId);
    await enqueueEventSyncs(
      ctx,
      events.map((r) => ({ calendarRowId: r.calendarId!, reason: 'notification', notifiedAt: r.notifiedAt })),
      { tx },
    );
    // The change a push announces may be listable only later: checked again if its sync finds nothing.
    await schedulePushRechecks(ctx, tx, events.map((r) => r.calendarId!));
    for (const r of rows) if (!(r.kind === 'events' && r.calendarId)) await enqueueCalendarListSync(ctx, r.ownerId, { tx, reason: 'notification' });
    await deleteSyncRequests(tx, rows);
  });
  return rows.length;
}

/** Drains until the outbox is empty (the cron, and start-up after a crash). */
export async function drainAllSyncRequests(ctx: Ctx, holds: SyncRequestHolds): Promise<number> {
  let total = 0;
  for (let i = 0; i < 1000; i++) {
    const n = await drainSyncRequests(ctx, holds);
    total += n;
    if (n < DRAIN_BATCH) break;
  }
  return total;
}

/**
 * After a pass of n requests, the next one waits n x PAUSE_PER_REQUEST_MS (at most MAX_PAUSE_MS):
 * a lone notification is handed over at once, while under a sustained flood over many calendars the
 * requests pile up (one row per calendar) between passes instead of each pass re-enqueuing them all.
 */
const PAUSE_PER_REQUEST_MS = 0.2;
const MAX_PAUSE_MS = 100;

/**
 * The in-process drainer: one pass at a time, another soon after if more came in meanwhile, and
 * one when a held-back request comes due (`request(afterMs)`).
 */
export function createDrainer(ctx: Ctx, holds: SyncRequestHolds) {
  let running = false;
  let again = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let due: { at: number; timer: ReturnType<typeof setTimeout> } | undefined;
  /** The latest time a held-back row asked to be drained (a timer is re-armed for it). */
  let latest = 0;
  const run = async () => {
    running = true;
    try {
      do {
        again = false;
        const n = await drainSyncRequests(ctx, holds);
        if (n === DRAIN_BATCH) again = true;
        if (again || n > 1) await Bun.sleep(Math.min(MAX_PAUSE_MS, n * PAUSE_PER_REQUEST_MS));
      } while (again);
    } catch (err) {
      ctx.log.warn({ module: 'channels', err: (err as Error)?.message }, 'draining sync requests failed; retrying shortly');
      retry ??= setTimeout(() => {
        retry = undefined;
        request();
      }, 1000);
      retry.unref?.();
    } finally {
      running = false;
    }
  };
  const request = (afterMs = 0) => {
    if (afterMs > 0) {
      // One timer for the earliest held-back row; the pass then takes every row due by then, and
      // the timer is armed again for a later one.
      const at = performance.now() + afterMs + 5;
      latest = Math.max(latest, at);
      if (due && due.at <= at) return;
      if (due) clearTimeout(due.timer);
      const timer = setTimeout(() => {
        due = undefined;
        request();
        const rest = latest - performance.now();
        if (rest > 0) request(rest);
      }, afterMs + 5);
      timer.unref?.();
      due = { at, timer };
      return;
    }
    if (running) again = true;
    else void run();
  };
  return request;
}
