// Event mutations shared by the Calendar API and the control API. Every change takes the next change
// sequence, lands in the calendar's change log and queues an `exists` notification on the calendar's
// channels; calendar-list changes notify the affected users' calendarList channels.

import { autoDeclines } from './auto-decline.ts';
import type { Calendar } from './calendars-store.ts';
import { applyConferenceWrite, settledConference, trackPending, type ConferenceOutcome } from './conferences.ts';
import { checkEventType } from './event-types.ts';
import { conditionNotMet, deleted, duplicate, invalidValue, notFound } from './errors.ts';
import {
  cancelledEvent, changedEvent, exceptionSeed, instanceOf, newEvent, patchedEvent, replacedEvent, respondedEvent, type WriteContext,
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
  trackPending(state.conferences, cal, ev, (p) => settleConference(state, p.calendarId, p.eventId));
  // The invitations an out-of-office or focus-time event declines, as Google does (auto-decline.ts).
  for (const d of autoDeclines(cal, ev, isNew)) {
    cal.events.put(d, state.nextSeq(), cal.timeZone);
    state.notifier.notify(eventsResourceKey(cal.id), d.eventType ?? 'default');
  }
  return ev;
}

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
  commitEvent(state, cal, changedEvent(current, fields, cal));
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
  return commitEvent(state, ctx.calendar, ev);
}

export function patchEvent(state: EmulatorState, id: string, body: JsonObject, ctx: WriteContext, ifMatch?: string): CalEvent {
  const { prev } = writable(ctx.calendar, id, ifMatch);
  const ev = withConference(state, prev, patchedEvent(prev, body, ctx), body, ctx);
  checkEventType(ev, { calendar: ctx.calendar, input: body, prev, asPerson: ctx.asPerson ?? false });
  return commitEvent(state, ctx.calendar, ev);
}

export function updateEvent(state: EmulatorState, id: string, body: JsonObject, ctx: WriteContext, ifMatch?: string): CalEvent {
  const { prev } = writable(ctx.calendar, id, ifMatch);
  const ev = withConference(state, prev, replacedEvent(prev, body, ctx), body, ctx);
  checkEventType(ev, { calendar: ctx.calendar, input: body, prev, asPerson: ctx.asPerson ?? false });
  return commitEvent(state, ctx.calendar, ev);
}

/** events.delete: the event becomes cancelled; deleting a series cancels its exceptions too. */
export function deleteEvent(state: EmulatorState, cal: Calendar, id: string, ifMatch?: string): void {
  const { prev } = writable(cal, id, ifMatch);
  if (prev.status === 'cancelled') throw deleted();
  commitEvent(state, cal, cancelledEvent(prev, cal));
  if (isRecurringMaster(prev)) {
    for (const exId of cal.events.exceptionsOf(prev.id)?.values() ?? []) {
      const ex = cal.events.get(exId)?.ev;
      if (ex && ex.status !== 'cancelled') commitEvent(state, cal, cancelledEvent(ex, cal));
    }
  }
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
    return commitEvent(state, cal, ev);
  };
  if (r.kind === 'stored') return { ev: checked(withConference(state, r.ev, replacedEvent(r.ev, body, ctx), body, ctx), r.ev), created: false };
  if (r.kind === 'virtual') {
    const seed = exceptionSeed(r.master, r.occ, cal.id);
    return { ev: checked(withConference(state, seed, replacedEvent(seed, body, ctx), body, ctx), seed), created: true };
  }
  return { ev: checked(withConference(state, undefined, newEvent(body, id, ctx), body, ctx)), created: true };
}

/** An attendee accepts, declines, ... (control API). Null when the event has no such attendee. */
export function respond(state: EmulatorState, cal: Calendar, id: string, email: string, responseStatus: string): CalEvent | null {
  const r = resolveEvent(cal, id);
  if (r.kind === 'none') throw notFound();
  const prev = r.kind === 'stored' ? r.ev : exceptionSeed(r.master, r.occ, cal.id);
  const next = respondedEvent(prev, email, responseStatus, cal);
  return next ? commitEvent(state, cal, next) : null;
}
