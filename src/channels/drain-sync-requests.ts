// Draining the webhook's outbox: each pending sync request becomes sync's coalesced job
// (enqueueEventSync / enqueueCalendarListSync) and is deleted in the same transaction, unless a new
// notification bumped it meanwhile (then the next drain takes it). The webhook asks for a drain
// right after each note, so a notification is handed to the sync within milliseconds; a cron drains
// whatever a crashed process left behind. Requests of many notifications collapse into one row per
// resource while a drain runs, so the webhook's cost does not grow with the number of calendars.
import type { Ctx } from '../context/index.ts';
import { enqueueCalendarListSync, enqueueEventSync } from '../sync/index.ts';
import { deleteSyncRequests, pendingSyncRequests } from './queries.ts';

export const DRAIN_BATCH = 500;

/** One drain pass over at most `limit` requests. Returns how many were handed to the sync. */
export async function drainSyncRequests(ctx: Ctx, opts: { limit?: number } = {}): Promise<number> {
  const rows = await pendingSyncRequests(ctx.db, opts.limit ?? DRAIN_BATCH);
  if (rows.length === 0) return 0;
  await ctx.db.transaction(async (tx) => {
    await Promise.all(
      rows.map((r) =>
        r.kind === 'events' && r.calendarId
          ? enqueueEventSync(ctx, r.calendarId, { tx, reason: 'notification', notifiedAt: r.notifiedAt })
          : enqueueCalendarListSync(ctx, r.ownerId, { tx, reason: 'notification' }),
      ),
    );
    await deleteSyncRequests(tx, rows);
  });
  return rows.length;
}

/** Drains until the outbox is empty (the cron, and start-up after a crash). */
export async function drainAllSyncRequests(ctx: Ctx): Promise<number> {
  let total = 0;
  for (let i = 0; i < 1000; i++) {
    const n = await drainSyncRequests(ctx);
    total += n;
    if (n < DRAIN_BATCH) break;
  }
  return total;
}

/**
 * After a pass of n requests, the next one waits n x PAUSE_PER_REQUEST_MS (at most MAX_PAUSE_MS):
 * a lone notification is handed over at once, while under a sustained flood over many calendars the
 * requests pile up (one row per calendar) between passes instead of each pass re-enqueuing them all.
 * Syncs of one calendar start at least a second apart anyway.
 */
const PAUSE_PER_REQUEST_MS = 0.2;
const MAX_PAUSE_MS = 100;

/** The in-process drainer: one pass at a time, another soon after if more came in meanwhile. */
export function createDrainer(ctx: Ctx) {
  let running = false;
  let again = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    running = true;
    try {
      do {
        again = false;
        const n = await drainSyncRequests(ctx);
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
  const request = () => {
    if (running) again = true;
    else void run();
  };
  return request;
}
