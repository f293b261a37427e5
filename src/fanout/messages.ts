// Turns what the other modules report (change sets, calendar changes, owner events, domain events)
// into fan-out messages: the mirror row after the change and, for updates, which of its fields changed.
import type { CalendarChange, ChangeSet, EventChange, MirrorEvent } from '../context/index.ts';
import type { DomainEvent, Message, WebhookType } from './types.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The mirror row as subscribers see it: the shape of `events.list` items, plus the recurrence details. */
export function mirrorEventData(e: MirrorEvent): Record<string, unknown> {
  return {
    googleEventId: e.googleEventId,
    calendarId: e.calendarId,
    status: e.status,
    summary: e.summary,
    start: iso(e.startAt),
    end: iso(e.endAt),
    allDay: e.allDay,
    startDate: e.startDate,
    endDate: e.endDate,
    timeZone: e.timeZone,
    transparency: e.transparency,
    eventType: e.eventType,
    recurrence: e.recurrence,
    recurringEventId: e.recurringEventId,
    originalStartTime: e.originalStartTime,
    organizerEmail: e.organizerEmail,
    attendees: e.attendees.map((a) => ({
      email: a.email,
      responseStatus: a.responseStatus,
      ...(a.self ? { self: true } : {}),
      ...(a.organizer ? { organizer: true } : {}),
      ...(a.displayName ? { displayName: a.displayName } : {}),
    })),
    updated: iso(e.updated),
    etag: e.etag,
  };
}

/** Bookkeeping fields change on every edit; they are not what a subscriber means by "changed". */
const NOT_CHANGES = new Set(['updated', 'etag']);

export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return Object.keys(after).filter((k) => !NOT_CHANGES.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

const EVENT_TYPE: Record<EventChange['kind'], WebhookType> = {
  created: 'event.created',
  updated: 'event.updated',
  cancelled: 'event.cancelled',
};

export function messagesFromChangeSet(cs: ChangeSet): Message[] {
  return cs.changes.map((change) => {
    const data = mirrorEventData(change.event);
    const changed = change.kind === 'updated' ? changedFields(mirrorEventData(change.previous), data) : undefined;
    return {
      type: EVENT_TYPE[change.kind],
      ownerId: cs.ownerId,
      externalOwnerId: cs.externalOwnerId,
      calendarId: cs.calendarId,
      data,
      ...(changed ? { changed } : {}),
      occurredAt: cs.syncedAt,
    };
  });
}

/** Only additions and removals are subscribable; (de)selection and full syncs are internal. */
export function messageFromCalendarChange(change: CalendarChange, now: Date): Message | undefined {
  if (change.kind !== 'added' && change.kind !== 'removed') return undefined;
  return {
    type: change.kind === 'added' ? 'calendar.added' : 'calendar.removed',
    ownerId: change.ownerId,
    externalOwnerId: change.externalOwnerId,
    calendarId: change.calendarId,
    data: { calendarId: change.calendarId, summary: change.summary, timeZone: change.timeZone },
    occurredAt: now,
  };
}

export function messageFromOwnerRevoked(ev: { ownerId: string; externalOwnerId: string }, now: Date): Message {
  return {
    type: 'owner.revoked',
    ownerId: ev.ownerId,
    externalOwnerId: ev.externalOwnerId,
    calendarId: null,
    data: { ownerId: ev.ownerId, externalOwnerId: ev.externalOwnerId, status: 'revoked' },
    occurredAt: now,
  };
}

export function messageFromDomainEvent(ev: DomainEvent, now: Date): Message {
  return {
    type: ev.type,
    ownerId: ev.ownerId,
    externalOwnerId: ev.externalOwnerId,
    calendarId: ev.calendarId ?? null,
    data: ev.data,
    occurredAt: now,
  };
}
