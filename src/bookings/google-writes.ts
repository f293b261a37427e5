// Bringing Google in line with a booking row: insert the event, patch its status and times, or delete it.
// Always called outside any transaction; the row's outbox counter (googleVersion) says whether
// there is anything to do, so the procedure that made the change and the safety-net job can both
// call this and Google sees each write once (or, in a race, an idempotent repeat).
import type { Ctx } from '../context/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import type { calendar_v3 } from '../google/index.ts';
import { withCalendar } from '../links/index.ts';
import { bookingById, markGoogleApplied, settleTimes, updateBooking, LIVE_STATUSES, type Booking, type BookingStatus } from './queries.ts';
import { transitionBooking } from './transitions.ts';
import { conferenceOfEvent, meetCreateRequest } from './conference.ts';

type Desired = 'tentative' | 'confirmed' | 'deleted' | 'nothing';

/** What the Google event should look like for a booking in this status. */
function desiredEvent(status: BookingStatus): Desired {
  switch (status) {
    case 'requested':
      return 'tentative';
    case 'confirmed':
      return 'confirmed';
    case 'denied':
    case 'declined':
    case 'failed':
    case 'cancelled':
      // A cancellation seen in Google (the owner deleted the event) owes no write, so this only runs for
      // bookings.cancel; deleting an event already gone answers 410, which is what we wanted.
      return 'deleted';
  }
}

/** GOOGLE_INVITES off: the application sends its own emails, Google sends none. */
const sendUpdates = (ctx: Ctx): 'all' | 'none' => (ctx.config.google.invites ? 'all' : 'none');

/** 409 duplicate on insert: "The requested identifier already exists" (Calendar API errors guide). */
const isDuplicate = (err: unknown) => isAppError(err) && err.code === 'CONFLICT' && err.details?.status === 409;
/** 404, or 410 "Resource has been deleted": the event is not (or no longer) there. */
const isGone = (err: unknown) => isAppError(err) && (err.code === 'NOT_FOUND' || err.code === 'UPSTREAM_GONE');

/**
 * Applies whatever Google still lacks for this booking; returns the row as it stands afterwards.
 * Throws the classified Google error when a write fails (the caller decides: fail the booking,
 * record the error, or let the job retry).
 */
export async function reconcileBooking(ctx: Ctx, bookingId: string): Promise<Booking | undefined> {
  // A change made while a write was in flight bumps the counter again: go round once more.
  for (let round = 0; round < 5; round++) {
    const b = await bookingById(ctx.db, bookingId);
    if (!b || b.googleVersion <= b.googleAppliedVersion) return b;
    await applyToGoogle(ctx, b);
    await markGoogleApplied(ctx.db, b.id, b.googleVersion, ctx.clock.now());
  }
  return bookingById(ctx.db, bookingId);
}

async function applyToGoogle(ctx: Ctx, b: Booking): Promise<void> {
  const desired = desiredEvent(b.status);
  if (desired === 'nothing') return;
  if (desired === 'deleted') return deleteEvent(ctx, b);
  if (!b.eventInserted) return insertEvent(ctx, b, desired);
  return patchEvent(ctx, b, desired);
}

async function insertEvent(ctx: Ctx, b: Booking, status: 'tentative' | 'confirmed'): Promise<void> {
  const requestBody: calendar_v3.Schema$Event = {
    id: b.googleEventId,
    summary: b.title,
    start: { dateTime: b.startAt.toISOString() },
    end: { dateTime: b.endAt.toISOString() },
    status,
    attendees: [{ email: b.bookeeEmail, ...(b.bookeeName ? { displayName: b.bookeeName } : {}) }],
    extendedProperties: { private: { calwatchBookingId: b.id } },
    // A Meet link: Google creates it asynchronously (createRequest.status says pending until it has).
    ...(b.conference === 'meet' ? { conferenceData: meetCreateRequest(b.id) } : {}),
  };
  let event: calendar_v3.Schema$Event;
  try {
    // events.insert, not import: insert is what makes Google send the invitation to the attendee.
    // conferenceDataVersion=1: without it Google ignores conferenceData in the body (events.insert reference).
    const res = await withCalendar(ctx, b.ownerId, (cal) =>
      cal.events.insert({
        calendarId: b.calendarId,
        sendUpdates: sendUpdates(ctx),
        ...(b.conference ? { conferenceDataVersion: 1 } : {}),
        requestBody,
      }),
    );
    event = res.data;
  } catch (err) {
    if (!isDuplicate(err)) throw err;
    // An earlier attempt inserted it and its answer was lost: the id is ours, carry on with that event.
    ctx.log.info({ bookingId: b.id, eventId: b.googleEventId }, 'event already inserted by an earlier attempt (409 duplicate)');
    const res = await withCalendar(ctx, b.ownerId, (cal) => cal.events.get({ calendarId: b.calendarId, eventId: b.googleEventId }));
    event = res.data;
  }
  if (event.status === 'cancelled') {
    // Inserted, then deleted in Google before we heard back: the owner cancelled it.
    await ctx.db.transaction(async (tx) => {
      const cur = await bookingById(tx, b.id, { forUpdate: true });
      if (!cur || !LIVE_STATUSES.includes(cur.status)) return;
      await transitionBooking(tx, ctx, cur, 'cancelled', {
        reason: 'the owner deleted the event in Google Calendar',
        cause: 'google.cancelled',
        extra: { eventInserted: true },
      });
    });
    return;
  }
  const conf = b.conference ? conferenceOfEvent(event) : null;
  await updateBooking(
    ctx.db,
    b.id,
    { eventInserted: true, ...(conf?.status ? { conferenceStatus: conf.status, conferenceLink: conf.link } : {}) },
    { now: ctx.clock.now() },
  );
  if (b.timesOwed && sameInstant(event.start, b.startAt) && sameInstant(event.end, b.endAt)) await settleTimes(ctx.db, b.id, b.startAt, b.endAt);
  if (event.status !== status || b.timesOwed) await patchEvent(ctx, b, status);
}

const sameInstant = (t: calendar_v3.Schema$EventDateTime | undefined, d: Date) => !!t?.dateTime && Date.parse(t.dateTime) === d.getTime();

/**
 * Sets the event's status and times (a reschedule). Google lets a write bring a deleted event back, so
 * the event is read first and written back whole with events.update under If-Match with the etag read:
 * a change in between (the owner deleting or moving it, the bookee answering) makes Google answer 412
 * conditionNotMet, and we look again. Update, not patch: the version-resources guide documents If-Match
 * for "update or delete" only ("you can specify an If-Match header ... Otherwise, you will get a 412"),
 * and the events.patch reference does not mention it, so a patch may not be conditional at all.
 * conferenceDataVersion=1 keeps the Meet conference the event carries (version 0 ignores it in the body).
 */
async function patchEvent(ctx: Ctx, b: Booking, status: 'tentative' | 'confirmed'): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let current: calendar_v3.Schema$Event;
    try {
      current = (await withCalendar(ctx, b.ownerId, (cal) => cal.events.get({ calendarId: b.calendarId, eventId: b.googleEventId }))).data;
    } catch (err) {
      if (!isGone(err)) throw err;
      return cancelBecauseGone(ctx, b);
    }
    if (current.status === 'cancelled') return cancelBecauseGone(ctx, b);
    const requestBody: calendar_v3.Schema$Event = {};
    if (current.status !== status) requestBody.status = status;
    const moveIt = b.timesOwed && (!sameInstant(current.start, b.startAt) || !sameInstant(current.end, b.endAt));
    if (moveIt) {
      // bookings.reschedule: the row holds the new times. Google itself resets the guests' answers
      // when the start moves (see docs/bookings.md); sendUpdates tells the bookee.
      requestBody.start = { dateTime: b.startAt.toISOString() };
      requestBody.end = { dateTime: b.endAt.toISOString() };
    }
    if (Object.keys(requestBody).length === 0) {
      if (b.timesOwed) await settleTimes(ctx.db, b.id, b.startAt, b.endAt);
      return;
    }
    try {
      await withCalendar(ctx, b.ownerId, (cal) =>
        cal.events.update(
          { calendarId: b.calendarId, eventId: b.googleEventId, sendUpdates: sendUpdates(ctx), conferenceDataVersion: 1, requestBody: { ...current, ...requestBody } },
          { headers: { 'If-Match': current.etag ?? '*' } },
        ),
      );
      if (b.timesOwed) await settleTimes(ctx.db, b.id, b.startAt, b.endAt);
      return;
    } catch (err) {
      if (isGone(err)) return cancelBecauseGone(ctx, b);
      // 412: the event changed since we read it; read it again (a few times at most).
      if (!(isAppError(err) && err.details?.status === 412) || attempt >= 3) throw err;
    }
  }
}

async function cancelBecauseGone(ctx: Ctx, b: Booking): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const cur = await bookingById(tx, b.id, { forUpdate: true });
    if (!cur || !LIVE_STATUSES.includes(cur.status)) return;
    await transitionBooking(tx, ctx, cur, 'cancelled', { reason: 'the owner deleted the event in Google Calendar', cause: 'google.cancelled' });
  });
}

async function deleteEvent(ctx: Ctx, b: Booking): Promise<void> {
  try {
    // sendUpdates=all: Google tells the bookee the appointment is off.
    await withCalendar(ctx, b.ownerId, (cal) =>
      cal.events.delete({ calendarId: b.calendarId, eventId: b.googleEventId, sendUpdates: sendUpdates(ctx) }),
    );
  } catch (err) {
    // Already gone (never inserted, or deleted by the owner): what we wanted.
    if (!isGone(err)) throw err;
  }
}

/** A Google failure as the caller of a procedure sees it, naming the booking. */
export function googleFailure(err: unknown, what: string): AppError {
  if (isAppError(err)) return new AppError(err.code, `${what}: ${err.message}`, err.details);
  return new AppError('INTERNAL', `${what}: ${err instanceof Error ? err.message : String(err)}`);
}
