// The Google side of shifts: inserting a shift's event, and handing an event from one assignee to
// another without overwriting a concurrent edit (events.update under If-Match with the etag just
// read; on 412 read again).
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { classifyGoogleError, type calendar_v3 } from '../google/index.ts';
import { withCalendar } from '../links/index.ts';

export interface Person {
  email: string;
  name: string;
}

export const shiftSummary = (groupName: string, assignee: Person) => `On-call: ${groupName} — ${assignee.name}`;

/** Google event ids are base32hex (a-v, 0-9), 5 to 1024 characters: a uuid's hex digits qualify. */
export const eventIdForShift = (shiftId: string) => `oncall${shiftId.replace(/-/g, '')}`;

const same = (a: string | null | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();

export async function insertShiftEvent(
  ctx: Ctx,
  where: { ownerId: string; calendarId: string; timeZone: string },
  shift: { id: string; groupId: string; groupName: string; start: Date; end: Date; assignee: Person },
): Promise<calendar_v3.Schema$Event> {
  const eventId = eventIdForShift(shift.id);
  return withCalendar(ctx, where.ownerId, async (cal) => {
    try {
      const res = await cal.events.insert({
        calendarId: where.calendarId,
        // The assignee gets Google's invitation: they accept or decline from their own calendar.
        sendUpdates: 'all',
        requestBody: {
          id: eventId,
          summary: shiftSummary(shift.groupName, shift.assignee),
          description: 'On-call shift managed by calwatch. Decline it in Google Calendar to have it swapped with a colleague.',
          start: { dateTime: shift.start.toISOString(), timeZone: where.timeZone },
          end: { dateTime: shift.end.toISOString(), timeZone: where.timeZone },
          attendees: [{ email: shift.assignee.email, displayName: shift.assignee.name }],
          guestsCanModify: false,
          guestsCanInviteOthers: false,
          extendedProperties: { private: { calwatchShiftId: shift.id, calwatchGroupId: shift.groupId } },
        },
      });
      return res.data;
    } catch (raw) {
      const err = classifyGoogleError(raw);
      // 409 duplicate: an earlier attempt of ours already inserted it (the id derives from the shift).
      if (err.details?.status !== 409) throw err;
      const existing = await cal.events.get({ calendarId: where.calendarId, eventId });
      if (existing.data.extendedProperties?.private?.calwatchShiftId !== shift.id) throw err;
      return existing.data;
    }
  });
}

/** Best effort: removes an inserted shift event again (when storing the rotation failed). */
export async function deleteShiftEvent(ctx: Ctx, where: { ownerId: string; calendarId: string }, eventId: string): Promise<void> {
  try {
    await withCalendar(ctx, where.ownerId, (cal) => cal.events.delete({ calendarId: where.calendarId, eventId, sendUpdates: 'all' }));
  } catch (err) {
    ctx.log.warn({ err, eventId }, 'could not delete a shift event while undoing a rotation');
  }
}

const MAX_CONDITIONAL_ATTEMPTS = 5;

/**
 * Makes `to` the assignee of the event instead of `from`: replaces the attendee and the summary,
 * keeps every other attendee, Google emails both (`sendUpdates=all`). Idempotent: an event that
 * already has `to` and not `from` is left alone, so a retried or resumed saga can call it again.
 *
 * The attendee list is written whole, as read, so an answer given between the read and the write
 * (another guest accepting) must not be overwritten. Google documents conditional modification for
 * update and delete only ("If you want to update or delete a resource only if it has not changed
 * since you last retrieved it, you can specify an If-Match header ... Otherwise, you will get a 412",
 * version-resources guide); the events.patch reference says nothing of If-Match, and recommends
 * "get followed by update" anyway. Hence events.update of the event as read, under If-Match with its
 * etag: a change in between answers 412, and we read again and re-apply.
 */
export async function reassignShiftEvent(
  ctx: Ctx,
  where: { ownerId: string; calendarId: string },
  eventId: string,
  change: { from: string; to: Person; summary: string },
): Promise<'patched' | 'alreadyDone'> {
  return withCalendar(ctx, where.ownerId, async (cal) => {
    for (let attempt = 1; attempt <= MAX_CONDITIONAL_ATTEMPTS; attempt++) {
      const { data: ev } = await cal.events.get({ calendarId: where.calendarId, eventId });
      if (ev.status === 'cancelled') throw new AppError('NOT_FOUND', `shift event ${eventId} was deleted in Google Calendar`);
      const attendees = ev.attendees ?? [];
      const hasTo = attendees.some((a) => same(a.email, change.to.email));
      const hasFrom = attendees.some((a) => same(a.email, change.from));
      if (hasTo && !hasFrom && ev.summary === change.summary) return 'alreadyDone';
      const next: calendar_v3.Schema$EventAttendee[] = attendees.filter((a) => !same(a.email, change.from) && !same(a.email, change.to.email));
      next.push({ email: change.to.email, displayName: change.to.name, responseStatus: 'needsAction' });
      try {
        await cal.events.update(
          { calendarId: where.calendarId, eventId, sendUpdates: 'all', requestBody: { ...ev, attendees: next, summary: change.summary } },
          { headers: { 'If-Match': ev.etag ?? '*' } },
        );
        return 'patched';
      } catch (raw) {
        const err = classifyGoogleError(raw);
        if (err.details?.status !== 412) throw err;
        ctx.log.info({ eventId, attempt }, 'shift event changed since it was read (412): reading it again');
      }
    }
    // Someone keeps editing the event: a later attempt of the job will try again.
    throw new AppError('UPSTREAM_ERROR', `shift event ${eventId} kept changing under the swap (412 ${MAX_CONDITIONAL_ATTEMPTS} times)`);
  });
}
