// A booking's video conference as Google reports it on the event (Schema$Event.conferenceData): the create
// request's status ("pending", "success" with the entry points populated, "failure" with none) and the
// video entry point's uri, the Meet link (Calendar API discovery document, ConferenceRequestStatus and
// EntryPoint; events reference, hangoutLink).
import type { calendar_v3 } from '../google/index.ts';

export type ConferenceStatus = 'pending' | 'success' | 'failure';

/** The conference solution Google knows Meet by (ConferenceSolutionKey.type). */
export const MEET_SOLUTION = 'hangoutsMeet';

export interface EventConference {
  status: ConferenceStatus | null;
  link: string | null;
}

const STATUSES: ReadonlySet<string> = new Set(['pending', 'success', 'failure']);

/** What an event (as Google returns it, or a mirror row's raw copy of it) says about its conference. */
export function conferenceOfEvent(event: calendar_v3.Schema$Event | Record<string, unknown> | null | undefined): EventConference {
  const cd = (event as calendar_v3.Schema$Event | null | undefined)?.conferenceData;
  if (!cd || typeof cd !== 'object') return { status: null, link: null };
  const code = cd.createRequest?.status?.statusCode;
  const video = (cd.entryPoints ?? []).find((e) => e?.entryPointType === 'video' && typeof e.uri === 'string');
  const link = video?.uri ?? (typeof (event as calendar_v3.Schema$Event).hangoutLink === 'string' ? (event as calendar_v3.Schema$Event).hangoutLink! : null);
  // Conference data copied onto the event without a create request (entry points only) counts as created.
  const status = typeof code === 'string' && STATUSES.has(code) ? (code as ConferenceStatus) : link ? 'success' : null;
  return { status, link: link ?? null };
}

/** The request body part that asks Google for a Meet link; the request id is the booking id. */
export function meetCreateRequest(bookingId: string): calendar_v3.Schema$ConferenceData {
  return { createRequest: { requestId: bookingId, conferenceSolutionKey: { type: MEET_SOLUTION } } };
}
