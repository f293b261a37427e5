// Queries over the bookings module's own tables. Every function takes the executor first.
import { and, asc, desc, eq, gt, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/index.ts';
import { bookings, bookingSettings, type Booking, type BookingStatus } from '../../schema/bookings.ts';

export type { Booking, BookingStatus };
export type NewBooking = typeof bookings.$inferInsert;

/** The statuses that hold the slot (the exclusion constraint's WHERE clause says the same). */
export const LIVE_STATUSES: readonly BookingStatus[] = ['requested', 'confirmed'];

export async function insertBooking(db: Executor, row: NewBooking): Promise<Booking> {
  const [created] = await db.insert(bookings).values(row).returning();
  return created!;
}

export async function bookingById(db: Executor, id: string, opts: { forUpdate?: boolean } = {}): Promise<Booking | undefined> {
  const q = db.select().from(bookings).where(eq(bookings.id, id));
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

/**
 * The owner's bookings on this calendar whose events are among these Google event ids, locked for
 * the change-set handler. The calendar matters: Google puts a copy of an invitation, with the same
 * event id, on each guest's calendar ("copied to Susan and Wei as attendees", Calendar API concepts
 * overview), and an owner may have a guest's calendar selected too. Only the copy on the booking's
 * own calendar (the organizer's) speaks for the booking.
 */
export async function bookingsByEventIds(db: Executor, ownerId: string, calendarId: string, googleEventIds: string[]): Promise<Booking[]> {
  if (googleEventIds.length === 0) return [];
  return db
    .select()
    .from(bookings)
    .where(and(eq(bookings.ownerId, ownerId), eq(bookings.calendarId, calendarId), inArray(bookings.googleEventId, googleEventIds)))
    .orderBy(asc(bookings.id))
    .for('update');
}

export type BookingPatch = Partial<
  Pick<
    Booking,
    | 'status'
    | 'statusReason'
    | 'calendarId'
    | 'bookeeResponse'
    | 'startAt'
    | 'endAt'
    | 'eventInserted'
    | 'lastError'
    | 'lastErrorAt'
    | 'statusChangedAt'
    | 'conferenceStatus'
    | 'conferenceLink'
    | 'timesOwed'
  >
>;

/**
 * Updates a booking. `bumpGoogle` records that Google must be brought in line with the row (the
 * outbox counter); `onlyFrom` makes the update conditional on the current status (a transition).
 */
export async function updateBooking(
  db: Executor,
  id: string,
  patch: BookingPatch,
  opts: { bumpGoogle?: boolean; onlyFrom?: readonly BookingStatus[]; now: Date },
): Promise<Booking | undefined> {
  const where: SQL[] = [eq(bookings.id, id)];
  if (opts.onlyFrom) where.push(inArray(bookings.status, [...opts.onlyFrom]));
  const [row] = await db
    .update(bookings)
    .set({
      ...patch,
      ...(opts.bumpGoogle ? { googleVersion: sql`${bookings.googleVersion} + 1` } : {}),
      updatedAt: opts.now,
    })
    .where(and(...where))
    .returning();
  return row;
}

/** Google has been brought in line up to `version` (never moves backwards). */
export async function markGoogleApplied(db: Executor, id: string, version: number, now: Date): Promise<void> {
  await db
    .update(bookings)
    .set({
      googleAppliedVersion: sql`greatest(${bookings.googleAppliedVersion}, ${version})`,
      lastError: null,
      lastErrorAt: null,
      updatedAt: now,
    })
    .where(eq(bookings.id, id));
}

/** The event now has these times at Google: the reschedule's write is done (unless it moved again since). */
export async function settleTimes(db: Executor, id: string, startAt: Date, endAt: Date): Promise<void> {
  await db
    .update(bookings)
    .set({ timesOwed: false })
    .where(and(eq(bookings.id, id), eq(bookings.startAt, startAt), eq(bookings.endAt, endAt)));
}

/** Nothing is owed to Google any more (the owed write became moot); the last error stays. */
export async function settleGoogle(db: Executor, id: string): Promise<void> {
  await db.update(bookings).set({ googleAppliedVersion: bookings.googleVersion }).where(eq(bookings.id, id));
}

export async function recordGoogleError(db: Executor, id: string, message: string, now: Date): Promise<void> {
  await db.update(bookings).set({ lastError: message.slice(0, 1000), lastErrorAt: now, updatedAt: now }).where(eq(bookings.id, id));
}

export interface BookingFilter {
  ownerId?: string;
  status?: BookingStatus;
  /** Bookings overlapping [from, to). */
  from?: Date;
  to?: Date;
  /** Keyset: bookings created before / after this sequence number. */
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
  order: 'asc' | 'desc';
}

export async function listBookings(db: Executor, f: BookingFilter): Promise<Booking[]> {
  const where: SQL[] = [];
  if (f.ownerId) where.push(eq(bookings.ownerId, f.ownerId));
  if (f.status) where.push(eq(bookings.status, f.status));
  if (f.from) where.push(gt(bookings.endAt, f.from));
  if (f.to) where.push(lt(bookings.startAt, f.to));
  if (f.beforeSeq !== undefined) where.push(lt(bookings.seq, f.beforeSeq));
  if (f.afterSeq !== undefined) where.push(gt(bookings.seq, f.afterSeq));
  return db
    .select()
    .from(bookings)
    .where(where.length ? and(...where) : undefined)
    .orderBy(f.order === 'asc' ? asc(bookings.seq) : desc(bookings.seq))
    .limit(f.limit);
}

/** Bookings ordered by start time for bookings.list (keyset on (start, seq)). */
export async function listBookingsByStart(
  db: Executor,
  f: { ownerId: string; status?: BookingStatus; from?: Date; to?: Date; after?: { startAt: Date; seq: number }; limit: number },
): Promise<Booking[]> {
  const where: SQL[] = [eq(bookings.ownerId, f.ownerId)];
  if (f.status) where.push(eq(bookings.status, f.status));
  if (f.from) where.push(gt(bookings.endAt, f.from));
  if (f.to) where.push(lt(bookings.startAt, f.to));
  if (f.after) {
    where.push(sql`(${bookings.startAt}, ${bookings.seq}) > (${f.after.startAt.toISOString()}::timestamptz, ${f.after.seq})`);
  }
  return db
    .select()
    .from(bookings)
    .where(and(...where))
    .orderBy(asc(bookings.startAt), asc(bookings.seq))
    .limit(f.limit);
}

export async function deleteOwnerBookings(db: Executor, ownerId: string): Promise<number> {
  const gone = await db.delete(bookings).where(eq(bookings.ownerId, ownerId)).returning({ id: bookings.id });
  await db.delete(bookingSettings).where(eq(bookingSettings.ownerId, ownerId));
  return gone.length;
}

export async function settingsFor(db: Executor, ownerId: string): Promise<{ autoConfirm: boolean; updatedAt: Date | null }> {
  const [row] = await db.select().from(bookingSettings).where(eq(bookingSettings.ownerId, ownerId));
  return { autoConfirm: row?.autoConfirm ?? false, updatedAt: row?.updatedAt ?? null };
}

export async function saveSettings(db: Executor, ownerId: string, s: { autoConfirm: boolean }, now: Date): Promise<{ autoConfirm: boolean; updatedAt: Date }> {
  const [row] = await db
    .insert(bookingSettings)
    .values({ ownerId, autoConfirm: s.autoConfirm, updatedAt: now })
    .onConflictDoUpdate({ target: bookingSettings.ownerId, set: { autoConfirm: s.autoConfirm, updatedAt: now } })
    .returning();
  return { autoConfirm: row!.autoConfirm, updatedAt: row!.updatedAt };
}

/**
 * Serialises the inserting transactions of one owner. The exclusion constraint alone is the
 * guarantee, but two concurrent inserts of overlapping ranges can each wait for the other's
 * uncommitted index entry and end in a deadlock (40P01, after deadlock_timeout) instead of a
 * clean exclusion_violation for the later one; taking this lock first avoids that.
 */
export async function lockOwnerSlots(db: Executor, ownerId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(727008, hashtext(${ownerId}))`);
}

/** Postgres raised exclusion_violation (23P01): the slot overlaps another live booking. */
export function isExclusionViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === '23P01') return true;
  }
  return false;
}
