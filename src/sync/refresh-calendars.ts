// Calendar properties (time zone, title, access role) never arrive by incremental calendar list:
// "If only read-only fields such as calendar properties or ACLs have changed, the entry won't be
// returned" (calendarList.list reference). Event syncs take the time zone and access role from every
// events.list page, but only for selected calendars; this cron re-reads every owner's whole list
// every SYNC_CALENDAR_REFRESH_SECONDS. Hourly, oldest first, at most the share that keeps the
// interval (a 6 h interval: a sixth of the owners per run), each a calendar-list sync at background
// priority, so that the quota module paces it behind work someone waits for.
import { and, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { listOwners } from '../links/index.ts';
import { calendarLists } from '../../schema/sync.ts';
import { enqueueCalendarListSync } from './enqueue.ts';

/** The refresh cron runs hourly ('17 * * * *'). */
export const REFRESH_PERIOD_SECONDS = 3600;
const OWNER_PAGE = 1000;

export async function refreshCalendarProperties(ctx: Ctx): Promise<{ owners: number; due: number; queued: number }> {
  const active: string[] = [];
  for (let offset = 0; ; offset += OWNER_PAGE) {
    const page = await listOwners(ctx, { status: 'active', limit: OWNER_PAGE, offset });
    active.push(...page.map((o) => o.id));
    if (page.length < OWNER_PAGE) break;
  }
  if (active.length === 0) return { owners: 0, due: 0, queued: 0 };
  const interval = ctx.config.sync.calendarRefreshSeconds;
  const before = new Date(ctx.clock.now().getTime() - interval * 1000);
  const share = Math.max(10, Math.ceil((active.length * REFRESH_PERIOD_SECONDS) / Math.max(interval, 1)));
  const fresh = new Set<string>();
  for (let i = 0; i < active.length; i += OWNER_PAGE) {
    const ids = active.slice(i, i + OWNER_PAGE);
    const rows = await ctx.db
      .select({ ownerId: calendarLists.ownerId })
      .from(calendarLists)
      .where(and(inArray(calendarLists.ownerId, ids), sql`not (${or(isNull(calendarLists.lastFullSyncedAt), lt(calendarLists.lastFullSyncedAt, before))})`));
    for (const r of rows) fresh.add(r.ownerId);
  }
  const dueIds = active.filter((id) => !fresh.has(id));
  // Oldest full list first (never listed in full: first of all).
  const order = new Map<string, number>();
  for (let i = 0; i < dueIds.length; i += OWNER_PAGE) {
    const rows = await ctx.db
      .select({ ownerId: calendarLists.ownerId, at: calendarLists.lastFullSyncedAt })
      .from(calendarLists)
      .where(inArray(calendarLists.ownerId, dueIds.slice(i, i + OWNER_PAGE)));
    for (const r of rows) order.set(r.ownerId, r.at?.getTime() ?? 0);
  }
  const picked = dueIds.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)).slice(0, share);
  let queued = 0;
  for (const ownerId of picked) if (await enqueueCalendarListSync(ctx, ownerId, { reason: 'refresh' })) queued++;
  if (picked.length > 0) ctx.log.info({ due: dueIds.length, queued }, 'calendar properties: full calendar lists queued');
  return { owners: active.length, due: dueIds.length, queued };
}
