// The pure core: which time a Google event (or a whole recurring series) blocks. No database, no clock.
import type { EventTime, SourceEvent } from './source-event.ts';
import { expandRecurrence, RecurrenceError } from './recurrence.ts';
import {
  DAY_MS,
  HOUR_MS,
  instantToWall,
  midnightIn,
  parseDateOnly,
  parseDateTime,
  pickTimeZone,
  wallToInstant,
} from '../time-zones/index.ts';

export interface AvailabilityPreferences {
  /** Whether tentative events (the event's status, or the owner's own answer) block time. Default false. */
  tentativeBlocks: boolean;
}

export const DEFAULT_PREFERENCES: AvailabilityPreferences = { tentativeBlocks: false };

/** Instants in ms; `end` exclusive. */
export interface BlockedTime {
  start: number;
  end: number;
  /** The Google event the time comes from: the master for an expanded occurrence, the instance for a modified one. */
  sourceEventId: string;
  /** The series slot this time fills (ms), null for a one-off event. */
  originalStart: number | null;
}

/** Which recurring occurrences to produce: those whose ORIGINAL start lies in [from, until). */
export interface Horizon {
  from: number;
  until: number;
}

// Event types that never block: a working location says where, not when busy; a birthday is a reminder
// (Google makes them all-day, yearly and transparent: Event types guide). Out of office and focus time
// block in every autoDeclineMode: the mode acts on the invitations under them, whose declines Google
// writes and the sync brings (docs/availability.md, "Event types"). Other types, fromGmail and any
// type Google adds later, follow the rules of every event.
const NEVER_BLOCKING_TYPES = new Set(['workingLocation', 'birthday']);

/** Why an event does or does not block; `tentative` ones block only when the owner prefers so. */
export function blockingOf(ev: SourceEvent): 'blocks' | 'tentative' | 'free' {
  if (ev.status === 'cancelled') return 'free';
  if (ev.transparency === 'transparent') return 'free';
  if (NEVER_BLOCKING_TYPES.has(ev.eventType)) return 'free';
  if (ev.selfResponse === 'declined') return 'free';
  // needsAction (not answered yet) blocks: only a decline frees the time (docs/architecture.md).
  if (ev.status === 'tentative' || ev.selfResponse === 'tentative') return 'tentative';
  return 'blocks';
}

export function isBlocking(ev: SourceEvent, prefs: AvailabilityPreferences): boolean {
  const b = blockingOf(ev);
  return b === 'blocks' || (b === 'tentative' && prefs.tentativeBlocks);
}

/** A timed EventDateTime as an instant: its offset, else its timeZone, else the fallback zone. */
export function instantOf(t: EventTime | null | undefined, fallbackTz: string): number | null {
  if (!t?.dateTime) return null;
  const exact = parseDateTime(t.dateTime);
  if (exact !== null) return exact;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t.dateTime);
  if (!m) return null;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  return wallToInstant(wall, pickTimeZone(t.timeZone, fallbackTz));
}

/**
 * The interval one event occupies. All-day events run from midnight to midnight in the calendar's
 * zone, so a day across a DST change lasts 23 or 25 hours. With `endTimeUnspecified` Google still
 * sends an end "for compatibility" (observed: start + 1 h); that end is used, or start + 1 h when it
 * is missing or not after the start.
 */
export function eventInterval(ev: SourceEvent, calendarTz: string): { start: number; end: number } | null {
  if (ev.start?.date) {
    const start = midnightIn(ev.start.date, calendarTz);
    if (start === null) return null;
    const endDate = ev.end?.date && parseDateOnly(ev.end.date)! > parseDateOnly(ev.start.date)! ? ev.end.date : null;
    const end = endDate ? midnightIn(endDate, calendarTz) : wallToInstant(parseDateOnly(ev.start.date)! + DAY_MS, calendarTz);
    return end === null || end <= start ? null : { start, end };
  }
  const start = instantOf(ev.start, calendarTz);
  if (start === null) return null;
  let end = instantOf(ev.end, ev.start?.timeZone ?? calendarTz);
  if (ev.endTimeUnspecified || end === null) {
    if (end === null || end <= start) end = start + HOUR_MS;
  }
  return end > start ? { start, end } : null;
}

/** Identifies a series slot: the instant of a timed original start, the date of an all-day one. */
function slotKey(t: EventTime | null, fallbackTz: string): string | null {
  if (!t) return null;
  if (t.date) return parseDateOnly(t.date) === null ? null : `D${t.date}`;
  const ms = instantOf(t, fallbackTz);
  return ms === null ? null : `T${ms}`;
}

/** The instant a slot starts at (all-day: midnight in the calendar's zone), for the horizon test. */
function slotInstant(t: EventTime | null, calendarTz: string): number | null {
  if (!t) return null;
  if (t.date) return midnightIn(t.date, calendarTz);
  return instantOf(t, calendarTz);
}

export interface SeriesOptions {
  /** Produce recurring occurrences only (the horizon moving forward: one-off events are already there). */
  recurringOnly?: boolean;
  /** Called when a master's recurrence cannot be read (the master then counts as a one-off event). */
  onRecurrenceError?: (eventId: string, err: RecurrenceError) => void;
}

/**
 * Blocked times of one event, or of one series given as all its known members (the master and its
 * modified or cancelled instances, in any order, any of them possibly missing):
 * - a one-off event blocks its own interval, whatever the horizon;
 * - a master's occurrences are expanded in the series' own zone for original starts in the horizon,
 *   minus EXDATEs; an instance replaces the occurrence of its original start (a cancelled one removes
 *   it, a modified one blocks its own interval, wherever it was moved);
 * - an instance whose master is unknown (not synced yet, or not on this calendar: an invitation to
 *   one occurrence) blocks its own interval when its original start is in the horizon;
 * - a cancelled master means the whole series is gone.
 * Each member follows the blocking rules on its own (declining one occurrence frees only that one).
 */
export function blockedTimesFor(
  events: SourceEvent | SourceEvent[],
  calendarTimeZone: string | null,
  prefs: AvailabilityPreferences,
  horizon: Horizon,
  opts: SeriesOptions = {},
): BlockedTime[] {
  const members = Array.isArray(events) ? events : [events];
  if (members.length === 0) return [];
  const calTz = pickTimeZone(calendarTimeZone);
  const seriesId = members[0]!.seriesId;
  const master = members.find((e) => e.eventId === seriesId);
  if (master?.status === 'cancelled') return [];
  const instances = members.filter((e) => e !== master);
  const out: BlockedTime[] = [];

  const inHorizon = (ms: number | null): ms is number => ms !== null && ms >= horizon.from && ms < horizon.until;

  // Instances: each replaces its slot; its own interval counts when its original start is in the horizon.
  const replaced = new Set<string>();
  for (const inst of instances) {
    const key = slotKey(inst.originalStart, calTz);
    if (key) replaced.add(key);
    const origin = slotInstant(inst.originalStart, calTz) ?? slotInstant(inst.start, calTz);
    if (!inHorizon(origin) || !isBlocking(inst, prefs)) continue;
    const iv = eventInterval(inst, calTz);
    if (iv) out.push({ ...iv, sourceEventId: inst.eventId, originalStart: origin });
  }

  if (master) {
    let expanded = false;
    if (master.recurrence && master.recurrence.length > 0) {
      try {
        expandMaster(master, calTz, prefs, horizon, replaced, out);
        expanded = true;
      } catch (err) {
        if (!(err instanceof RecurrenceError)) throw err;
        opts.onRecurrenceError?.(master.eventId, err);
      }
    }
    if (!expanded && !opts.recurringOnly && isBlocking(master, prefs)) {
      const iv = eventInterval(master, calTz);
      if (iv) out.push({ ...iv, sourceEventId: master.eventId, originalStart: null });
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

function expandMaster(
  master: SourceEvent,
  calTz: string,
  prefs: AvailabilityPreferences,
  horizon: Horizon,
  replaced: Set<string>,
  out: BlockedTime[],
): void {
  // A master that does not block yields nothing (its instances were handled on their own).
  if (!isBlocking(master, prefs)) return;
  if (master.start?.date) {
    // All-day series: the rules are read on dates; each day is midnight-to-midnight in the calendar's zone.
    const first = parseDateOnly(master.start.date);
    if (first === null) throw new RecurrenceError(`bad start date ${master.start.date}`);
    const last = parseDateOnly(master.end?.date);
    const days = last !== null && last > first ? Math.round((last - first) / DAY_MS) : 1;
    const walls = expandRecurrence(
      master.recurrence!,
      { allDay: true, timeZone: calTz, dtstartWall: first },
      Math.floor(instantToWall(horizon.from, calTz) / DAY_MS) * DAY_MS - DAY_MS,
      instantToWall(horizon.until, calTz) + DAY_MS,
    );
    for (const w of walls) {
      const start = wallToInstant(w, calTz);
      if (start < horizon.from || start >= horizon.until) continue;
      if (replaced.has(`D${new Date(w).toISOString().slice(0, 10)}`)) continue;
      out.push({ start, end: wallToInstant(w + days * DAY_MS, calTz), sourceEventId: master.eventId, originalStart: start });
    }
    return;
  }
  const seriesTz = pickTimeZone(master.start?.timeZone, calTz);
  const start = instantOf(master.start, seriesTz);
  if (start === null) throw new RecurrenceError('series without a start');
  const iv = eventInterval(master, seriesTz);
  // RFC 5545 §3.8.5.3: every occurrence lasts the exact duration of the first one.
  const duration = iv ? iv.end - iv.start : 0;
  const walls = expandRecurrence(
    master.recurrence!,
    { allDay: false, timeZone: seriesTz, dtstartWall: instantToWall(start, seriesTz) },
    instantToWall(horizon.from, seriesTz) - DAY_MS,
    instantToWall(horizon.until, seriesTz) + DAY_MS,
  );
  if (duration <= 0) return;
  for (const w of walls) {
    const s = wallToInstant(w, seriesTz);
    if (s < horizon.from || s >= horizon.until || replaced.has(`T${s}`)) continue;
    out.push({ start: s, end: s + duration, sourceEventId: master.eventId, originalStart: s });
  }
}
