// What Google allows per eventType on insert, patch and update (Event types guide,
// https://developers.google.com/workspace/calendar/api/guides/event-types, "Last updated 2026-04-01";
// Schema$Event.eventType in the discovery document: "This cannot be modified after the event is created").
//
// - focusTime, outOfOffice, workingLocation: "These features are only available on primary calendars"
//   (Event types guide; Status events guide, calendar-status).
// - fromGmail: "Google Calendar API doesn't allow creating this event type using the insert method"
//   (a person's Gmail creates them: the control API may).
// - birthday: insert only as "an all-day event which spans exactly one day", visibility 'private',
//   transparency 'transparent', recurrence 'RRULE:FREQ=YEARLY' (29 February:
//   'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1'), optionally colorId, summary, reminders and
//   birthdayProperties of type 'birthday' without customTypeName or contact; "Cannot have any other
//   event properties". Patch and update may change colorId, summary, reminders and the (one) day.
//
// Error bodies: reason `eventTypeRestriction` (domain calendar) with "Attempt made to modify 'birthday'
// event in a way that is not valid for this event type." and extendedHelp to the guide's #birthday is a
// captured answer (public repository tests quoting Google's response to a birthday patch); "Event type
// cannot be changed." is quoted from another. The wording of the other refusals is UNVERIFIED: they
// follow the same reason and form.

import type { Calendar } from './calendars-store.ts';
import { GoogleApiError } from './errors.ts';
import type { CalEvent, JsonObject } from './types.ts';

const GUIDE = 'https://developers.google.com/workspace/calendar/api/guides/event-types';

/** The values of Schema$Event.eventType (discovery document). */
const EVENT_TYPES: ReadonlySet<string> = new Set(['default', 'birthday', 'focusTime', 'fromGmail', 'outOfOffice', 'workingLocation']);
const PRIMARY_ONLY: ReadonlySet<string> = new Set(['focusTime', 'outOfOffice', 'workingLocation']);

/** Fields a birthday insert may carry (besides server-owned ones, which are ignored on every insert). */
const BIRTHDAY_INSERT_FIELDS: ReadonlySet<string> = new Set([
  'eventType', 'start', 'end', 'visibility', 'transparency', 'recurrence', 'colorId', 'summary', 'reminders', 'birthdayProperties',
]);
/** Fields a birthday patch or update may change. */
const BIRTHDAY_MUTABLE_FIELDS: ReadonlySet<string> = new Set(['colorId', 'summary', 'reminders', 'start', 'end']);
/** Stamped by the server on every write: not the client's change. */
const SERVER_FIELDS: ReadonlySet<string> = new Set(['kind', 'etag', 'id', 'htmlLink', 'created', 'updated', 'creator', 'organizer', 'sequence', 'iCalUID']);
/** 400 eventTypeRestriction; `extendedHelp` only where a capture shows it (the birthday refusal). */
function restriction(message: string, help?: string): GoogleApiError {
  return new GoogleApiError(400, { domain: 'calendar', reason: 'eventTypeRestriction', message, ...(help ? { extendedHelp: help } : {}) });
}

const typeOf = (ev: { eventType?: unknown }): string => (typeof ev.eventType === 'string' ? ev.eventType : 'default');

function isOneAllDay(ev: CalEvent): boolean {
  const s = ev.start?.date;
  const e = ev.end?.date;
  if (typeof s !== 'string' || typeof e !== 'string' || ev.start?.dateTime || ev.end?.dateTime) return false;
  return Date.parse(`${e}T00:00:00Z`) - Date.parse(`${s}T00:00:00Z`) === 86_400_000;
}

function checkBirthdayInsert(input: JsonObject, ev: CalEvent): void {
  const bad = (what: string) => restriction(`Attempt made to create 'birthday' event in a way that is not valid for this event type: ${what}.`, `${GUIDE}#birthday`);
  for (const k of Object.keys(input)) if (!SERVER_FIELDS.has(k) && !BIRTHDAY_INSERT_FIELDS.has(k) && input[k] !== null) throw bad(`${k} is not allowed`);
  if (!isOneAllDay(ev)) throw bad('start and end must define an all-day event which spans exactly one day');
  if (ev.visibility !== 'private') throw bad("visibility must be 'private'");
  if (ev.transparency !== 'transparent') throw bad("transparency must be 'transparent'");
  const leapDay = ev.start?.date?.endsWith('-02-29') ?? false;
  const rule = Array.isArray(ev.recurrence) && ev.recurrence.length === 1 ? ev.recurrence[0] : undefined;
  const wanted = leapDay ? 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1' : 'RRULE:FREQ=YEARLY';
  if (rule !== wanted) throw bad(`recurrence must be '${wanted}'`);
  const props = ev.birthdayProperties as JsonObject | undefined;
  if (props !== undefined) {
    if ((props.type ?? 'birthday') !== 'birthday' || props.customTypeName || props.contact) throw bad("birthdayProperties must be of type 'birthday', without customTypeName or contact");
  }
}

function checkBirthdayChange(prev: CalEvent, next: CalEvent): void {
  const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
  for (const k of keys) {
    if (SERVER_FIELDS.has(k) || BIRTHDAY_MUTABLE_FIELDS.has(k) || k === 'eventType') continue;
    if (JSON.stringify(prev[k]) !== JSON.stringify(next[k])) {
      throw restriction("Attempt made to modify 'birthday' event in a way that is not valid for this event type.", `${GUIDE}#birthday`);
    }
  }
  if (JSON.stringify(prev.start) !== JSON.stringify(next.start) || JSON.stringify(prev.end) !== JSON.stringify(next.end)) {
    if (!isOneAllDay(next)) throw restriction("Attempt made to modify 'birthday' event in a way that is not valid for this event type.", `${GUIDE}#birthday`);
  }
}

export interface TypeCheck {
  calendar: Calendar;
  /** The client's body as sent. */
  input: JsonObject;
  /** The stored event a patch or update changes (an instance's seed for an occurrence), absent on insert. */
  prev?: CalEvent;
  /** A person in Google Calendar (control API) rather than an API client: Gmail may create fromGmail events. */
  asPerson: boolean;
}

/**
 * Refuses, as Google does, a write this event type does not allow. On patch and update the stored
 * type is kept when the body names none (the type is immutable). Throws GoogleApiError 400.
 */
export function checkEventType(next: CalEvent, c: TypeCheck): void {
  if (c.input.eventType !== undefined && c.input.eventType !== null) {
    if (typeof c.input.eventType !== 'string' || !EVENT_TYPES.has(c.input.eventType)) {
      throw new GoogleApiError(400, { domain: 'global', reason: 'invalid', message: `Invalid value for eventType: ${String(c.input.eventType)}` });
    }
  }
  if (c.prev) {
    const before = typeOf(c.prev);
    if (c.input.eventType === undefined || c.input.eventType === null) next.eventType = before;
    else if (c.input.eventType !== before) throw restriction('Event type cannot be changed.');
    if (before === 'birthday' && !c.asPerson) checkBirthdayChange(c.prev, next);
    return;
  }
  const type = typeOf(next);
  if (PRIMARY_ONLY.has(type) && c.calendar.id !== c.calendar.owner) {
    throw restriction(`Attempt made to create '${type}' event on a calendar that is not a primary calendar: this event type is only available on primary calendars.`);
  }
  if (type === 'fromGmail' && !c.asPerson) throw restriction("Attempt made to create 'fromGmail' event: this event type cannot be created.");
  if (type === 'birthday' && !c.asPerson) checkBirthdayInsert(c.input, next);
}
