// Google's automatic declines by out-of-office and focus-time events (Schema$EventOutOfOfficeProperties
// and Schema$EventFocusTimeProperties.autoDeclineMode, discovery document): "declineNone, meaning that no
// meeting invitations are declined; declineAllConflictingInvitations, meaning that all conflicting
// meeting invitations that conflict with the event are declined; and
// declineOnlyNewConflictingInvitations, meaning that only new conflicting meeting invitations which
// arrive while the Out of office event is present are to be declined". declineMessage: "Response
// message to set if an existing event or new invitation is automatically declined by Calendar" (kept
// here as the owner's attendee comment). Status events exist only on primary calendars (Event types
// guide), so only a primary calendar's owner is declined for.
//
// An invitation is an event on the owner's calendar that someone else organizes, with the owner among
// its attendees and not yet declined; it conflicts when the two intervals overlap. Where the emulator
// still differs: recurring status events and recurring invitations are left alone (only one-off events
// on both sides), and a person re-accepting an auto-declined invitation is not declined again.

import type { Calendar } from './calendars-store.ts';
import { respondedEvent } from './event-model.ts';
import { dateToInstant, parseDateTime } from './time.ts';
import { isObject, type CalEvent, type EventDateTime } from './types.ts';

const DECLINING = new Set(['declineAllConflictingInvitations', 'declineOnlyNewConflictingInvitations']);

function instant(t: EventDateTime | undefined, tz: string): number | null {
  if (!t) return null;
  if (typeof t.date === 'string') return dateToInstant(t.date, tz);
  if (typeof t.dateTime === 'string') return parseDateTime(t.dateTime, t.timeZone ?? tz);
  return null;
}

function interval(ev: CalEvent, tz: string): { start: number; end: number } | null {
  if (ev.status === 'cancelled' || (ev.recurrence && ev.recurrence.length > 0) || ev.recurringEventId) return null;
  const start = instant(ev.start, tz);
  const end = instant(ev.end, tz);
  return start === null || end === null || end <= start ? null : { start, end };
}

/** The status event's decline mode and message, when it declines anything. */
function decliner(ev: CalEvent): { mode: string; message: string | undefined } | null {
  const props = ev.eventType === 'outOfOffice' ? ev.outOfOfficeProperties : ev.eventType === 'focusTime' ? ev.focusTimeProperties : undefined;
  if (!isObject(props) || typeof props.autoDeclineMode !== 'string' || !DECLINING.has(props.autoDeclineMode)) return null;
  return { mode: props.autoDeclineMode, message: typeof props.declineMessage === 'string' ? props.declineMessage : undefined };
}

function isPendingInvitation(ev: CalEvent, owner: string): boolean {
  if ((ev.eventType ?? 'default') !== 'default' && ev.eventType !== 'fromGmail') return false;
  if (ev.organizer?.email === owner) return false;
  const me = ev.attendees?.find((a) => a.email === owner);
  return me !== undefined && me.responseStatus !== 'declined';
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

function declined(ev: CalEvent, owner: string, message: string | undefined, cal: Calendar): CalEvent | null {
  const next = respondedEvent(ev, owner, 'declined', cal);
  if (next && message !== undefined) next.attendees = next.attendees?.map((a) => (a.email === owner ? { ...a, comment: message } : a));
  return next;
}

/**
 * The owner's declines Google makes after `ev` was written to `cal` (`isNew`: it was not on the
 * calendar before): an out-of-office or focus-time event declining all conflicts declines the pending
 * invitations under it; a new invitation under one declining new or all conflicts is declined.
 */
export function autoDeclines(cal: Calendar, ev: CalEvent, isNew: boolean): CalEvent[] {
  if (cal.id !== cal.owner) return [];
  const owner = cal.owner;
  const tz = cal.timeZone;
  const out: CalEvent[] = [];
  const own = decliner(ev);
  const iv = interval(ev, tz);
  if (!iv) return out;
  if (own?.mode === 'declineAllConflictingInvitations') {
    for (const { ev: other } of cal.events.byId.values()) {
      if (other.id === ev.id || !isPendingInvitation(other, owner)) continue;
      const o = interval(other, tz);
      if (!o || !overlaps(iv, o)) continue;
      const next = declined(other, owner, own.message, cal);
      if (next) out.push(next);
    }
    return out;
  }
  if (isNew && isPendingInvitation(ev, owner)) {
    for (const { ev: other } of cal.events.byId.values()) {
      const d = decliner(other);
      const o = d ? interval(other, tz) : null;
      if (!d || !o || !overlaps(iv, o)) continue;
      const next = declined(ev, owner, d.message, cal);
      if (next) out.push(next);
      break;
    }
  }
  return out;
}
