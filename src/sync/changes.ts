// Change sets: what a sync changed in the mirror, handed to the reacting modules (on-call,
// bookings, availability, fan-out) inside the sync's own transaction, so that the jobs they
// enqueue commit with the rows, or not at all.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';

export interface MirrorAttendee {
  email: string;
  responseStatus: string;
  self?: boolean;
  organizer?: boolean;
  displayName?: string;
}

/** A mirror row as reactors see it (times as Dates; all-day dates as YYYY-MM-DD). */
export interface MirrorEvent {
  ownerId: string;
  externalOwnerId: string;
  /** calendars.id (our row). */
  calendarRowId: string;
  /** Google's calendar id. */
  calendarId: string;
  calendarTimeZone: string | null;
  googleEventId: string;
  status: string;
  summary: string | null;
  startAt: Date | null;
  endAt: Date | null;
  startDate: string | null;
  endDate: string | null;
  timeZone: string | null;
  allDay: boolean;
  transparency: string;
  eventType: string;
  recurrence: string[] | null;
  recurringEventId: string | null;
  originalStartTime: string | null;
  organizerEmail: string | null;
  attendees: MirrorAttendee[];
  updated: Date | null;
  etag: string | null;
  raw: Record<string, unknown>;
}

export type EventChange =
  | { kind: 'created'; event: MirrorEvent }
  | { kind: 'updated'; event: MirrorEvent; previous: MirrorEvent }
  /** `previous` is null when Google reports a deletion of an event the mirror never held. */
  | { kind: 'cancelled'; event: MirrorEvent; previous: MirrorEvent | null };

export interface ChangeSet {
  ownerId: string;
  externalOwnerId: string;
  calendarRowId: string;
  calendarId: string;
  calendarTimeZone: string | null;
  /** A full sync (first sync, or recovery from 410): `changes` covers every row it touched. */
  fullSync: boolean;
  syncedAt: Date;
  changes: EventChange[];
}

export interface CalendarChange {
  /**
   * added: a new calendar appeared in the owner's list; removed: it left the list (or Google
   * answers 404) and its events are gone; selected / deselected: `calendars.setSelected` (or the
   * default selection of the primary calendar); fullSynced: a first or recovery (410, resync) full
   * sync of the calendar just committed (channels creates the watch channel then).
   */
  kind: 'added' | 'removed' | 'selected' | 'deselected' | 'fullSynced';
  ownerId: string;
  externalOwnerId: string;
  calendarRowId: string;
  calendarId: string;
  summary: string | null;
  timeZone: string | null;
}

export type EventChangeHandler = (tx: Executor, ctx: Ctx, changeSet: ChangeSet) => Promise<void>;
export type CalendarChangeHandler = (tx: Executor, ctx: Ctx, change: CalendarChange) => Promise<void>;

const eventHandlers = new Map<string, EventChangeHandler>();
const calendarHandlers = new Map<string, CalendarChangeHandler>();

/** A reacting module registers once (by name: registering again replaces, so reloads are safe). */
export function onEventChanges(name: string, handler: EventChangeHandler): void {
  eventHandlers.set(name, handler);
}

export function onCalendarChanges(name: string, handler: CalendarChangeHandler): void {
  calendarHandlers.set(name, handler);
}

/**
 * Called by the sync inside its transaction, once the rows are written. `timings`, when given,
 * receives the milliseconds each reactor took (by its registered name), added to what it holds.
 */
export async function dispatchEventChanges(tx: Executor, ctx: Ctx, changeSet: ChangeSet, timings?: Record<string, number>): Promise<void> {
  if (changeSet.changes.length === 0) return;
  for (const [name, handler] of eventHandlers) {
    const t0 = performance.now();
    await handler(tx, ctx, changeSet);
    if (timings) timings[name] = (timings[name] ?? 0) + performance.now() - t0;
  }
}

export async function dispatchCalendarChange(tx: Executor, ctx: Ctx, change: CalendarChange): Promise<void> {
  for (const handler of calendarHandlers.values()) await handler(tx, ctx, change);
}
