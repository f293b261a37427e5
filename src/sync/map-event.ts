// A Google event (as events.list returns it with singleEvents=false) to a mirror row, and a mirror
// row to the MirrorEvent reactors see.
import type { calendar_v3 } from '../google/index.ts';
import type { Calendar, CalendarEvent, CalendarEventInsert } from '../../schema/sync.ts';
import type { MirrorAttendee, MirrorEvent } from '../context/index.ts';
import { isValidTimeZone, parseGoogleDateTime, startOfDateInZone } from './time-zone.ts';

type GoogleEvent = calendar_v3.Schema$Event;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Google's tombstones: a deleted event is "only guaranteed to have the id field populated", a
 * cancelled instance of a series only id, recurringEventId and originalStartTime (Event.status,
 * Calendar API reference).
 */
export function isTombstone(e: GoogleEvent): boolean {
  return e.status === 'cancelled';
}

/** A cancelled event that is not an instance of a series: the event itself is gone. */
export function isDeletion(e: GoogleEvent): boolean {
  return e.status === 'cancelled' && !e.recurringEventId;
}

function placeTime(
  t: calendar_v3.Schema$EventDateTime | undefined,
  zone: string,
): { at: Date | null; date: string | null; allDay: boolean; timeZone: string | null } {
  if (!t) return { at: null, date: null, allDay: false, timeZone: null };
  if (t.date && DATE.test(t.date)) return { at: startOfDateInZone(t.date, zone), date: t.date, allDay: true, timeZone: t.timeZone ?? null };
  if (t.dateTime) return { at: parseGoogleDateTime(t.dateTime, t.timeZone ?? zone), date: null, allDay: false, timeZone: t.timeZone ?? null };
  return { at: null, date: null, allDay: false, timeZone: t.timeZone ?? null };
}

function attendeesOf(e: GoogleEvent): MirrorAttendee[] {
  return (e.attendees ?? [])
    .filter((a): a is calendar_v3.Schema$EventAttendee & { email: string } => typeof a.email === 'string')
    .map((a) => ({
      email: a.email.toLowerCase(),
      responseStatus: a.responseStatus ?? 'needsAction',
      ...(a.self ? { self: true } : {}),
      ...(a.organizer ? { organizer: true } : {}),
      ...(a.displayName ? { displayName: a.displayName } : {}),
    }));
}

/** The zone all-day dates are placed in: the calendar's, else the list's, else UTC. */
export function placementZone(calendarTimeZone: string | null | undefined): string {
  return isValidTimeZone(calendarTimeZone) ? calendarTimeZone : 'UTC';
}

export function toRow(
  e: GoogleEvent & { id: string },
  cal: Pick<Calendar, 'id' | 'ownerId'>,
  zone: string,
  generation: number,
): CalendarEventInsert {
  const start = placeTime(e.start, zone);
  const end = placeTime(e.end, zone);
  const original = e.originalStartTime ? (e.originalStartTime.dateTime ?? e.originalStartTime.date ?? null) : null;
  return {
    calendarId: cal.id,
    ownerId: cal.ownerId,
    googleEventId: e.id,
    status: e.status ?? 'confirmed',
    summary: e.summary ?? null,
    startAt: start.at,
    endAt: end.at,
    startDate: start.date,
    endDate: end.date,
    timeZone: start.timeZone ?? end.timeZone,
    allDay: start.allDay,
    transparency: e.transparency ?? 'opaque',
    eventType: e.eventType ?? 'default',
    recurrence: e.recurrence && e.recurrence.length > 0 ? e.recurrence : null,
    recurringEventId: e.recurringEventId ?? null,
    originalStartTime: original,
    organizerEmail: e.organizer?.email?.toLowerCase() ?? null,
    attendees: attendeesOf(e),
    updated: e.updated ? new Date(e.updated) : null,
    etag: e.etag ?? null,
    raw: e as unknown as Record<string, unknown>,
    syncGeneration: generation,
  };
}

/** Same Google version: Google bumps etag (and `updated`) on every change it reports. */
export function sameVersion(prev: Pick<CalendarEvent, 'etag' | 'updated' | 'status'>, next: CalendarEventInsert): boolean {
  if (prev.status !== next.status) return false;
  if (prev.etag === null || next.etag === null || next.etag === undefined) return false;
  return prev.etag === next.etag && (prev.updated?.getTime() ?? null) === (next.updated?.getTime() ?? null);
}

type RowLike = CalendarEvent | (CalendarEventInsert & { syncGeneration?: number });

export function toMirrorEvent(
  row: RowLike,
  cal: Pick<Calendar, 'id' | 'ownerId' | 'externalOwnerId' | 'googleCalendarId' | 'timeZone'>,
): MirrorEvent {
  return {
    ownerId: cal.ownerId,
    externalOwnerId: cal.externalOwnerId,
    calendarRowId: cal.id,
    calendarId: cal.googleCalendarId,
    calendarTimeZone: cal.timeZone,
    googleEventId: row.googleEventId,
    status: row.status,
    summary: row.summary ?? null,
    startAt: row.startAt ?? null,
    endAt: row.endAt ?? null,
    startDate: row.startDate ?? null,
    endDate: row.endDate ?? null,
    timeZone: row.timeZone ?? null,
    allDay: row.allDay ?? false,
    transparency: row.transparency ?? 'opaque',
    eventType: row.eventType ?? 'default',
    recurrence: row.recurrence ?? null,
    recurringEventId: row.recurringEventId ?? null,
    originalStartTime: row.originalStartTime ?? null,
    organizerEmail: row.organizerEmail ?? null,
    attendees: (row.attendees ?? []) as MirrorAttendee[],
    updated: row.updated ?? null,
    etag: row.etag ?? null,
    raw: row.raw as Record<string, unknown>,
  };
}

/**
 * What reactors get for a deletion: the last row we held, marked cancelled, with Google's
 * tombstone as `raw` (a tombstone alone carries little more than the id).
 */
export function cancelledFrom(
  tombstone: CalendarEventInsert | null,
  previous: CalendarEvent | null,
  cal: Parameters<typeof toMirrorEvent>[1],
): MirrorEvent {
  if (previous) {
    const base = toMirrorEvent(previous, cal);
    return {
      ...base,
      status: 'cancelled',
      ...(tombstone ? { raw: tombstone.raw as Record<string, unknown>, etag: tombstone.etag ?? base.etag, updated: tombstone.updated ?? base.updated } : {}),
    };
  }
  return toMirrorEvent(tombstone!, cal);
}
