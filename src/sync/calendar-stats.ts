// Batched reads for the admin API: calendars of many owners, event counts of many calendars,
// each in one query.
import { and, count, inArray, asc } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { calendars, calendarEvents } from '../../schema/sync.ts';
import { toSyncCalendar, type SyncCalendar } from './calendars.ts';

export async function listCalendarsOfOwners(ctx: Ctx, ownerIds: readonly string[]): Promise<SyncCalendar[]> {
  if (ownerIds.length === 0) return [];
  const rows = await ctx.db
    .select()
    .from(calendars)
    .where(inArray(calendars.ownerId, [...ownerIds]))
    .orderBy(asc(calendars.ownerId), asc(calendars.googleCalendarId));
  return rows.map(toSyncCalendar);
}

export async function getCalendars(ctx: Ctx, calendarRowIds: readonly string[]): Promise<SyncCalendar[]> {
  if (calendarRowIds.length === 0) return [];
  const rows = await ctx.db.select().from(calendars).where(inArray(calendars.id, [...calendarRowIds]));
  return rows.map(toSyncCalendar);
}

/** Mirrored events per calendar row (cancelled rows included: they are what Google holds). */
export async function countEventsByCalendar(ctx: Ctx, calendarRowIds: readonly string[]): Promise<Map<string, number>> {
  if (calendarRowIds.length === 0) return new Map();
  const rows = await ctx.db
    .select({ calendarId: calendarEvents.calendarId, n: count() })
    .from(calendarEvents)
    .where(and(inArray(calendarEvents.calendarId, [...calendarRowIds])))
    .groupBy(calendarEvents.calendarId);
  return new Map(rows.map((r) => [r.calendarId, Number(r.n)]));
}
