// What availability keeps of one Google event: only what decides whether and when it blocks time,
// never its title, description, location or attendee list (no private details leave the mirror:
// docs/architecture.md).
import type { MirrorEvent } from '../context/index.ts';

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
  /** The owner's own answer (see `ownerResponse`), null when neither the owner nor the calendar is a guest. */
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

type AttendeeShape = NonNullable<GoogleEventShape['attendees']>[number];

/**
 * Whose answer decides whether an event blocks the owner's time. `self` marks the entry of the
 * calendar this copy of the event is on, not the reader (Schema$EventAttendee.self: "Whether this
 * entry represents the calendar on which this copy of the event appears", discovery document):
 * on the owner's primary calendar that is the owner; on a secondary calendar (the owner's own or
 * one shared with them) it is that calendar's entry, if the calendar itself was invited. So:
 * the owner's own entry (their Google address) counts first, on every calendar; failing that the
 * calendar's entry (`self`); failing both, null (the event blocks by its status and transparency).
 * `ownerEmail` null: only `self` is known (it is the owner's entry on their primary calendar).
 */
export function ownerResponse(attendees: readonly AttendeeShape[] | null | undefined, ownerEmail: string | null): string | null {
  if (!attendees) return null;
  const owner = ownerEmail ? ownerEmail.toLowerCase() : null;
  const mine = owner ? attendees.find((a) => (a.email ?? '').toLowerCase() === owner) : undefined;
  const self = attendees.find((a) => a.self === true);
  return (mine ?? self)?.responseStatus ?? null;
}

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
  return {
    eventId,
    seriesId: recurringEventId ?? eventId,
    status,
    transparency: ev.transparency ?? 'opaque',
    eventType: ev.eventType ?? 'default',
    selfResponse: ownerResponse(ev.attendees, null),
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
 * carries status 'cancelled' over the raw resource it last had). `ownerEmail`: the owner's Google
 * address, whose answer counts on every calendar (`ownerResponse`).
 */
export function sourceFromMirrorEvent(ev: MirrorEvent, ownerEmail: string | null = null): SourceEvent {
  const raw = (ev.raw ?? {}) as GoogleEventShape;
  const timed = (at: Date | null, tz: string | null): EventTime | null =>
    at ? { dateTime: at.toISOString(), ...(tz ? { timeZone: tz } : {}) } : null;
  const fallbackStart = ev.allDay ? (ev.startDate ? { date: ev.startDate } : null) : timed(ev.startAt, ev.timeZone);
  const fallbackEnd = ev.allDay ? (ev.endDate ? { date: ev.endDate } : null) : timed(ev.endAt, ev.timeZone);
  let original: EventTime | null = raw.originalStartTime ?? null;
  if (!original && ev.originalStartTime) {
    original = /^\d{4}-\d{2}-\d{2}$/.test(ev.originalStartTime) ? { date: ev.originalStartTime } : { dateTime: ev.originalStartTime };
  }
  const attendees = raw.attendees ?? ev.attendees;
  const source = sourceFromGoogleEvent({
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
    attendees,
  });
  return { ...source, selfResponse: ownerResponse(attendees, ownerEmail) };
}
