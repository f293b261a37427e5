// What flows back from Google. Runs inside the sync's transaction with the change set of the
// owner's calendar: only this module's rows are written and jobs enqueued with the transaction;
// Google is never called here. Each booking row is locked, and every transition is conditional on
// the current status, so a change seen twice (duplicate notifications, a resync) acts once.
//
//   bookee declines      -> declined, and the event deleted (sendUpdates=all) by the reconcile job
//   bookee accepts (or answers tentative) -> only recorded (the owner still has to confirm)
//   owner deletes event  -> cancelled
//   owner moves event    -> start/end follow
// Only the booking's own calendar counts: a guest's copy of the event (same id, on a calendar the
// owner may also have selected) is the guest's, and changes nothing here.
import type { Ctx, TxCtx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import type { ChangeSet, EventChange, OwnerEvent } from '../context/index.ts';
import { bookingsByEventIds, deleteOwnerBookings, isExclusionViolation, updateBooking, LIVE_STATUSES, type Booking } from './queries.ts';
import { isBookingEventId } from './event-id.ts';
import { publishBookingChanged } from './publish.ts';
import { transitionBooking } from './transitions.ts';
import { conferenceOfEvent } from './conference.ts';

export async function reactToChangeSet(ctx: TxCtx, cs: ChangeSet): Promise<void> {
  const { tx } = ctx;
  const ours = cs.changes.filter((c) => isBookingEventId(c.event.googleEventId) && c.event.ownerId === cs.ownerId);
  if (ours.length === 0) return;
  const rows = await bookingsByEventIds(
    tx,
    cs.ownerId,
    cs.calendarId,
    ours.map((c) => c.event.googleEventId),
  );
  const byEventId = new Map(rows.map((b) => [b.googleEventId, b]));
  for (const change of ours) {
    const booking = byEventId.get(change.event.googleEventId);
    if (!booking) continue;
    const after = await reactToChange(tx, ctx, booking, change);
    byEventId.set(booking.googleEventId, after);
  }
}

async function reactToChange(tx: Executor, ctx: Ctx, b: Booking, change: EventChange): Promise<Booking> {
  // Decided bookings no longer follow their event (denied/declined ones are being deleted by us).
  if (!LIVE_STATUSES.includes(b.status)) return b;
  const ev = change.event;

  if (change.kind === 'cancelled' || ev.status === 'cancelled') {
    return transitionBooking(tx, ctx, b, 'cancelled', {
      reason: 'the owner deleted the event in Google Calendar',
      cause: 'google.cancelled',
      extra: { eventInserted: true },
    });
  }

  const attendee = ev.attendees.find((a) => a.email.toLowerCase() === b.bookeeEmail);
  if (attendee?.responseStatus === 'declined') {
    // Thunderbird Appointment's rule: a declined booking is over, and its event goes away (Google
    // tells the owner's other guests, and the bookee gets the cancellation).
    return transitionBooking(tx, ctx, b, 'declined', {
      reason: 'the bookee declined in Google Calendar',
      cause: 'google.declined',
      google: 'now',
      extra: { bookeeResponse: 'declined', eventInserted: true },
    });
  }

  let current = b;
  const now = ctx.clock.now();
  if (attendee && attendee.responseStatus !== current.bookeeResponse) {
    const row = await updateBooking(tx, current.id, { bookeeResponse: attendee.responseStatus }, { now });
    if (row) {
      await publishBookingChanged(tx, ctx, row, 'google.responded', current);
      current = row;
    }
  }

  // The Meet link: Google creates it asynchronously, and settling the request is a change of the event.
  if (current.conference) {
    const conf = conferenceOfEvent(ev.raw);
    if (conf.status && (conf.status !== current.conferenceStatus || conf.link !== current.conferenceLink)) {
      const row = await updateBooking(tx, current.id, { conferenceStatus: conf.status, conferenceLink: conf.link }, { now });
      if (row) {
        await publishBookingChanged(tx, ctx, row, 'google.conference', current);
        current = row;
      }
    }
  }

  const start = ev.startAt;
  const end = ev.endAt;
  // A reschedule not yet at Google: the event's times are older than the row's, and ours will win.
  if (!current.timesOwed && start && end && end > start && (start.getTime() !== current.startAt.getTime() || end.getTime() !== current.endAt.getTime())) {
    current = await followMove(tx, ctx, current, start, end);
  }
  return current;
}

/**
 * The owner moved the event. The new times may overlap another live booking (the owner may
 * double-book in Google, the constraint forbids it here): then the booking keeps its times and
 * says why in lastError, inside a savepoint so the sync's transaction is not aborted.
 */
async function followMove(tx: Executor, ctx: Ctx, b: Booking, start: Date, end: Date): Promise<Booking> {
  const now = ctx.clock.now();
  try {
    const moved = await tx.transaction(async (sp) =>
      updateBooking(sp, b.id, { startAt: start, endAt: end, eventInserted: true }, { now }),
    );
    if (!moved) return b;
    await publishBookingChanged(tx, ctx, moved, 'google.moved', b);
    return moved;
  } catch (err) {
    if (!isExclusionViolation(err)) throw err;
    ctx.log.warn({ bookingId: b.id, start, end }, 'event moved in Google onto another booking; booking times kept');
    const note = `the owner moved the event in Google to ${start.toISOString()}/${end.toISOString()}, which overlaps another booking: times not updated`;
    return (await updateBooking(tx, b.id, { lastError: note, lastErrorAt: now }, { now })) ?? b;
  }
}

/** links' owner events, inside links' transaction. */
export async function reactToOwnerEvent(ctx: TxCtx, ev: OwnerEvent): Promise<void> {
  const { tx } = ctx;
  if (ev.type !== 'unlinked') return;
  // The owner asked to be forgotten: their bookings and settings go with their other rows (the
  // events at Google cannot be touched any more: the grant is revoked).
  const n = await deleteOwnerBookings(tx, ev.ownerId);
  if (n > 0) ctx.log.info({ ownerId: ev.ownerId, bookings: n }, 'owner unlinked: bookings deleted');
}
