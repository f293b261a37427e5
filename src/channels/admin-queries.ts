// Batched reads for the admin API: the current channel of many calendars in one query.
import { and, desc, inArray } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { channels } from '../../schema/channels.ts';
import { toView, type ChannelView } from './channel-view.ts';

/** Per calendar row id, its newest pending/active/expired channel (null when it has none). */
export async function currentChannelsOfCalendars(ctx: Ctx, calendarRowIds: readonly string[]): Promise<Map<string, ChannelView>> {
  if (calendarRowIds.length === 0) return new Map();
  const rows = await ctx.db
    .select()
    .from(channels)
    .where(and(inArray(channels.calendarId, [...calendarRowIds]), inArray(channels.status, ['pending', 'active', 'expired'])))
    .orderBy(desc(channels.createdAt));
  const byCalendar = new Map<string, ChannelView>();
  for (const row of rows) if (row.calendarId && !byCalendar.has(row.calendarId)) byCalendar.set(row.calendarId, toView(row));
  return byCalendar;
}
