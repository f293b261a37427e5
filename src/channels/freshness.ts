// links.get's `freshness`: how each selected calendar is kept current. By push when it has a live
// channel; otherwise by polling, and why: Google never pushes it (`pushNotSupportedForRequestedResource`,
// polled for good by sync's safety net), a watch refused with 403/404 (tried again on a backoff,
// create.ts), no live channel yet or any more, or no PUBLIC_URL at all. Every polling case is synced
// at least every SYNC_SILENT_THRESHOLD_SECONDS (sync's safety net, or silent-channels.ts).
import type { Ctx } from '../context/index.ts';
import type { CalendarFreshness } from '../context/index.ts';
import { listOwnerCalendars, type SyncCalendar } from '../sync/index.ts';
import { isPushNotSupported, WATCH_REFUSED } from './create.ts';
import { newestEventChannels, newestEventChannelsOfCalendars } from './queries.ts';

type NewestChannel = { live: boolean; lastError: string | null } | undefined;

const freshnessOf = (c: SyncCalendar, ch: NewestChannel): CalendarFreshness =>
  c.pollOnly && isPushNotSupported(c.pollOnlyReason) ? { mode: 'polling', reason: 'pushNotSupported' }
  : ch?.live ? { mode: 'push', reason: null }
  : c.pollOnly || ch?.lastError?.startsWith(WATCH_REFUSED) ? { mode: 'polling', reason: 'watchRefused' }
  : { mode: 'polling', reason: 'notWatched' };

/** Per Google calendar id of the owner's selected calendars. */
export async function calendarFreshness(ctx: Ctx, ownerId: string): Promise<Map<string, CalendarFreshness>> {
  const out = new Map<string, CalendarFreshness>();
  const cals = (await listOwnerCalendars(ctx, ownerId)).filter((c) => c.selected && !c.deleted);
  if (cals.length === 0) return out;
  if (!ctx.config.publicUrl) {
    for (const c of cals) out.set(c.calendarId, { mode: 'polling', reason: 'noPublicUrl' });
    return out;
  }
  const newest = await newestEventChannels(ctx.db, ownerId, ctx.clock.now());
  for (const c of cals) out.set(c.calendarId, freshnessOf(c, newest.get(c.id)));
  return out;
}

/** The freshness of each of these calendars, of any owners, in one query; null when not selected. */
export async function freshnessOfCalendars(ctx: Ctx, calendars: readonly SyncCalendar[]): Promise<Array<CalendarFreshness | null>> {
  const watched = (c: SyncCalendar) => c.selected && !c.deleted;
  if (!ctx.config.publicUrl) return calendars.map((c) => (watched(c) ? { mode: 'polling', reason: 'noPublicUrl' } : null));
  const newest = await newestEventChannelsOfCalendars(ctx.db, calendars.filter(watched).map((c) => c.id), ctx.clock.now());
  return calendars.map((c) => (watched(c) ? freshnessOf(c, newest.get(c.id)) : null));
}
