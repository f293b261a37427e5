// bookings.request: a bookee asks for a slot of an owner's time.
//
// Write order (nothing is called at Google inside a transaction):
//  1. checks that need no lock: input, owner, the owner's busy time in the mirror;
//  2. one transaction inserts the booking (requested, or confirmed with auto-confirm): the
//     exclusion constraint on (owner, time range) of live bookings lets only one of two overlapping
//     requests commit; the safety-net job and booking.changed are enqueued with it;
//  3. after the commit, the event is inserted at Google under an id derived from the booking id,
//     so a retry (in-call, or the job after a crash) gets 409 duplicate instead of a second event;
//  4. if Google refuses for good, the booking becomes `failed` (freeing the slot) and the caller
//     gets the error.
import { randomUUID } from 'node:crypto';
import { Email } from '../api/index.ts';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { busyIntervals } from '../availability/index.ts';
import { findCalendar } from '../sync/index.ts';
import { insertBooking, isExclusionViolation, lockOwnerSlots, settingsFor, bookingById, settleGoogle, LIVE_STATUSES } from './queries.ts';
import { eventIdForBooking } from './event-id.ts';
import { publishBookingChanged } from './publish.ts';
import { enqueueReconcile, SAFETY_NET_SECONDS } from './outbox.ts';
import { googleFailure, reconcileBooking } from './google-writes.ts';
import { transitionBooking } from './transitions.ts';
import { activeOwner } from './owner.ts';
import { bookingView, type BookingView } from './view.ts';

/** An appointment longer than this is almost certainly a mistake in the caller. */
export const MAX_BOOKING_HOURS = 24;

export interface RequestBookingInput {
  externalOwnerId: string;
  calendarId?: string;
  start: string;
  end: string;
  title: string;
  bookee: { email: string; name?: string };
  /** 'meet': Google creates a Meet link for the event (the booking says pending until it has). */
  conference?: 'meet';
}

function instant(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new AppError('VALIDATION', `${field} is not a valid ISO 8601 date-time: ${value}`);
  return d;
}


/** A slot a booking may take (request and reschedule): valid instants, end after start, not past, not too long. */
export function checkedSlot(ctx: Ctx, input: { start: string; end: string }): { start: Date; end: Date } {
  const start = instant(input.start, 'start');
  const end = instant(input.end, 'end');
  if (end.getTime() <= start.getTime()) {
    throw new AppError('VALIDATION', `end (${input.end}) must be after start (${input.start})`);
  }
  const now = ctx.clock.now();
  if (start.getTime() < now.getTime()) {
    throw new AppError('VALIDATION', `the slot is in the past: it starts at ${start.toISOString()}, it is now ${now.toISOString()}`);
  }
  if (end.getTime() - start.getTime() > MAX_BOOKING_HOURS * 3_600_000) {
    throw new AppError('VALIDATION', `a booking lasts at most ${MAX_BOOKING_HOURS} hours`);
  }
  return { start, end };
}

export async function requestBooking(ctx: Ctx, input: RequestBookingInput): Promise<BookingView> {
  const { start, end } = checkedSlot(ctx, input);
  const now = ctx.clock.now();
  const email = input.bookee.email.trim().toLowerCase();
  if (!Email.safeParse(email).success) throw new AppError('VALIDATION', `bookee.email is not a valid email address: ${input.bookee.email}`);
  const title = input.title.trim();
  if (!title) throw new AppError('VALIDATION', 'title must not be empty');

  const owner = await activeOwner(ctx, input.externalOwnerId);
  const calendarId = await writableCalendar(ctx, owner.id, input.externalOwnerId, input.calendarId ?? 'primary');
  const busy = await busyIntervals(ctx, { ownerId: owner.id, from: start, to: end });
  const clash = busy.find((i) => i.start.getTime() < end.getTime() && i.end.getTime() > start.getTime());
  if (clash) {
    throw new AppError(
      'CONFLICT',
      `the slot ${start.toISOString()}/${end.toISOString()} is not free: the owner is busy ${clash.start.toISOString()}/${clash.end.toISOString()}`,
    );
  }

  const { autoConfirm } = await settingsFor(ctx.db, owner.id);
  const id = randomUUID();
  try {
    await ctx.db.transaction(async (tx) => {
      await lockOwnerSlots(tx, owner.id);
      const row = await insertBooking(tx, {
        id,
        ownerId: owner.id,
        externalOwnerId: owner.externalOwnerId,
        calendarId,
        googleEventId: eventIdForBooking(id),
        status: autoConfirm ? 'confirmed' : 'requested',
        statusReason: autoConfirm ? 'confirmed automatically: the time was free' : 'requested by the bookee',
        title,
        bookeeEmail: email,
        bookeeName: input.bookee.name?.trim() || null,
        startAt: start,
        endAt: end,
        autoConfirmed: autoConfirm,
        conference: input.conference ?? null,
        // The event must be inserted: one Google write owed.
        googleVersion: 1,
        statusChangedAt: now,
        createdAt: now,
        updatedAt: now,
      });
      await publishBookingChanged(tx, ctx, row, autoConfirm ? 'confirmed' : 'requested');
      await enqueueReconcile(tx, ctx, id, { afterSeconds: SAFETY_NET_SECONDS });
    });
  } catch (err) {
    if (isExclusionViolation(err)) {
      throw new AppError('CONFLICT', `the slot ${start.toISOString()}/${end.toISOString()} overlaps another requested or confirmed booking of this owner`);
    }
    throw err;
  }

  try {
    const done = await reconcileBooking(ctx, id);
    return bookingView(done!);
  } catch (err) {
    await failBooking(ctx, id, err);
    throw googleFailure(err, `booking ${id} failed: Google did not take the event`);
  }
}

/**
 * The calendar the event goes to, as Google names it ('primary' resolved), from the owner's mirror:
 * only a selected calendar is synced, and only a synced calendar lets the bookee's answers flow back.
 */
async function writableCalendar(ctx: Ctx, ownerId: string, externalOwnerId: string, calendarId: string): Promise<string> {
  const cal = await findCalendar(ctx, ownerId, calendarId);
  if (!cal || cal.deleted) {
    throw new AppError(
      'NOT_FOUND',
      calendarId === 'primary'
        ? `owner ${externalOwnerId} has no primary calendar in the mirror yet (the first calendar-list sync may still be running)`
        : `owner ${externalOwnerId} has no calendar ${calendarId}`,
    );
  }
  if (!cal.selected) {
    throw new AppError('CONFLICT', `calendar ${cal.calendarId} is not selected: select it (calendars.setSelected) so that answers made in Google flow back`);
  }
  if (cal.accessRole && cal.accessRole !== 'owner' && cal.accessRole !== 'writer') {
    throw new AppError('FORBIDDEN', `calendar ${cal.calendarId} is read-only for owner ${externalOwnerId} (${cal.accessRole})`);
  }
  return cal.calendarId;
}

/**
 * Google refused the insert for good: the booking becomes `failed`, which frees the slot. When the
 * failure leaves doubt (a timeout or 5xx may come after Google stored the event), Google is asked
 * to delete the event by its id, so no invitation for a failed booking survives.
 */
async function failBooking(ctx: Ctx, id: string, err: unknown): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  const doubtful = !(err instanceof AppError) || err.retryable;
  await ctx.db.transaction(async (tx) => {
    const cur = await bookingById(tx, id, { forUpdate: true });
    if (!cur || !LIVE_STATUSES.includes(cur.status) || cur.eventInserted) return;
    await transitionBooking(tx, ctx, cur, 'failed', {
      reason: `Google did not take the event: ${message}`,
      cause: 'failed',
      ...(doubtful ? { google: 'now' as const } : {}),
      extra: { lastError: message.slice(0, 1000), lastErrorAt: ctx.clock.now() },
    });
    // A definite refusal (4xx) stored nothing at Google: the insert that was owed is moot.
    if (!doubtful) await settleGoogle(tx, id);
  });
  ctx.log.warn({ bookingId: id, err: { message }, cleanup: doubtful }, 'booking failed: Google did not take the event');
}
