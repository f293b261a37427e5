// The safety net for push, which Google does not guarantee ("Notifications are not 100% reliable",
// push guide): a calendar whose channel has been silent longer than SYNC_SILENT_THRESHOLD_SECONDS
// and that was not synced within it, or a selected calendar with no live channel, gets an
// incremental sync. Each calendar at most once per threshold: the sync moves its lastSyncedAt
// forward. So a change whose push never came (dropped, not retried, answered 503 while the database
// was down, listable only after a recheck) is mirrored within threshold + the 5-minute cron period.
// It used to need other channels talking ("silent while others are not"): on a deployment with one
// channel, or when every push fails, nothing was ever swept. A quiet calendar costs one empty list
// call per threshold, as it already did on any deployment where some channel was talking.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { listSelectedCalendars, enqueueEventSync } from '../sync/index.ts';
import { channels } from '../../schema/channels.ts';

export interface SilentSweepResult {
  silent: number;
  unwatched: number;
}

export async function syncSilentCalendars(ctx: Ctx): Promise<SilentSweepResult> {
  // Without PUBLIC_URL nothing is watched and sync polls every calendar on its own schedule.
  if (!ctx.config.publicUrl) return { silent: 0, unwatched: 0 };
  const now = ctx.clock.now().getTime();
  const threshold = new Date(now - ctx.config.sync.silentThresholdSeconds * 1000);

  const live = await ctx.db
    .select({ calendarId: channels.calendarId, heardAt: sql<Date>`coalesce(${channels.lastNotifiedAt}, ${channels.confirmedAt}, ${channels.createdAt})` })
    .from(channels)
    .where(and(eq(channels.kind, 'events'), inArray(channels.status, ['pending', 'active'])));
  const lastHeard = new Map<string, number>();
  for (const c of live) {
    if (!c.calendarId) continue;
    const at = new Date(c.heardAt).getTime();
    lastHeard.set(c.calendarId, Math.max(at, lastHeard.get(c.calendarId) ?? 0));
  }

  const result: SilentSweepResult = { silent: 0, unwatched: 0 };
  for (const cal of await listSelectedCalendars(ctx)) {
    if (cal.pollOnly) continue; // sync polls these itself
    if (cal.lastSyncedAt && cal.lastSyncedAt.getTime() > threshold.getTime()) continue;
    const heard = lastHeard.get(cal.id);
    const reason = heard === undefined ? 'unwatched' : heard < threshold.getTime() ? 'silent' : undefined;
    if (!reason) continue;
    await enqueueEventSync(ctx, cal.id, { reason: reason === 'silent' ? 'silentChannel' : 'unwatched' });
    result[reason === 'silent' ? 'silent' : 'unwatched'] += 1;
  }
  if (result.silent + result.unwatched > 0) ctx.log.info(result, 'safety net: syncs for silent or unwatched calendars');
  return result;
}
