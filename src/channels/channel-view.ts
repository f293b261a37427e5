// A channel as other modules (admin API, CLI) see it: never the token hash.
import type { Ctx } from '../context/index.ts';
import { channelById, currentChannelRowsOfCalendars, expiryByCalendar, listChannelRows, type Channel, type ChannelKind, type ChannelStatus, type ListChannelsInput } from './queries.ts';

export type { ChannelStatus };

export interface ChannelView {
  id: string;
  ownerId: string;
  /** calendars.id, null for a calendar-list channel. */
  calendarRowId: string | null;
  kind: ChannelKind;
  status: ChannelStatus;
  resourceId: string | null;
  resourceUri: string | null;
  expiresAt: Date | null;
  confirmedAt: Date | null;
  lastMessageNumber: number;
  lastNotifiedAt: Date | null;
  notificationsCount: number;
  replacesId: string | null;
  replacedById: string | null;
  stoppedAt: Date | null;
  lastError: string | null;
  createdAt: Date;
}

export function toView(row: Channel): ChannelView {
  return {
    id: row.id,
    ownerId: row.ownerId,
    calendarRowId: row.calendarId,
    kind: row.kind,
    status: row.status,
    resourceId: row.resourceId,
    resourceUri: row.resourceUri,
    expiresAt: row.expiresAt,
    confirmedAt: row.confirmedAt,
    lastMessageNumber: row.lastMessageNumber,
    lastNotifiedAt: row.lastNotifiedAt,
    notificationsCount: row.notificationsCount,
    replacesId: row.replacesId,
    replacedById: row.replacedById,
    stoppedAt: row.stoppedAt,
    lastError: row.lastError,
    createdAt: row.createdAt,
  };
}

export async function getChannel(ctx: Ctx, id: string): Promise<ChannelView | undefined> {
  const row = await channelById(ctx.db, id);
  return row && toView(row);
}

/** Newest first; `after` is the last row of the previous page (keyset pagination). */
export async function listChannels(ctx: Ctx, input: Omit<ListChannelsInput, 'limit'> & { limit?: number }): Promise<ChannelView[]> {
  const rows = await listChannelRows(ctx.db, { ...input, limit: Math.min(Math.max(input.limit ?? 50, 1), 500) });
  return rows.map(toView);
}

/** Per calendar row id of an owner: when its current channel expires (links.get's channelExpiresAt). */
export async function channelExpiryByCalendar(ctx: Ctx, ownerId: string): Promise<Map<string, Date | null>> {
  return expiryByCalendar(ctx.db, ownerId);
}

/** Per calendar row id, its newest pending/active/expired channel (absent when it has none). */
export async function currentChannelsOfCalendars(ctx: Ctx, calendarRowIds: readonly string[]): Promise<Map<string, ChannelView>> {
  const byCalendar = new Map<string, ChannelView>();
  for (const row of await currentChannelRowsOfCalendars(ctx.db, calendarRowIds)) {
    if (row.calendarId && !byCalendar.has(row.calendarId)) byCalendar.set(row.calendarId, toView(row));
  }
  return byCalendar;
}
