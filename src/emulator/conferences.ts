// Conference data on events (Schema$Event.conferenceData and hangoutLink), as Google creates Meet links.
//
// Sources (Calendar API v3 discovery document, node_modules/googleapis/build/src/apis/calendar/v3.d.ts, and
// the events reference / "Create events" guide, section "Add video and phone conferences"):
//  - conferenceDataVersion: "Version 0 assumes no conference data support and ignores conference data in the
//    event's body. Version 1 enables support for copying of ConferenceData as well as for creating new
//    conferences using the createRequest field" (events.insert/patch/update parameter);
//  - createRequest: "The data is generated asynchronously. To see whether the data is present check the status
//    field"; status.statusCode is "pending" (still being processed), "success" ("the entry points are
//    populated") or "failure" ("there are no entry points"); conferenceSolution and signature are "Unset for a
//    conference with a failed create request";
//  - requestId: "If an ID provided is the same as for the previous request, the request is ignored";
//  - hangoutsMeet conferenceId "is the 10-letter meeting code, for example aaa-bbbb-ccc"; the video entry point
//    is https://meet.google.com/<code> (fixture gcal-events-secondary-calendar-conference-organizer-is-calendar);
//  - hangoutLink is read-only;
//  - a conferenceSolutionKey.type the calendar does not allow (calendar's
//    conferenceProperties.allowedConferenceSolutionTypes) is refused with 400 invalid "Invalid conference type
//    value." (body quoted in googleapis/google-api-php-client#2077; google-api-nodejs-client#2387, #3052).
//
// The emulator creates the conference at once by default (the insert's answer already says success, as
// Google usually does for Meet); the control API (/_emulator/conferences) makes creation stay pending, for a
// while or until told, and end in success or failure. Settling a pending request is a change of the event
// like any other: new etag and `updated`, a place in the change log (incremental sync reports it) and a push
// notification on the calendar's channels.

import type { Calendar } from './calendars-store.ts';
import { GoogleApiError } from './errors.ts';
import { randomToken } from './ids.ts';
import { isObject, type CalEvent, type JsonObject } from './types.ts';

export type ConferenceOutcome = 'success' | 'failure';

export interface ConferenceSettings {
  /** 'immediate': the write's answer already holds the outcome; 'pending': it says pending, settled later. */
  mode: 'immediate' | 'pending';
  outcome: ConferenceOutcome;
  /** In 'pending' mode: settle by itself after this long; null = only when the control API says so. */
  settleAfterMs: number | null;
}

interface PendingConference {
  calendarId: string;
  eventId: string;
  requestId: string;
  outcome: ConferenceOutcome;
  timer?: ReturnType<typeof setTimeout>;
}

const DEFAULT_TYPES = ['hangoutsMeet'];

/** Settings, pending requests and per-calendar allowed solution types; replaced on reset. */
export class Conferences {
  settings: ConferenceSettings = { mode: 'immediate', outcome: 'success', settleAfterMs: null };
  readonly pending = new Map<string, PendingConference>();
  private readonly allowed = new Map<string, string[]>();

  allowedTypes(calendarId: string): string[] {
    return this.allowed.get(calendarId) ?? DEFAULT_TYPES;
  }

  setAllowedTypes(calendarId: string, types: string[]): void {
    this.allowed.set(calendarId, [...types]);
  }

  configure(patch: Partial<ConferenceSettings>): void {
    Object.assign(this.settings, patch);
  }

  snapshot(): JsonObject {
    return {
      ...this.settings,
      allowedTypes: Object.fromEntries(this.allowed),
      pending: [...this.pending.values()].map((p) => ({ calendarId: p.calendarId, eventId: p.eventId, requestId: p.requestId, outcome: p.outcome })),
    };
  }

  close(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
  }
}

const key = (calendarId: string, eventId: string) => `${calendarId}\u0000${eventId}`;

function invalid(message: string): GoogleApiError {
  return new GoogleApiError(400, { domain: 'global', reason: 'invalid', message });
}

/** A Meet code like "eap-zmzd-zii": three, four and three lowercase letters. */
function meetCode(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const s = [...bytes].map((b) => letters[b % 26]).join('');
  return `${s.slice(0, 3)}-${s.slice(3, 7)}-${s.slice(7)}`;
}

function createRequestOf(ev: CalEvent | undefined): JsonObject | undefined {
  const cd = ev?.conferenceData;
  if (!isObject(cd) || !isObject(cd.createRequest)) return undefined;
  return cd.createRequest;
}

function statusCodeOf(ev: CalEvent | undefined): string | undefined {
  const cr = createRequestOf(ev);
  return isObject(cr?.status) && typeof cr.status.statusCode === 'string' ? cr.status.statusCode : undefined;
}

/** conferenceData in a given state of a create request (and the hangoutLink that goes with it). */
function conferenceFor(requestId: string, type: string, status: 'pending' | ConferenceOutcome): { conferenceData: JsonObject; hangoutLink?: string } {
  const createRequest = { requestId, conferenceSolutionKey: { type }, status: { statusCode: status } };
  if (status !== 'success') return { conferenceData: { createRequest } };
  const code = meetCode();
  const uri = `https://meet.google.com/${code}`;
  return {
    conferenceData: {
      createRequest,
      entryPoints: [{ entryPointType: 'video', uri, label: `meet.google.com/${code}` }],
      conferenceSolution: {
        key: { type },
        name: 'Google Meet',
        iconUri: 'https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png',
      },
      conferenceId: code,
      signature: randomToken(20),
    },
    hangoutLink: uri,
  };
}

function keepPrevious(ev: CalEvent, prev: CalEvent | undefined): CalEvent {
  const out: CalEvent = { ...ev };
  delete out.conferenceData;
  delete out.hangoutLink;
  if (prev?.conferenceData !== undefined) out.conferenceData = prev.conferenceData;
  if (prev?.hangoutLink !== undefined) out.hangoutLink = prev.hangoutLink;
  return out;
}

export interface ConferenceWrite {
  calendar: Calendar;
  /** The request's conferenceDataVersion (0 when absent); a person in Google Calendar counts as 1. */
  version: number;
}

/**
 * The conference fields of a new state `next` of an event (built from `body` by insert, patch or update,
 * `prev` the stored state if any). Throws GoogleApiError 400 for a conference Google refuses.
 */
export function applyConferenceWrite(confs: Conferences, prev: CalEvent | undefined, next: CalEvent, body: JsonObject, w: ConferenceWrite): CalEvent {
  // Version 0 ignores conferenceData in the body (and hangoutLink is read-only in every version).
  if (w.version < 1 || body.conferenceData === undefined) return keepPrevious(next, prev);
  const out: CalEvent = { ...next };
  delete out.hangoutLink;
  if (body.conferenceData === null) {
    // A patch with null clears the field (patch semantics); the link goes with it.
    delete out.conferenceData;
    return out;
  }
  const cd = body.conferenceData;
  if (!isObject(cd)) throw invalid('Invalid conference data.');
  if (isObject(cd.createRequest)) {
    const cr = cd.createRequest;
    const type = isObject(cr.conferenceSolutionKey) ? cr.conferenceSolutionKey.type : undefined;
    if (typeof type !== 'string' || !confs.allowedTypes(w.calendar.id).includes(type)) throw invalid('Invalid conference type value.');
    // Wording of a missing requestId UNVERIFIED (Google requires one: "client-generated unique ID").
    if (typeof cr.requestId !== 'string' || cr.requestId === '') throw invalid('Invalid conference data.');
    // The same requestId as the previous request: "the request is ignored".
    const before = createRequestOf(prev);
    if (before && before.requestId === cr.requestId) return keepPrevious(next, prev);
    const s = confs.settings;
    const made = conferenceFor(cr.requestId, type, s.mode === 'immediate' ? s.outcome : 'pending');
    out.conferenceData = made.conferenceData;
    if (made.hangoutLink) out.hangoutLink = made.hangoutLink;
    return out;
  }
  // Copying conference data: "Either conferenceSolution and at least one entryPoint, or createRequest is required".
  const entryPoints = Array.isArray(cd.entryPoints) ? cd.entryPoints.filter(isObject) : [];
  if (!isObject(cd.conferenceSolution) || entryPoints.length === 0) throw invalid('Invalid conference data.');
  out.conferenceData = cd;
  const video = entryPoints.find((e) => e.entryPointType === 'video' && typeof e.uri === 'string');
  if (video) out.hangoutLink = video.uri as string;
  return out;
}

/**
 * After a committed write: a create request the write left pending is registered, to be settled by the
 * timer (settleAfterMs) or the control API. `settle` commits the event's next state.
 */
export function trackPending(confs: Conferences, cal: Calendar, ev: CalEvent, settle: (p: { calendarId: string; eventId: string }) => void): void {
  const k = key(cal.id, ev.id);
  const cr = createRequestOf(ev);
  if (statusCodeOf(ev) !== 'pending' || !cr || typeof cr.requestId !== 'string') {
    const old = confs.pending.get(k);
    if (old?.timer) clearTimeout(old.timer);
    confs.pending.delete(k);
    return;
  }
  const existing = confs.pending.get(k);
  if (existing && existing.requestId === cr.requestId) return;
  if (existing?.timer) clearTimeout(existing.timer);
  const p: PendingConference = { calendarId: cal.id, eventId: ev.id, requestId: cr.requestId, outcome: confs.settings.outcome };
  if (confs.settings.settleAfterMs !== null) {
    p.timer = setTimeout(() => settle({ calendarId: cal.id, eventId: ev.id }), confs.settings.settleAfterMs);
  }
  confs.pending.set(k, p);
}

/**
 * The event's state once its pending request settles, or null when there is nothing to settle (the event was
 * deleted, or a later write replaced or removed the request). Removes the request from the pending set.
 */
export function settledConference(confs: Conferences, calendarId: string, current: CalEvent | undefined, outcome?: ConferenceOutcome): Partial<CalEvent> | null {
  if (!current) return null;
  const k = key(calendarId, current.id);
  const p = confs.pending.get(k);
  if (!p) return null;
  if (p.timer) clearTimeout(p.timer);
  confs.pending.delete(k);
  const cr = createRequestOf(current);
  if (current.status === 'cancelled' || !cr || cr.requestId !== p.requestId || statusCodeOf(current) !== 'pending') return null;
  const type = isObject(cr.conferenceSolutionKey) && typeof cr.conferenceSolutionKey.type === 'string' ? cr.conferenceSolutionKey.type : 'hangoutsMeet';
  const made = conferenceFor(p.requestId, type, outcome ?? p.outcome);
  return { conferenceData: made.conferenceData, ...(made.hangoutLink ? { hangoutLink: made.hangoutLink } : {}) };
}

/** The pending requests, optionally of one calendar or one event. */
export function pendingConferences(confs: Conferences, filter: { calendarId?: string; eventId?: string } = {}): Array<{ calendarId: string; eventId: string }> {
  return [...confs.pending.values()]
    .filter((p) => (!filter.calendarId || p.calendarId === filter.calendarId) && (!filter.eventId || p.eventId === filter.eventId))
    .map((p) => ({ calendarId: p.calendarId, eventId: p.eventId }));
}
