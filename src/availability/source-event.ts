// What availability keeps of one Google event: only what decides whether and when it blocks time,
// never its title, description, location or attendee list (issue 9: no private details leave the mirror).
import type { MirrorEvent } from '../sync/index.ts';

/** Google's EventDateTime: `date` for all-day (end exclusive), `dateTime` with offset otherwise. */
export interface EventTime {
  date?: string | null;
  dateTime?: string | null;
  timeZone?: string | null;
}

/** The fields of a Google event resource (calendar_v3.Schema$Event) that availability reads. */
export interface GoogleEventShape {
  id?: string | null;
  status?: string | null;
  transparency?: string | null;
  visibility?: string | null;
  eventType?: string | null;
  start?: EventTime | null;
  end?: EventTime | null;
  endTimeUnspecified?: boolean | null;
  recurrence?: string[] | null;
  recurringEventId?: string | null;
  originalStartTime?: EventTime | null;
  attendees?: Array<{ email?: string | null; self?: boolean | null; responseStatus?: string | null }> | null;
}

export interface SourceEvent {
  eventId: string;
  /** The master's id for a series (master and instances alike); the event's own id otherwise. */
  seriesId: string;
  status: string;
  transparency: string;
  eventType: string;
  /** The owner's own answer (the attendee marked `self`), null when the owner is not an attendee. */
  selfResponse: string | null;
  start: EventTime | null;
  end: EventTime | null;
  endTimeUnspecified: boolean;
  /** Master of a series: its RRULE / EXRULE / RDATE / EXDATE lines. */
  recurrence: string[] | null;
  /** Instance of a series (modified or cancelled): the slot of the series it replaces. */
  originalStart: EventTime | null;
  /** Google's visibility (default | public | private | confidential); read only by busy's explain. */
  visibility?: string | null;
}

/** "<masterId>_<YYYYMMDD[THHMMSSZ]>": Google's instance ids carry the original start (FACTS §2, observed). */
const INSTANCE_ID = /^(.+)_(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/;

export function splitInstanceId(id: string): { masterId: string; originalStart: EventTime } | null {
  const m = INSTANCE_ID.exec(id);
  if (!m) return null;
  const date = `${m[2]}-${m[3]}-${m[4]}`;
  return {
    masterId: m[1]!,
    originalStart: m[5] === undefined ? { date } : { dateTime: `${date}T${m[5]}:${m[6]}:${m[7]}Z` },
  };
}

const clean = (t: EventTime | null | undefined): EventTime | null => {
  if (!t) return null;
  const out: EventTime = {};
  if (t.date) out.date = t.date;
  if (t.dateTime) out.dateTime = t.dateTime;
  if (t.timeZone) out.timeZone = t.timeZone;
  return out.date || out.dateTime ? out : null;
};

/**
 * A Google event resource -> what availability keeps. A cancelled instance may come as a bare
 * tombstone `{id, status}` (observed): its series and original start are then read from its id.
 */
export function sourceFromGoogleEvent(ev: GoogleEventShape): SourceEvent {
  const eventId = ev.id ?? '';
  const status = ev.status ?? 'confirmed';
  let recurringEventId = ev.recurringEventId ?? null;
  let originalStart = clean(ev.originalStartTime);
  const recurrence = ev.recurrence && ev.recurrence.length > 0 ? [...ev.recurrence] : null;
  if (!recurrence && (!recurringEventId || !originalStart)) {
    const parsed = splitInstanceId(eventId);
    if (parsed && (recurringEventId === null || recurringEventId === parsed.masterId)) {
      // Only a cancelled tombstone lacks recurringEventId; for any other event the id is just an id.
      if (recurringEventId !== null || status === 'cancelled') {
        recurringEventId = parsed.masterId;
        originalStart ??= parsed.originalStart;
      }
    }
  }
  const self = ev.attendees?.find((a) => a.self === true);
  return {
    eventId,
    seriesId: recurringEventId ?? eventId,
    status,
    transparency: ev.transparency ?? 'opaque',
    eventType: ev.eventType ?? 'default',
    selfResponse: self?.responseStatus ?? null,
    start: clean(ev.start),
    end: clean(ev.end),
    endTimeUnspecified: ev.endTimeUnspecified === true,
    recurrence: recurringEventId ? null : recurrence,
    originalStart: recurringEventId ? originalStart : null,
    visibility: ev.visibility ?? 'default',
  };
}

/**
 * The mirror row as a Google-shaped event: its raw resource first, the typed columns as fallback,
 * except the status: the mirror's says whether the event still exists (a row the sync removed
 * carries status 'cancelled' over the raw resource it last had).
 */
export function sourceFromMirrorEvent(ev: MirrorEvent): SourceEvent {
  const raw = (ev.raw ?? {}) as GoogleEventShape;
  const timed = (at: Date | null, tz: string | null): EventTime | null =>
    at ? { dateTime: at.toISOString(), ...(tz ? { timeZone: tz } : {}) } : null;
  const fallbackStart = ev.allDay ? (ev.startDate ? { date: ev.startDate } : null) : timed(ev.startAt, ev.timeZone);
  const fallbackEnd = ev.allDay ? (ev.endDate ? { date: ev.endDate } : null) : timed(ev.endAt, ev.timeZone);
  let original: EventTime | null = raw.originalStartTime ?? null;
  if (!original && ev.originalStartTime) {
    original = /^\d{4}-\d{2}-\d{2}$/.test(ev.originalStartTime) ? { date: ev.originalStartTime } : { dateTime: ev.originalStartTime };
  }
  return sourceFromGoogleEvent({
    id: ev.googleEventId,
    status: ev.status || raw.status,
    transparency: raw.transparency ?? ev.transparency,
    visibility: raw.visibility,
    eventType: raw.eventType ?? ev.eventType,
    start: raw.start ?? fallbackStart,
    end: raw.end ?? fallbackEnd,
    endTimeUnspecified: raw.endTimeUnspecified ?? false,
    recurrence: raw.recurrence ?? ev.recurrence,
    recurringEventId: raw.recurringEventId ?? ev.recurringEventId,
    originalStartTime: original,
    attendees: raw.attendees ?? ev.attendees,
  });
}
