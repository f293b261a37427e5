// Queries over the oncall module's own tables. Each takes the executor (pool or transaction) first.
import { and, asc, desc, eq, gt, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.ts';
import {
  oncallGroups,
  oncallMembers,
  oncallMessages,
  shifts,
  swaps,
  type OncallGroup,
  type OncallMember,
  type Shift,
  type Swap,
} from '../../schema/oncall.ts';
import type { SwapShift, ShiftStatus } from './find-shift-for-swap.ts';

export type { OncallGroup, OncallMember, Shift, Swap };

export async function groupById(db: Executor, id: string, opts: { forUpdate?: boolean } = {}): Promise<OncallGroup | undefined> {
  const q = db.select().from(oncallGroups).where(eq(oncallGroups.id, id));
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

export async function listGroups(db: Executor, opts: { limit: number; offset: number }): Promise<OncallGroup[]> {
  return db.select().from(oncallGroups).orderBy(asc(oncallGroups.createdAt), asc(oncallGroups.id)).limit(opts.limit).offset(opts.offset);
}

export async function groupsByIds(db: Executor, ids: readonly string[]): Promise<OncallGroup[]> {
  if (ids.length === 0) return [];
  return db.select().from(oncallGroups).where(inArray(oncallGroups.id, [...ids]));
}

export async function groupsForCalendar(db: Executor, ownerId: string, calendarId: string): Promise<OncallGroup[]> {
  return db
    .select()
    .from(oncallGroups)
    .where(and(eq(oncallGroups.ownerId, ownerId), eq(oncallGroups.calendarId, calendarId)));
}

export async function membersOf(db: Executor, groupId: string): Promise<OncallMember[]> {
  return db.select().from(oncallMembers).where(eq(oncallMembers.groupId, groupId)).orderBy(asc(oncallMembers.position));
}

/** Members of these groups, by group then position. */
export async function membersOfGroups(db: Executor, groupIds: readonly string[]): Promise<OncallMember[]> {
  if (groupIds.length === 0) return [];
  return db
    .select()
    .from(oncallMembers)
    .where(inArray(oncallMembers.groupId, [...groupIds]))
    .orderBy(asc(oncallMembers.groupId), asc(oncallMembers.position));
}

export async function shiftById(db: Executor, id: string, opts: { forUpdate?: boolean } = {}): Promise<Shift | undefined> {
  const q = db.select().from(shifts).where(eq(shifts.id, id));
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

export async function shiftsByIds(db: Executor, ids: readonly string[]): Promise<Shift[]> {
  if (ids.length === 0) return [];
  return db.select().from(shifts).where(inArray(shifts.id, [...ids]));
}

/** Shifts of these groups carried by these Google events. */
export async function shiftsForEvents(db: Executor, groupIds: string[], eventIds: string[]): Promise<Shift[]> {
  if (groupIds.length === 0 || eventIds.length === 0) return [];
  return db
    .select()
    .from(shifts)
    .where(and(inArray(shifts.groupId, groupIds), inArray(shifts.googleEventId, eventIds)));
}

/** Shifts of a group overlapping [from, to), by start. */
export async function shiftsOfGroup(db: Executor, groupId: string, range: { from?: Date; to?: Date } = {}): Promise<Shift[]> {
  const conds = [eq(shifts.groupId, groupId)];
  if (range.from) conds.push(gt(shifts.endAt, range.from));
  if (range.to) conds.push(lt(shifts.startAt, range.to));
  return db
    .select()
    .from(shifts)
    .where(and(...conds))
    .orderBy(asc(shifts.startAt), asc(shifts.id));
}

/** Shifts of these groups overlapping [from, to), by start: the first `perGroup` of each group. */
export async function shiftsOfGroups(db: Executor, groupIds: readonly string[], range: { from?: Date; to?: Date }, perGroup: number): Promise<Shift[]> {
  if (groupIds.length === 0) return [];
  const conds = [inArray(shifts.groupId, [...groupIds])];
  if (range.from) conds.push(gt(shifts.endAt, range.from));
  if (range.to) conds.push(lt(shifts.startAt, range.to));
  const ranked = db
    .select({ id: shifts.id, rank: sql<number>`row_number() over (partition by ${shifts.groupId} order by ${shifts.startAt}, ${shifts.id})`.as('rank') })
    .from(shifts)
    .where(and(...conds))
    .as('ranked');
  const rows = await db
    .select({ shift: shifts })
    .from(shifts)
    .innerJoin(ranked, eq(ranked.id, shifts.id))
    .where(lte(ranked.rank, perGroup))
    .orderBy(asc(shifts.startAt), asc(shifts.id));
  return rows.map((r) => r.shift);
}

export async function latestShift(db: Executor, groupId: string): Promise<Shift | undefined> {
  const rows = await db.select().from(shifts).where(eq(shifts.groupId, groupId)).orderBy(desc(shifts.startAt), desc(shifts.id)).limit(1);
  return rows[0];
}

export const toSwapShift = (s: Shift): SwapShift => ({
  id: s.id,
  assigneeEmail: s.assigneeEmail,
  start: s.startAt,
  end: s.endAt,
  status: s.status as ShiftStatus,
  swappedWithId: s.swappedWithId,
});

export async function swapById(db: Executor, id: string, opts: { forUpdate?: boolean } = {}): Promise<Swap | undefined> {
  const q = db.select().from(swaps).where(eq(swaps.id, id));
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

/** The group's swap still in flight (pending or being undone), if any: at most one by a unique index. */
export async function unfinishedSwap(db: Executor, groupId: string, opts: { forUpdate?: boolean } = {}): Promise<Swap | undefined> {
  const q = db
    .select()
    .from(swaps)
    .where(and(eq(swaps.groupId, groupId), inArray(swaps.state, ['pending', 'compensating'])));
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

export async function unfinishedSwapsOf(db: Executor, groupIds: string[]): Promise<Swap[]> {
  if (groupIds.length === 0) return [];
  return db
    .select()
    .from(swaps)
    .where(and(inArray(swaps.groupId, groupIds), inArray(swaps.state, ['pending', 'compensating'])));
}

/** Who a swap in flight is about to make the assignee of this shift (its patches may already be in Google). */
export const incomingAssignee = (swap: Swap, shiftId: string): string | undefined =>
  swap.state !== 'pending' ? undefined : swap.declinedShiftId === shiftId ? swap.toEmail : swap.swapShiftId === shiftId ? swap.fromEmail : undefined;

/** Swaps of these groups, newest first: the first `perGroup` of each group. */
export async function swapsOfGroups(db: Executor, groupIds: readonly string[], perGroup: number): Promise<Swap[]> {
  if (groupIds.length === 0) return [];
  const ranked = db
    .select({ id: swaps.id, rank: sql<number>`row_number() over (partition by ${swaps.groupId} order by ${swaps.createdAt} desc, ${swaps.id} desc)`.as('rank') })
    .from(swaps)
    .where(inArray(swaps.groupId, [...groupIds]))
    .as('ranked');
  const rows = await db
    .select({ swap: swaps })
    .from(swaps)
    .innerJoin(ranked, eq(ranked.id, swaps.id))
    .where(lte(ranked.rank, perGroup))
    .orderBy(desc(swaps.createdAt), desc(swaps.id));
  return rows.map((r) => r.swap);
}

/** Everyone who declined this shift (an automatic swap was decided for their decline). */
export async function previousDecliners(db: Executor, shiftId: string): Promise<string[]> {
  const rows = await db
    .select({ email: swaps.fromEmail })
    .from(swaps)
    .where(and(eq(swaps.declinedShiftId, shiftId), eq(swaps.kind, 'auto')));
  return [...new Set(rows.map((r) => r.email))];
}

/** Groups with an unfinished swap whose executor's lease ran out (crashed or gave up). */
// A Date inside a raw sql`` template reaches postgres.js unserialized (drizzle only maps column
// comparisons) and the query throws: pass it as an ISO string.
export async function groupsWithStaleSwaps(db: Executor, now: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ groupId: swaps.groupId })
    .from(swaps)
    .where(and(inArray(swaps.state, ['pending', 'compensating']), sql`(${swaps.leaseUntil} is null or ${swaps.leaseUntil} < ${now.toISOString()}::timestamptz)`));
  return rows.map((r) => r.groupId);
}

/** Groups with a declined future shift nobody is working on (a lost wake-up is repaired). */
export async function groupsWithDeclinedShifts(db: Executor, now: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ groupId: shifts.groupId })
    .from(shifts)
    .where(and(eq(shifts.status, 'declined'), gt(shifts.startAt, now)));
  return rows.map((r) => r.groupId);
}

export async function slackTsForSwaps(db: Executor, swapIds: readonly string[]): Promise<Map<string, string | null>> {
  if (swapIds.length === 0) return new Map();
  const rows = await db
    .select({ swapId: oncallMessages.swapId, ts: oncallMessages.slackTs })
    .from(oncallMessages)
    .where(inArray(oncallMessages.swapId, [...swapIds]));
  return new Map(rows.map((r) => [r.swapId!, r.ts]));
}
