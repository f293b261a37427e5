// The `event` of a feed item: the shape of an events.list item (sync's ListedEvent), built from
// the mirror row a change set carries. A series is the series row (events.list expands it).
import type { ListedEvent } from '../sync/index.ts';
import type { MirrorEvent } from '../context/index.ts';

export function listedEvent(e: MirrorEvent): ListedEvent | null {
  if (!e.startAt || !e.endAt) return null;
  return {
    googleEventId: e.googleEventId,
    calendarId: e.calendarId,
    status: e.status,
    summary: e.summary,
    start: e.startAt.toISOString(),
    end: e.endAt.toISOString(),
    allDay: e.allDay,
    ...(e.allDay && e.startDate ? { startDate: e.startDate } : {}),
    ...(e.allDay && e.endDate ? { endDate: e.endDate } : {}),
    transparency: e.transparency,
    eventType: e.eventType,
    ...(e.recurringEventId ? { recurringEventId: e.recurringEventId } : {}),
    attendees: e.attendees.map((a) => ({
      email: a.email,
      responseStatus: a.responseStatus,
      ...(a.self ? { self: true } : {}),
      ...(a.organizer ? { organizer: true } : {}),
    })),
    updated: e.updated ? e.updated.toISOString() : null,
  };
}
