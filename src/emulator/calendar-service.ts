// Event mutations shared by the Calendar API and the control API. Every change takes the next change
// sequence, lands in the calendar's change log and queues an `exists` notification on the calendar's
// channels; calendar-list changes notify the affected users' calendarList channels.
//
// Invitations: an event written on a calendar (the organizer's copy) is copied, with the same event
// id, into the calendar of every attendee the emulator knows (a calendar whose id is the attendee's
// email), as Google does ("copied to Susan and Wei as attendees", Calendar API concepts overview;
// "Inviting someone to an event puts a copy of that event on their calendar", sharing guide;
// attendee.self: "the calendar on which this copy of the event appears", discovery document). The
// organizer's changes reach every copy; an attendee removed from the list, or the organizer deleting
// the event, cancels that attendee's copy; an attendee's answer given on their copy is written on the
// organizer's event and from there reaches every copy. `privateCopy: true` ("Event propagation is
// disabled", Schema$Event) makes no copies.

import { autoDeclines } from './auto-decline.ts';
import type { Calendar } from './calendars-store.ts';
import { applyConferenceWrite, settledConference, trackPending, type ConferenceOutcome } from './conferences.ts';
import { checkEventType } from './event-types.ts';
import { conditionNotMet, deleted, duplicate, invalidValue, notFound } from './errors.ts';
import {
  attendeeCopy, cancelledEvent, changedEvent, exceptionSeed, instanceOf, newEvent, patchedEvent, replacedEvent, respondedEvent, type WriteContext,
} from './event-model.ts';
import { isValidClientEventId } from './ids.ts';
import { findOccurrence, isRecurringMaster, splitInstanceId, type Occurrence } from './recurrence.ts';
import type { EmulatorState } from './state.ts';
import type { CalEvent, JsonObject } from './types.ts';

export function eventsResourceKey(calendarId: string): string {
  return `events:${calendarId}`;
}

export function calendarListResourceKey(email: string): string {
  return `calendarList:${email}`;
}

export function commitEvent(state: EmulatorState, cal: Calendar, ev: CalEvent): CalEvent {
  const isNew = cal.events.get(ev.id) === undefined;
  cal.events.put(ev, state.nextSeq(), cal.timeZone);
  state.notifier.notify(eventsResourceKey(cal.id), ev.eventType ?? 'default');
  // An attendee's copy follows the organizer's conference: only the organizer's event has a pending request.
  if (!cal.copyOf.has(ev.id)) trackPending(state.conferences, cal, ev, (p) => settleConference(state, p.calendarId, p.eventId));
  // The invitations an out-of-office or focus-time event declines, as Google does (auto-decline.ts).
  for (const d of autoDeclines(cal, ev, isNew)) {
    cal.events.put(d, state.nextSeq(), cal.timeZone);
    state.notifier.notify(eventsResourceKey(cal.id), d.eventType ?? 'default');
    // Declined on an attendee's copy: the answer is the organizer's to see too (applied once the
    // write under way is done, so that its propagation is not overtaken by this one's).
    const originId = cal.copyOf.get(d.id);
    const mine = d.attendees?.find((a) => a.email === cal.owner);
    if (originId && mine) owedAnswers.push({ originId, id: d.id, email: cal.owner, responseStatus: 'declined', comment: mine.comment });
  }
  return ev;
}

/** Answers given on attendees' copies inside a write, still to be written on the organizers' events. */
const owedAnswers: Array<{ originId: string; id: string; email: string; responseStatus: string; comment: unknown }> = [];
let writeDepth = 0;

/** conferenceData / hangoutLink of a write (conferences.ts); a person in Google Calendar counts as version 1. */
function withConference(state: EmulatorState, prev: CalEvent | undefined, next: CalEvent, body: JsonObject, ctx: WriteContext): CalEvent {
  const version = ctx.asPerson ? 1 : (ctx.conferenceDataVersion ?? 0);
  return applyConferenceWrite(state.conferences, prev, next, body, { calendar: ctx.calendar, version });
}

/**
 * Google finishes creating a pending conference: the event's next state (new etag, in the change log, pushed).
 * False when there was nothing pending for that event.
 */
export function settleConference(state: EmulatorState, calendarId: string, eventId: string, outcome?: ConferenceOutcome): boolean {
  const cal = state.directory.calendars.get(calendarId);
  const current = cal?.events.get(eventId)?.ev;
  const fields = settledConference(state.conferences, calendarId, current, outcome);
  if (!cal || !current || !fields) return false;
  // Through write(): the settled conference reaches the attendees' copies too.
  write(state, cal, current, changedEvent(current, fields, cal));
  return true;
}

export function notifyCalendarLists(state: EmulatorState, emails: Iterable<string>): void {
  for (const e of emails) state.notifier.notify(calendarListResourceKey(e));
}

/** A stored event, or a recurring instance that only exists as an occurrence of its master. */
export type Resolved =
  | { kind: 'stored'; ev: CalEvent }
  | { kind: 'virtual'; master: CalEvent; occ: Occurrence }
  | { kind: 'none' };

export function resolveEvent(cal: Calendar, id: string): Resolved {
  const stored = cal.events.get(id);
  if (stored) return { kind: 'stored', ev: stored.ev };
  const split = splitInstanceId(id);
  if (!split) return { kind: 'none' };
  const master = cal.events.get(split.masterId)?.ev;
  if (!master || !isRecurringMaster(master)) return { kind: 'none' };
  const occ = findOccurrence(master, cal.timeZone, split.suffix);
  return occ ? { kind: 'virtual', master, occ } : { kind: 'none' };
}

/** events.get: stored events (cancelled ones too: "The get method always returns them") and instances. */
export function getEvent(cal: Calendar, id: string): CalEvent {
  const r = resolveEvent(cal, id);
  if (r.kind === 'stored') return r.ev;
  if (r.kind === 'virtual') return instanceOf(r.master, r.occ, cal.id);
  throw notFound();
}

/** If-Match: "412 if changed" (version-resources guide). Instances share their master's etag. */
function checkIfMatch(current: CalEvent, ifMatch: string | undefined): void {
  if (ifMatch === undefined || ifMatch === '*') return;
  const wanted = ifMatch.split(',').map((s) => s.trim().replace(/^W\//, ''));
  if (!wanted.includes(current.etag)) throw conditionNotMet();
}

function writable(cal: Calendar, id: string, ifMatch: string | undefined): { prev: CalEvent } {
  const r = resolveEvent(cal, id);
  if (r.kind === 'none') throw notFound();
  const prev = r.kind === 'stored' ? r.ev : exceptionSeed(r.master, r.occ, cal.id);
  checkIfMatch(r.kind === 'stored' ? r.ev : r.master, ifMatch);
  return { prev };
}

export function insertEvent(state: EmulatorState, body: JsonObject, ctx: WriteContext): CalEvent {
  let id: string | undefined;
  if (body.id !== undefined && body.id !== null) {
    if (typeof body.id !== 'string' || !isValidClientEventId(body.id)) throw invalidValue('Invalid resource id value.');
    // Ids are unique per calendar, deleted events included (their ids stay taken).
    if (ctx.calendar.events.get(body.id)) throw duplicate();
    id = body.id;
  }
  const ev = withConference(state, undefined, newEvent(body, id, ctx), body, ctx);
  checkEventType(ev, { calendar: ctx.calendar, input: body, asPerson: ctx.asPerson ?? false });
  return write(state, ctx.calendar, undefined, ev);
}

/**
 * events.patch. If-Match is NOT honoured here: Google documents conditional modification for
 * "update or delete" only ("If you want to update or delete a resource only if it has not changed
 * since you last retrieved it, you can specify an If-Match header", version-resources guide), and
 * the events.patch reference does not mention it. A client that needs the guarantee must use update.
 */
export function patchEvent(state: EmulatorState, id: string, body: JsonObject, ctx: WriteContext): CalEvent {
  const { prev } = writable(ctx.calendar, id, undefined);
  const ev = withConference(state, prev, patchedEvent(prev, body, ctx), body, ctx);
  checkEventType(ev, { calendar: ctx.calendar, input: body, prev, asPerson: ctx.asPerson ?? false });
  return write(state, ctx.calendar, prev, ev);
}

export function updateEvent(state: EmulatorState, id: string, body: JsonObject, ctx: WriteContext, ifMatch?: string): CalEvent {
  const { prev } = writable(ctx.calendar, id, ifMatch);
  const ev = withConference(state, prev, replacedEvent(prev, body, ctx), body, ctx);
  checkEventType(ev, { calendar: ctx.calendar, input: body, prev, asPerson: ctx.asPerson ?? false });
  return write(state, ctx.calendar, prev, ev);
}

/**
 * events.delete: the event becomes cancelled; deleting a series cancels its exceptions too. The
 * organizer deleting cancels the attendees' copies; an attendee deleting their copy removes only it.
 */
export function deleteEvent(state: EmulatorState, cal: Calendar, id: string, ifMatch?: string): void {
  const { prev } = writable(cal, id, ifMatch);
  if (prev.status === 'cancelled') throw deleted();
  write(state, cal, prev, cancelledEvent(prev, cal));
  if (isRecurringMaster(prev)) {
    for (const exId of cal.events.exceptionsOf(prev.id)?.values() ?? []) {
      const ex = cal.events.get(exId)?.ev;
      if (ex && ex.status !== 'cancelled') write(state, cal, ex, cancelledEvent(ex, cal));
    }
  }
}

// ---- attendees' copies ----------------------------------------------------------------------------------

/** The organizer's calendar of the copy `id` on `cal` (an instance id counts as its series'), if `cal` holds a copy. */
function organizerCalendarOf(state: EmulatorState, cal: Calendar, id: string, recurringEventId?: string): Calendar | undefined {
  const originId = cal.copyOf.get(id) ?? cal.copyOf.get(recurringEventId ?? splitInstanceId(id)?.masterId ?? '');
  if (!originId || originId === cal.id) return undefined;
  return state.directory.calendars.get(originId);
}

/** Calendars (other than the organizer's) that get a copy: those whose id is an attendee's email. */
function invitedCalendars(state: EmulatorState, origin: Calendar, ev: CalEvent | undefined): Set<string> {
  const out = new Set<string>();
  if (!ev || ev.privateCopy === true) return out;
  for (const a of ev.attendees ?? []) {
    const email = typeof a.email === 'string' ? a.email.toLowerCase() : '';
    if (email && email !== origin.id && state.directory.calendars.has(email)) out.add(email);
  }
  return out;
}

/** Brings every attendee's copy of the organizer's event `ev` (previously `prev`) in line. */
function propagate(state: EmulatorState, origin: Calendar, ev: CalEvent, prev: CalEvent | undefined): void {
  const now = ev.status === 'cancelled' ? new Set<string>() : invitedCalendars(state, origin, ev);
  const before = invitedCalendars(state, origin, prev);
  for (const calId of new Set([...now, ...before])) {
    const target = state.directory.calendars.get(calId);
    if (!target) continue;
    const existing = target.events.get(ev.id)?.ev;
    // An unrelated event of the attendee's that happens to have this id is left alone.
    if (existing && target.copyOf.get(ev.id) !== origin.id) continue;
    if (now.has(calId)) {
      target.copyOf.set(ev.id, origin.id);
      commitEvent(state, target, attendeeCopy(ev, existing, target));
    } else if (existing) {
      // Removed from the guest list, or the organizer deleted the event: the copy is cancelled.
      if (existing.status !== 'cancelled') commitEvent(state, target, cancelledEvent(existing, target));
    } else if (ev.recurringEventId && target.copyOf.get(ev.recurringEventId) === origin.id) {
      // An occurrence cancelled by the organizer: the attendee's series loses it too.
      target.copyOf.set(ev.id, origin.id);
      commitEvent(state, target, attendeeCopy({ ...ev, status: 'cancelled' }, undefined, target));
    }
  }
}

/**
 * Stores a new state of an event on `cal`. On the organizer's calendar the copies follow; on an
 * attendee's copy only the copy changes, except the attendee's own answer, which is written on the
 * organizer's event (and so reaches every copy). Returns the state stored on `cal`.
 */
function write(state: EmulatorState, cal: Calendar, prev: CalEvent | undefined, next: CalEvent): CalEvent {
  writeDepth++;
  let out: CalEvent;
  try {
    out = writeOne(state, cal, prev, next);
  } catch (err) {
    if (writeDepth === 1) owedAnswers.length = 0;
    throw err;
  } finally {
    writeDepth--;
  }
  // The outermost write settles the answers its copies owe their organizers (auto-declines), each a
  // write of its own (whose own owed answers are settled by this same loop).
  if (writeDepth === 0) {
    writeDepth++;
    try {
      for (let owed = owedAnswers.shift(); owed; owed = owedAnswers.shift()) {
        const origin = state.directory.calendars.get(owed.originId);
        if (origin) respondOn(state, origin, owed.id, owed.email, owed.responseStatus, owed.comment);
      }
    } finally {
      writeDepth--;
      owedAnswers.length = 0;
    }
  }
  return out;
}

function writeOne(state: EmulatorState, cal: Calendar, prev: CalEvent | undefined, next: CalEvent): CalEvent {
  const origin = organizerCalendarOf(state, cal, next.id, next.recurringEventId);
  if (origin) cal.copyOf.set(next.id, origin.id);
  commitEvent(state, cal, next);
  if (!origin) {
    propagate(state, cal, next, prev);
    return next;
  }
  const answer = (e: CalEvent | undefined) => e?.attendees?.find((a) => a.email === cal.id)?.responseStatus;
  const mine = answer(next);
  if (typeof mine === 'string' && mine !== answer(prev)) respondOn(state, origin, next.id, cal.id, mine);
  return cal.events.get(next.id)?.ev ?? next;
}

/**
 * `email` answers (with `comment`, when given) on the event as stored on `cal` (the organizer's
 * calendar); null if not a guest.
 */
function respondOn(state: EmulatorState, cal: Calendar, id: string, email: string, responseStatus: string, comment?: unknown): CalEvent | null {
  const r = resolveEvent(cal, id);
  if (r.kind === 'none') return null;
  const prev = r.kind === 'stored' ? r.ev : exceptionSeed(r.master, r.occ, cal.id);
  const next = respondedEvent(prev, email, responseStatus, cal);
  if (next && typeof comment === 'string') next.attendees = next.attendees?.map((a) => (a.email === email.toLowerCase() ? { ...a, comment } : a));
  return next ? write(state, cal, prev, next) : null;
}

/**
 * A person creates or replaces an event in Google Calendar (control API). Ids of occurrences of an existing
 * series become exceptions of it.
 */
export function putEventAsPerson(state: EmulatorState, cal: Calendar, id: string, body: JsonObject): { ev: CalEvent; created: boolean } {
  const ctx: WriteContext = { calendar: cal, actor: cal.owner, asPerson: true };
  const r = resolveEvent(cal, id);
  // The event-type rules hold for a person too (status events only on primary calendars, types fixed);
  // only Gmail's own fromGmail events and Calendar's birthday shapes are theirs to make.
  const checked = (ev: CalEvent, prev?: CalEvent) => {
    checkEventType(ev, { calendar: cal, input: body, asPerson: true, ...(prev ? { prev } : {}) });
    return write(state, cal, prev, ev);
  };
  if (r.kind === 'stored') return { ev: checked(withConference(state, r.ev, replacedEvent(r.ev, body, ctx), body, ctx), r.ev), created: false };
  if (r.kind === 'virtual') {
    const seed = exceptionSeed(r.master, r.occ, cal.id);
    return { ev: checked(withConference(state, seed, replacedEvent(seed, body, ctx), body, ctx), seed), created: true };
  }
  return { ev: checked(withConference(state, undefined, newEvent(body, id, ctx), body, ctx)), created: true };
}

/**
 * An attendee accepts, declines, ... (control API), on the organizer's event or on their own copy:
 * either way the answer is written on the organizer's event and shows on every copy. Returns the
 * event as stored on `cal` afterwards; null when the event has no such attendee.
 */
export function respond(state: EmulatorState, cal: Calendar, id: string, email: string, responseStatus: string): CalEvent | null {
  if (resolveEvent(cal, id).kind === 'none') throw notFound();
  const origin = organizerCalendarOf(state, cal, id) ?? cal;
  const done = respondOn(state, origin, id, email, responseStatus);
  if (!done) return null;
  return origin === cal ? done : getEvent(cal, id);
}
