// bookings.reschedule: the owner (subscriber) moves a requested or confirmed booking to another time.
//
// The new time must be free: the owner's busy time (availability) except where the booking's own current
// time lies (its own event makes the owner busy there), and no other live booking (the exclusion
// constraint, under the owner's slot lock as in bookings.request). The move commits first with
// booking.changed (cause `rescheduled`) and the safety-net job; then the event is patched (start, end)
// with sendUpdates=all so that Google tells the bookee. The status does not change.
//
// The bookee's answer: Google resets the guests' answers when an event's start changes (not when only
// its end does; see docs/bookings.md for the source), so the booking's `bookeeResponse` becomes
// needsAction with it; the sync then reports the bookee's new answer as usual.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { busyIntervals } from '../availability/index.ts';
import { bookingById, isExclusionViolation, lockOwnerSlots, updateBooking, LIVE_STATUSES, type Booking } from './queries.ts';
import { checkedSlot } from './request-booking.ts';
import { tellGoogle } from './decide-booking.ts';
import { publishBookingChanged } from './publish.ts';
import { enqueueReconcile, SAFETY_NET_SECONDS } from './outbox.ts';
import { activeOwner } from './owner.ts';
import { bookingView, type BookingView } from './view.ts';

export interface RescheduleBookingInput {
  id: string;
  start: string;
  end: string;
}

const notLive = (b: Booking) =>
  new AppError('CONFLICT', `booking ${b.id} is ${b.status}: only a requested or confirmed booking can be rescheduled`);

/** Parts of [start, end) the interval `i` covers outside [holdStart, holdEnd) (the booking's own time). */
function outside(i: { start: Date; end: Date }, holdStart: Date, holdEnd: Date): Array<{ start: Date; end: Date }> {
  const parts: Array<{ start: Date; end: Date }> = [];
  if (i.start < holdStart) parts.push({ start: i.start, end: i.end < holdStart ? i.end : holdStart });
  if (i.end > holdEnd) parts.push({ start: i.start > holdEnd ? i.start : holdEnd, end: i.end });
  return parts.filter((p) => p.end > p.start);
}

export async function rescheduleBooking(ctx: Ctx, input: RescheduleBookingInput): Promise<BookingView> {
  const { start, end } = checkedSlot(ctx, input);
  const before = await bookingById(ctx.db, input.id);
  if (!before) throw new AppError('NOT_FOUND', `no booking ${input.id}`);
  if (!LIVE_STATUSES.includes(before.status)) throw notLive(before);
  if (before.startAt.getTime() === start.getTime() && before.endAt.getTime() === end.getTime()) return bookingView(before);
  await activeOwner(ctx, before.externalOwnerId);

  const busy = await busyIntervals(ctx, { ownerId: before.ownerId, from: start, to: end });
  const clash = busy.flatMap((i) => outside(i, before.startAt, before.endAt)).find((i) => i.start < end && i.end > start);
  if (clash) {
    throw new AppError(
      'CONFLICT',
      `the slot ${start.toISOString()}/${end.toISOString()} is not free: the owner is busy ${clash.start.toISOString()}/${clash.end.toISOString()}`,
    );
  }

  let moved: Booking;
  try {
    moved = await ctx.db.transaction(async (tx) => {
      await lockOwnerSlots(tx, before.ownerId);
      const cur = await bookingById(tx, input.id, { forUpdate: true });
      if (!cur) throw new AppError('NOT_FOUND', `no booking ${input.id}`);
      if (!LIVE_STATUSES.includes(cur.status)) throw notLive(cur);
      const now = ctx.clock.now();
      const startMoves = cur.startAt.getTime() !== start.getTime();
      const row = await updateBooking(
        tx,
        cur.id,
        { startAt: start, endAt: end, timesOwed: true, ...(startMoves ? { bookeeResponse: 'needsAction' } : {}), lastError: null, lastErrorAt: null },
        { bumpGoogle: true, onlyFrom: LIVE_STATUSES, now },
      );
      if (!row) throw new AppError('CONFLICT', `booking ${cur.id} changed meanwhile; try again`);
      await publishBookingChanged(tx, ctx, row, 'rescheduled', cur);
      await enqueueReconcile(tx, ctx, row.id, { afterSeconds: SAFETY_NET_SECONDS });
      return row;
    });
  } catch (err) {
    if (isExclusionViolation(err)) {
      throw new AppError('CONFLICT', `the slot ${start.toISOString()}/${end.toISOString()} overlaps another requested or confirmed booking of this owner`);
    }
    throw err;
  }

  const after = await tellGoogle(ctx, moved);
  if (!LIVE_STATUSES.includes(after.status)) {
    // Google had moved on meanwhile (e.g. the owner deleted the event there).
    throw new AppError('CONFLICT', `booking ${after.id} is ${after.status}${after.statusReason ? ` (${after.statusReason})` : ''}: could not reschedule it`);
  }
  return bookingView(after);
}
