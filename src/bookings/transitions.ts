// The state machine of a booking. A status changes only through `transitionBooking`, on a row the
// caller has locked, so that each transition happens once however many requests or notifications
// race for it; the change is published (booking.changed) in the same transaction.
//
//   requested --confirm--> confirmed          requested --deny--> denied
//   requested|confirmed --bookee declines in Google--> declined
//   requested|confirmed --owner deletes the event in Google, or bookings.cancel--> cancelled
//   requested|confirmed --Google refuses the insert--> failed
// (bookings.reschedule changes the times, never the status.)
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { updateBooking, type Booking, type BookingPatch, type BookingStatus } from './queries.ts';
import { publishBookingChanged, type BookingChangeCause } from './publish.ts';
import { enqueueReconcile, SAFETY_NET_SECONDS } from './outbox.ts';

const ALLOWED: Record<BookingStatus, readonly BookingStatus[]> = {
  requested: ['confirmed', 'denied', 'declined', 'cancelled', 'failed'],
  confirmed: ['declined', 'cancelled', 'failed'],
  denied: [],
  declined: [],
  cancelled: [],
  failed: [],
};

export function canTransition(from: BookingStatus, to: BookingStatus): boolean {
  return ALLOWED[from].includes(to);
}

export interface TransitionOptions {
  reason: string;
  cause: BookingChangeCause;
  /**
   * Google must follow (insert, patch or delete the event): 'now' enqueues the reconcile job to run
   * at once (reactions to Google), 'later' only as the safety net of a procedure that calls Google
   * itself right after the commit.
   */
  google?: 'now' | 'later';
  extra?: BookingPatch;
}

/** Moves a locked booking to `to`, or throws CONFLICT naming its current status. */
export async function transitionBooking(tx: Executor, ctx: Ctx, current: Booking, to: BookingStatus, opts: TransitionOptions): Promise<Booking> {
  if (!canTransition(current.status, to)) {
    throw new AppError('CONFLICT', `booking ${current.id} is ${current.status}: it cannot become ${to}`);
  }
  const now = ctx.clock.now();
  const row = await updateBooking(
    tx,
    current.id,
    { ...opts.extra, status: to, statusReason: opts.reason, statusChangedAt: now },
    { bumpGoogle: opts.google !== undefined, onlyFrom: [current.status], now },
  );
  if (!row) throw new AppError('CONFLICT', `booking ${current.id} changed meanwhile; try again`);
  await publishBookingChanged(tx, ctx, row, opts.cause, current);
  if (opts.google) await enqueueReconcile(tx, ctx, row.id, { afterSeconds: opts.google === 'later' ? SAFETY_NET_SECONDS : 0 });
  return row;
}
