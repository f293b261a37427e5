// Guests' answers when an event's time changes.
//
// Google Calendar resets the guests' RSVPs when the start (date, time or time zone) or the recurrence of an
// event changes, and for no other field: "Only two fields cause RSVP resets: Start time/date/timezone,
// Recurrence ... Making it 8 hours long? Done ... their previous answer continues valid"
// (https://www.collabthinking.com/archive/calendar-updates, a Google Workspace trainer's write-up; Google's
// own reference says nothing about it, so this is observed behaviour, not documented). The organizer's own
// entry stays accepted.

import { parseDate, parseDateTime } from './time.ts';
import type { Attendee, CalEvent, EventDateTime } from './types.ts';

function startKey(t: EventDateTime | undefined): string {
  if (!t) return '';
  const instant = t.dateTime ? parseDateTime(t.dateTime, t.timeZone) : null;
  const date = t.date && parseDate(t.date) ? t.date : '';
  return `${date}|${instant ?? t.dateTime ?? ''}|${t.timeZone ?? ''}`;
}

/** Whether the change from `prev` to `next` is one that makes Google ask the guests again. */
export function resetsResponses(prev: CalEvent, next: CalEvent): boolean {
  if (startKey(prev.start) !== startKey(next.start)) return true;
  return JSON.stringify(prev.recurrence ?? []) !== JSON.stringify(next.recurrence ?? []);
}

/**
 * The attendees of `next` with the guests' answers reset to needsAction when the change resets them. An
 * answer the same write changes (a person answering while editing, a client setting one) is kept.
 */
export function attendeesAfterChange(prev: CalEvent, next: CalEvent): Attendee[] | undefined {
  if (!next.attendees || !resetsResponses(prev, next)) return next.attendees;
  const before = new Map((prev.attendees ?? []).map((a) => [String(a.email).toLowerCase(), a.responseStatus ?? 'needsAction']));
  return next.attendees.map((a) => {
    if (a.organizer) return a;
    const was = before.get(String(a.email).toLowerCase());
    if (was === undefined || (a.responseStatus ?? 'needsAction') !== was) return a;
    return { ...a, responseStatus: 'needsAction' };
  });
}
