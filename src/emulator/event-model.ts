// Building, validating and rendering event resources (Schema$Event in the Calendar v3 discovery document).

import type { Calendar } from './calendars-store.ts';
import { GoogleApiError, invalidValue, required } from './errors.ts';
import { htmlLinkFor, newEventEtag, newEventId } from './ids.ts';
import { RecurrenceError, compileSeries, isRecurringMaster, type Occurrence } from './recurrence.ts';
import { attendeesAfterChange } from './rsvp-reset.ts';
import { dateToInstant, isValidTimeZone, parseDate, parseDateTime, utcCompact } from './time.ts';
import { isObject, type Attendee, type CalEvent, type EventDateTime, type EventPerson, type EventStatus, type JsonObject } from './types.ts';

/** Fields the server owns; clients' values are ignored on insert, patch and update. */
const SERVER_FIELDS = new Set(['kind', 'etag', 'id', 'htmlLink', 'created', 'updated', 'creator', 'organizer', 'sequence']);
/** Fields fixed for the life of a recurring-instance exception ("immutable" in Schema$Event). */
const INSTANCE_FIELDS = new Set(['recurringEventId', 'originalStartTime']);

const STATUSES: ReadonlySet<string> = new Set(['confirmed', 'tentative', 'cancelled']);
const RESPONSES: ReadonlySet<string> = new Set(['needsAction', 'declined', 'tentative', 'accepted']);

export function isResponseStatus(s: string): boolean {
  return RESPONSES.has(s);
}

/** Organizer of events created on a calendar: its owner for a primary calendar, the calendar itself otherwise. */
export function defaultOrganizer(cal: Calendar): EventPerson {
  return cal.id === cal.owner ? { email: cal.owner } : { email: cal.id, displayName: cal.summary };
}

function invalid(message: string): GoogleApiError {
  return new GoogleApiError(400, { domain: 'global', reason: 'invalid', message });
}

function checkDateTime(dt: EventDateTime, which: 'start' | 'end', calTz: string): number {
  if (dt.timeZone !== undefined && (typeof dt.timeZone !== 'string' || !isValidTimeZone(dt.timeZone))) {
    throw invalid(`Invalid time zone definition for ${which} time.`);
  }
  if (dt.date !== undefined && dt.date !== null) {
    if (typeof dt.date !== 'string' || !parseDate(dt.date)) throw invalid(`Invalid ${which} time.`);
    return dateToInstant(dt.date, dt.timeZone ?? calTz) ?? 0;
  }
  if (typeof dt.dateTime !== 'string') throw required(`Missing ${which} time.`);
  // "A time zone offset is required unless a time zone is explicitly specified in timeZone" (EventDateTime).
  const ms = parseDateTime(dt.dateTime, dt.timeZone);
  if (ms === null) throw invalid(`Invalid ${which} time.`);
  return ms;
}

/** Validates the time fields Google checks on write. Throws GoogleApiError. */
export function validateEvent(ev: CalEvent, calTz: string): void {
  if (!STATUSES.has(ev.status)) throw invalidValue();
  // Cancelled instance exceptions need no times: they only mark an occurrence as removed.
  if (ev.status === 'cancelled' && ev.recurringEventId) return;
  if (!isObject(ev.start)) throw required('Missing start time.');
  if (!isObject(ev.end)) throw required('Missing end time.');
  const allDayStart = ev.start.date !== undefined && ev.start.date !== null;
  const allDayEnd = ev.end.date !== undefined && ev.end.date !== null;
  if (allDayStart !== allDayEnd) throw invalid('Start and end times must either both be date or both be dateTime.');
  const s = checkDateTime(ev.start, 'start', calTz);
  const e = checkDateTime(ev.end, 'end', calTz);
  if (e < s) throw new GoogleApiError(400, { domain: 'calendar', reason: 'timeRangeEmpty', message: 'The specified time range is empty.' });
  if (ev.recurrence !== undefined) {
    if (!Array.isArray(ev.recurrence) || ev.recurrence.some((l) => typeof l !== 'string')) throw invalid('Invalid recurrence rule.');
    if (ev.recurrence.length > 0) {
      // Schema$EventDateTime.timeZone: "For recurring events this field is required".
      if (!allDayStart && !ev.start.timeZone) throw required('Missing time zone definition for start time.');
      try {
        compileSeries(ev, calTz);
      } catch (err) {
        if (err instanceof RecurrenceError) throw invalid('Invalid recurrence rule.');
        throw err;
      }
    }
  }
  if (ev.attendees !== undefined) {
    if (!Array.isArray(ev.attendees)) throw invalidValue();
    for (const a of ev.attendees) {
      if (!isObject(a) || typeof a.email !== 'string' || a.email === '') throw required('Missing attendee email.');
      if (a.responseStatus !== undefined && !RESPONSES.has(String(a.responseStatus))) throw invalidValue();
    }
  }
}

function normalizeAttendees(list: Attendee[] | undefined, organizerEmail: string | undefined): Attendee[] | undefined {
  if (!list) return undefined;
  return list.map((a) => {
    const out: Attendee = { ...a, email: String(a.email).toLowerCase() };
    delete out.self;
    delete out.organizer;
    if (out.email === organizerEmail) {
      out.organizer = true;
      // Google marks the organizer's own attendee entry as accepted.
      out.responseStatus ??= 'accepted';
    }
    out.responseStatus ??= 'needsAction';
    return out;
  });
}

function clientFields(input: JsonObject, keepInstanceFields: boolean): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(input)) {
    if (SERVER_FIELDS.has(k)) continue;
    if (!keepInstanceFields && INSTANCE_FIELDS.has(k)) continue;
    if (v === null) continue;
    out[k] = v;
  }
  return out;
}

export interface WriteContext {
  calendar: Calendar;
  /** Who makes the change (creator of new events). */
  actor: string;
  /** Set on control-API writes: a person in Google Calendar may set anything, e.g. an external organizer. */
  asPerson?: boolean;
  /** The request's conferenceDataVersion parameter (conferences.ts). */
  conferenceDataVersion?: number;
}

function firstInstanceSuffix(ev: CalEvent, calTz: string): string | null {
  if (ev.start?.date) return ev.start.date.replaceAll('-', '');
  if (ev.start?.dateTime) {
    const ms = parseDateTime(ev.start.dateTime, ev.start.timeZone ?? calTz);
    return ms === null ? null : utcCompact(ms);
  }
  return null;
}

/** Sets the server-owned fields of a new state of an event. */
function stamp(ev: CalEvent, calendar: Calendar, prev: CalEvent | undefined): CalEvent {
  const now = new Date().toISOString();
  ev.kind = 'calendar#event';
  ev.etag = newEventEtag();
  ev.updated = now;
  ev.created = prev?.created ?? now;
  ev.iCalUID = prev?.iCalUID ?? (typeof ev.iCalUID === 'string' && ev.iCalUID ? ev.iCalUID : `${ev.id}@google.com`);
  let sequence = prev?.sequence ?? (typeof ev.sequence === 'number' ? ev.sequence : 0);
  if (prev && ['start', 'end', 'recurrence', 'location'].some((k) => JSON.stringify(prev[k]) !== JSON.stringify(ev[k]))) sequence++;
  ev.sequence = sequence;
  // A master's link points at its first instance (observed: "<id>_20250209T140000Z <calendar>").
  const suffix = isRecurringMaster(ev) ? firstInstanceSuffix(ev, calendar.timeZone) : null;
  ev.htmlLink = htmlLinkFor(suffix ? `${ev.id}_${suffix}` : ev.id, calendar.id);
  ev.attendees = normalizeAttendees(ev.attendees, ev.organizer?.email);
  // A new start or recurrence asks the guests again (rsvp-reset.ts).
  if (prev && ev.attendees) ev.attendees = attendeesAfterChange(prev, ev);
  if (ev.attendees === undefined) delete ev.attendees;
  ev.eventType ??= 'default';
  return ev;
}

/** A brand-new event from a client body (events.insert, or a person creating it). */
export function newEvent(input: JsonObject, id: string | undefined, ctx: WriteContext): CalEvent {
  const fields = clientFields(input, ctx.asPerson ?? false);
  const ev: CalEvent = {
    ...fields,
    kind: 'calendar#event',
    etag: '',
    id: id ?? newEventId(),
    status: (typeof fields.status === 'string' ? fields.status : 'confirmed') as EventStatus,
    creator: { email: ctx.actor },
    organizer: ctx.asPerson && isObject(input.organizer) ? (input.organizer as EventPerson) : defaultOrganizer(ctx.calendar),
  };
  validateEvent(ev, ctx.calendar.timeZone);
  return stamp(ev, ctx.calendar, undefined);
}

/** events.patch: top-level fields in the body replace the stored ones, null clears one. */
export function patchedEvent(prev: CalEvent, input: JsonObject, ctx: WriteContext): CalEvent {
  const ev: CalEvent = { ...prev };
  for (const [k, v] of Object.entries(input)) {
    if (SERVER_FIELDS.has(k) || INSTANCE_FIELDS.has(k)) continue;
    if (v === null) delete ev[k];
    else ev[k] = v;
  }
  if (typeof input.status !== 'string') ev.status = prev.status;
  validateEvent(ev, ctx.calendar.timeZone);
  return stamp(ev, ctx.calendar, prev);
}

/** events.update (and a person's edit): the body replaces every writable field. */
export function replacedEvent(prev: CalEvent, input: JsonObject, ctx: WriteContext): CalEvent {
  const fields = clientFields(input, false);
  const ev: CalEvent = {
    ...fields,
    kind: 'calendar#event',
    etag: prev.etag,
    id: prev.id,
    status: (typeof fields.status === 'string' ? fields.status : 'confirmed') as EventStatus,
    created: prev.created,
    iCalUID: prev.iCalUID,
    sequence: prev.sequence,
  };
  if (prev.creator) ev.creator = prev.creator;
  ev.organizer = ctx.asPerson && isObject(input.organizer) ? (input.organizer as EventPerson) : prev.organizer;
  if (prev.recurringEventId) {
    ev.recurringEventId = prev.recurringEventId;
    ev.originalStartTime = prev.originalStartTime;
  }
  validateEvent(ev, ctx.calendar.timeZone);
  return stamp(ev, ctx.calendar, prev);
}

/** The same event marked cancelled (events.delete keeps the organizer's copy; FACTS §2). */
export function cancelledEvent(prev: CalEvent, calendar: Calendar): CalEvent {
  return stamp({ ...prev, status: 'cancelled' }, calendar, prev);
}

/** The same event with some fields set by Google itself (e.g. a conference created asynchronously). */
export function changedEvent(prev: CalEvent, fields: Partial<CalEvent>, calendar: Calendar): CalEvent {
  return stamp({ ...prev, ...fields } as CalEvent, calendar, prev);
}

/** A changed attendee response (a person accepting or declining). */
export function respondedEvent(prev: CalEvent, email: string, responseStatus: string, calendar: Calendar): CalEvent | null {
  const attendees = prev.attendees ?? [];
  const idx = attendees.findIndex((a) => a.email === email.toLowerCase());
  if (idx < 0) return null;
  const next = attendees.map((a, i) => (i === idx ? { ...a, responseStatus } : a));
  return stamp({ ...prev, attendees: next }, calendar, prev);
}

/**
 * The organizer's event as it appears on an attendee's calendar: same id and iCalUID ("The team
 * offsite ... has the team calendar as an organizer ... and copied to Susan and Wei as attendees",
 * Calendar API concepts overview; "Inviting someone to an event puts a copy of that event on their
 * calendar", sharing guide), its own etag and htmlLink. What is private to each copy stays the
 * copy's own: `extendedProperties.private` ("Properties that are private to the copy of the event
 * that appears on this calendar"; `shared` are "shared between copies of the event on other
 * attendees' calendars") and `reminders` ("the event's reminders for the authenticated user")
 * (discovery document, Schema$Event), and `colorId` (the invitee may "modify their copy of the
 * event---for example, by adding a reminder on their calendar or assigning a label", sharing guide).
 */
export function attendeeCopy(organizers: CalEvent, existing: CalEvent | undefined, calendar: Calendar): CalEvent {
  const ev: CalEvent = { ...organizers };
  const shared = organizers.extendedProperties?.shared;
  const own = existing?.extendedProperties?.private;
  delete ev.extendedProperties;
  if (shared || own) ev.extendedProperties = { ...(shared ? { shared: { ...shared } } : {}), ...(own ? { private: { ...own } } : {}) };
  for (const own of ['reminders', 'colorId'] as const) {
    delete ev[own];
    if (existing?.[own] !== undefined) ev[own] = existing[own];
  }
  const out = stamp(ev, calendar, existing);
  // The copy follows the organizer's sequence (one iCalendar SEQUENCE per event, RFC 5545).
  out.sequence = organizers.sequence ?? 0;
  out.created = existing?.created ?? organizers.created ?? out.created;
  out.iCalUID = organizers.iCalUID ?? out.iCalUID;
  return out;
}

/** A materialised instance of a master, as events.list(singleEvents=true) and events.instances return it. */
export function instanceOf(master: CalEvent, occ: Occurrence, calendarId: string, status?: EventStatus): CalEvent {
  const inst: CalEvent = { ...master, id: `${master.id}_${occ.suffix}` };
  delete inst.recurrence;
  inst.start = occ.start;
  inst.end = occ.end;
  inst.recurringEventId = master.id;
  inst.originalStartTime = occ.originalStartTime;
  inst.htmlLink = htmlLinkFor(inst.id, calendarId);
  if (status) inst.status = status;
  return inst;
}

/** An exception materialised from an occurrence so that it can be patched, updated or cancelled. */
export function exceptionSeed(master: CalEvent, occ: Occurrence, calendarId: string): CalEvent {
  return instanceOf(master, occ, calendarId);
}

/**
 * Google's minimal form of a deleted event: "{kind, etag, id, status}" for a deleted event, plus
 * recurringEventId and originalStartTime for a cancelled instance (observed in incremental sync).
 */
export function tombstone(ev: CalEvent): JsonObject {
  const t: JsonObject = { kind: 'calendar#event', etag: ev.etag, id: ev.id, status: 'cancelled' };
  if (ev.recurringEventId) {
    t.recurringEventId = ev.recurringEventId;
    if (ev.originalStartTime) t.originalStartTime = ev.originalStartTime;
  }
  return t;
}

const ORDER = [
  'kind', 'etag', 'id', 'status', 'htmlLink', 'created', 'updated', 'summary', 'description', 'location', 'colorId',
  'creator', 'organizer', 'start', 'end', 'endTimeUnspecified', 'recurrence', 'recurringEventId', 'originalStartTime',
  'transparency', 'visibility', 'iCalUID', 'sequence', 'attendees',
];

function withSelf(p: EventPerson | undefined, calendarId: string): EventPerson | undefined {
  if (!p) return p;
  const out: EventPerson = { ...p };
  delete out.self;
  if (p.email && p.email.toLowerCase() === calendarId.toLowerCase()) out.self = true;
  return out;
}

/**
 * An event as the API returns it from calendar `calendarId`. `self` marks the entry of the calendar
 * the copy is on, never the reader: Schema$EventAttendee.self is "Whether this entry represents the
 * calendar on which this copy of the event appears" (discovery document; creator.self and
 * organizer.self in the events reference say the same). A user reading a colleague's calendar sees
 * the colleague's entry marked, not their own. `_viewer` is kept for the callers' sake.
 */
export function renderEvent(ev: CalEvent, _viewer: string, calendarId: string): JsonObject {
  const src: JsonObject = { ...ev };
  src.creator = withSelf(ev.creator, calendarId);
  src.organizer = withSelf(ev.organizer, calendarId);
  if (ev.attendees) src.attendees = ev.attendees.map((a) => withSelf(a, calendarId));
  const out: JsonObject = {};
  for (const k of ORDER) if (src[k] !== undefined) out[k] = src[k];
  for (const [k, v] of Object.entries(src)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}
