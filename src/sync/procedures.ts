// The verbs behind sync's tRPC procedures, taking the caller's externalOwnerId.
import type { Ctx } from '../context/index.ts';
import type { SyncCalendar } from './calendars.ts';
import { listEvents, type ListedEvent } from './list-events.ts';
import { requireOwnerId } from './owner-of.ts';
import { resyncCalendars } from './resync.ts';
import { setCalendarSelected } from './set-selected.ts';

export interface CalendarView {
  calendarId: string;
  summary: string | null;
  primary: boolean;
  selected: boolean;
  timeZone: string | null;
  lastSyncedAt: string | null;
  syncError: string | null;
}

const view = (c: SyncCalendar): CalendarView => ({
  calendarId: c.calendarId,
  summary: c.summary,
  primary: c.primary,
  selected: c.selected,
  timeZone: c.timeZone,
  lastSyncedAt: c.lastSyncedAt ? c.lastSyncedAt.toISOString() : null,
  syncError: c.syncError,
});

export async function selectCalendar(ctx: Ctx, input: { externalOwnerId: string; calendarId: string; selected: boolean }): Promise<CalendarView> {
  const ownerId = await requireOwnerId(ctx, input.externalOwnerId);
  return view(await setCalendarSelected(ctx, { ownerId, calendarId: input.calendarId, selected: input.selected }));
}

export async function resyncOwnerCalendars(ctx: Ctx, input: { externalOwnerId: string; calendarId?: string }): Promise<{ queued: number }> {
  const ownerId = await requireOwnerId(ctx, input.externalOwnerId);
  return resyncCalendars(ctx, { ownerId, calendarId: input.calendarId });
}

export async function listOwnerEvents(ctx: Ctx, input: { externalOwnerId: string; calendarId?: string; from: string; to: string }): Promise<{ items: ListedEvent[] }> {
  const ownerId = await requireOwnerId(ctx, input.externalOwnerId);
  return listEvents(ctx, { ownerId, calendarId: input.calendarId, from: new Date(input.from), to: new Date(input.to) });
}
