// Busy and free queries: merged, sorted intervals cut to the asked range. Live owners read
// blocked_times; an owner unlinked with keepBlockedTimes reads its frozen rows.
import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { findOwnerByExternalId, getOwner, type Owner } from '../links/index.ts';
import { findCalendar } from '../sync/index.ts';
import { blockedTimes, frozenBlockedTimes } from '../../schema/availability.ts';
import { clipIntervals, mergeIntervals, type Interval } from './intervals.ts';
import { readPreferences, readPreferencesOf, type StoredPreferences } from './store.ts';
import { DEFAULT_PREFERENCES } from './blocked-times.ts';
import { DAY_MS, MINUTE_MS } from '../time-zones/index.ts';

/** The longest range one query may ask: a year (a leap one included). */
export const MAX_RANGE_MS = 366 * DAY_MS;

export interface BusyInput {
  ownerId: string;
  from: Date;
  to: Date;
  /** Google calendar ids ('primary' allowed); default: the owner's preference, else every selected calendar. */
  calendarIds?: string[];
}

export interface TimeInterval {
  start: Date;
  end: Date;
}

export function checkRange(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new AppError('VALIDATION', '`from` and `to` must be valid instants');
  if (to.getTime() <= from.getTime()) throw new AppError('VALIDATION', '`to` must be after `from`');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw new AppError('VALIDATION', 'the range from `from` to `to` must not exceed 1 year (366 days)');
}

export const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Gaps and islands over one owner's rows (s, e), in one pass in start order: the owner's index
 * range (owner, start, end) read in index order, so neither a sort nor a hash. A row starts a new
 * island when it begins after every earlier row has ended (`pe`, the running latest end before it;
 * touching intervals merge). Only the island starts and the last row leave the window: an island
 * ends where the next start's `pe` says the earlier rows ended (or, for the last island, at the
 * latest end including the last row). The running max keeps no rows behind it, so the window's
 * store stays flat however many rows the range holds (it runs in 64 kB of work_mem at 200,000 rows:
 * bench/availability.ts). Islands are cut to [from, to), as epoch ms.
 */
function islands(rows: SQL, from: Date, to: Date): SQL {
  return sql`select (extract(epoch from greatest(k.s, ${ts(from)})) * 1000)::float8 as s,
      (extract(epoch from least(coalesce(k.closes_before, k.e), ${ts(to)})) * 1000)::float8 as e
    from (
      select w.s, w.e, w.pe, lead(case when w.pe is null or w.s > w.pe then w.pe else greatest(w.pe, w.e) end) over (order by w.s, w.e) as closes_before
      from (
        select r.s, r.e, max(r.e) over run as pe, lead(r.s) over run as next_start
        from (${rows}) r
        window run as (order by r.s, r.e rows between unbounded preceding and 1 preceding)
      ) w
      where w.pe is null or w.s > w.pe or w.next_start is null
    ) k
    where k.pe is null or k.s > k.pe`;
}

/**
 * The statement of merged intervals (o, s, e) per owner, one arm per owner. No ORDER BY: each arm
 * leaves its window in start order, and a sort of the output would be the statement's only use of
 * work memory; the order is made sure of in readMerged instead (already sorted: one comparison each).
 */
function mergedStatement(arms: SQL[]): SQL {
  return arms.length === 1 ? arms[0]! : sql.join(arms.map((p) => sql`(${p})`), sql` union all `);
}

async function readMerged(db: Executor, statement: SQL): Promise<Map<string, Interval[]>> {
  const result = await db.execute<{ o: string; s: number; e: number }>(statement);
  const out = new Map<string, Interval[]>();
  for (const r of result) {
    let list = out.get(r.o);
    if (!list) out.set(r.o, (list = []));
    list.push({ start: Number(r.s), end: Number(r.e) });
  }
  for (const list of out.values()) list.sort((a, b) => a.start - b.start);
  return out;
}

export function calendarFilter(column: SQL, ids: string[] | null): SQL {
  if (ids === null) return sql`true`;
  if (ids.length === 0) return sql`false`;
  return sql`${column} in (${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )})`;
}

/** 'primary' is Google's alias of the owner's primary calendar: resolved through the sync's face. */
async function resolveCalendarIds(ctx: Ctx, ownerId: string, ids: string[] | null): Promise<string[] | null> {
  if (ids === null || !ids.includes('primary')) return ids;
  const primary = await findCalendar(ctx, ownerId, 'primary');
  return [...new Set(ids.map((id) => (id === 'primary' ? primary?.calendarId : id)).filter((id): id is string => !!id))];
}

/** The calendar ids that count for one owner (the explicit list, else the preference; null: all). */
export async function countingCalendarIds(ctx: Ctx, owner: Owner, calendarIds: string[] | undefined, prefs?: StoredPreferences): Promise<string[] | null> {
  // Frozen by UNLINKED keepBlockedTimes: the calendars are gone, so ids are matched as given.
  if (owner.status === 'unlinked') return calendarIds ?? null;
  const wanted = calendarIds ?? (prefs ?? (await readPreferences(ctx.db, owner.id))).calendarIds;
  return resolveCalendarIds(ctx, owner.id, wanted);
}

/**
 * One owner's arm (o, s, e): its blocked times overlapping [from, to) (live, or frozen by an
 * unlink), merged. Empty rows (end not after start) are dropped, as mergeIntervals does.
 */
function ownerArm(owner: Owner, ids: string[] | null, from: Date, to: Date): SQL {
  let rows: SQL;
  if (owner.status === 'unlinked') {
    const f = frozenBlockedTimes;
    rows = sql`select ${f.startAt} as s, ${f.endAt} as e from ${f}
      where ${f.formerOwnerId} = ${owner.id} and ${f.startAt} < ${ts(to)} and ${f.endAt} > ${ts(from)} and ${f.endAt} > ${f.startAt}
      and ${calendarFilter(sql`${f.calendarId}`, ids)}`;
  } else {
    const b = blockedTimes;
    rows = sql`select ${b.startAt} as s, ${b.endAt} as e from ${b}
      where ${b.ownerId} = ${owner.id} and ${b.startAt} < ${ts(to)} and ${b.endAt} > ${ts(from)} and ${b.endAt} > ${b.startAt}
      and ${calendarFilter(sql`${b.calendarId}`, ids)}`;
  }
  return sql`select ${owner.id}::text as o, i.s, i.e from (${islands(rows, from, to)}) i`;
}

/**
 * Several live owners in one arm: a list of (owner, calendar ids) joined laterally to the same
 * one-pass merge, so the statement is planned once however many owners it names (ten arms of
 * their own cost more to plan than four weeks of rows cost to merge). Each owner is still its own
 * index range, read in order.
 */
function liveOwnersArm(list: Array<{ id: string; ids: string[] | null }>, from: Date, to: Date): SQL {
  const b = blockedTimes;
  const values = sql.join(
    list.map((q) => {
      const cals = q.ids === null ? sql`null::text[]` : sql`array[${sql.join(q.ids.map((id) => sql`${id}`), sql`, `)}]::text[]`;
      return sql`(${q.id}::uuid, ${cals})`;
    }),
    sql`, `,
  );
  const rows = sql`select ${b.startAt} as s, ${b.endAt} as e from ${b}
    where ${b.ownerId} = q.owner and ${b.startAt} < ${ts(to)} and ${b.endAt} > ${ts(from)} and ${b.endAt} > ${b.startAt}
    and (q.cals is null or ${b.calendarId} = any (q.cals))`;
  return sql`select q.owner::text as o, i.s, i.e from (values ${values}) as q(owner, cals) cross join lateral (${islands(rows, from, to)}) i`;
}

export interface OwnerQuery {
  owner: Owner;
  calendarIds?: string[];
}

/**
 * Merged busy intervals (ms) of several owners over [from, to) in one statement: each owner's rows
 * come from its own index range and are merged there (one arm for one live owner, one lateral arm
 * for several, one arm per unlinked owner's frozen rows, `union all`).
 */
export async function busyOfOwners(ctx: Ctx, owners: OwnerQuery[], from: Date, to: Date): Promise<Map<string, Interval[]>> {
  if (owners.length === 0) return new Map();
  return readMerged(ctx.db, await busyStatement(ctx, owners, from, to));
}

/** The one statement busyOfOwners runs (bench/availability.ts prints its EXPLAIN ANALYZE). */
export async function busyStatement(ctx: Ctx, owners: OwnerQuery[], from: Date, to: Date): Promise<SQL> {
  // Every owner's preference in one query (several owners), then each owner's calendar choice.
  const prefs = owners.length > 1 ? await readPreferencesOf(ctx.db, owners.map((q) => q.owner.id)) : undefined;
  const ids = await Promise.all(
    owners.map((q) => countingCalendarIds(ctx, q.owner, q.calendarIds, prefs ? (prefs.get(q.owner.id) ?? { ...DEFAULT_PREFERENCES, calendarIds: null }) : undefined)),
  );
  const live = owners.flatMap((q, n) => (q.owner.status === 'unlinked' ? [] : [{ id: q.owner.id, ids: ids[n]! }]));
  const arms = owners.flatMap((q, n) => (q.owner.status === 'unlinked' || live.length === 1 ? [ownerArm(q.owner, ids[n]!, from, to)] : []));
  if (live.length > 1) arms.push(liveOwnersArm(live, from, to));
  return mergedStatement(arms);
}

/**
 * Busy intervals widened by buffers around each (`before` ms ahead of its start, `after` ms past its
 * end), merged again and cut to [from, to). Widening merged islands equals widening every row.
 */
export function withBuffers(busy: Interval[], beforeMs: number, afterMs: number, from: number, to: number): Interval[] {
  if (beforeMs === 0 && afterMs === 0) return busy;
  return clipIntervals(mergeIntervals(busy.map((i) => ({ start: i.start - beforeMs, end: i.end + afterMs }))), from, to);
}

async function busyOfOwner(ctx: Ctx, owner: Owner, input: Omit<BusyInput, 'ownerId'>): Promise<TimeInterval[]> {
  const merged = (await busyOfOwners(ctx, [{ owner, ...(input.calendarIds ? { calendarIds: input.calendarIds } : {}) }], input.from, input.to)).get(owner.id) ?? [];
  return merged.map((i) => ({ start: new Date(i.start), end: new Date(i.end) }));
}

/** The face function bookings uses: busy intervals of an owner (by our id), merged and sorted. */
export async function busyIntervals(ctx: Ctx, input: BusyInput): Promise<TimeInterval[]> {
  checkRange(input.from, input.to);
  const owner = await getOwner(ctx, input.ownerId);
  if (!owner) throw new AppError('NOT_FOUND', `no owner ${input.ownerId}`);
  return busyOfOwner(ctx, owner, input);
}

export async function ownerByExternalId(ctx: Ctx, externalOwnerId: string): Promise<Owner> {
  const owner = await findOwnerByExternalId(ctx, externalOwnerId);
  if (!owner) throw new AppError('NOT_FOUND', `no owner ${externalOwnerId}`);
  return owner;
}

export interface ExternalBusyInput {
  externalOwnerId: string;
  from: Date;
  to: Date;
  calendarIds?: string[];
  /** Minutes counted busy ahead of each busy stretch. */
  bufferBeforeMinutes?: number;
  /** Minutes counted busy past each busy stretch. */
  bufferAfterMinutes?: number;
}

export function bufferMs(name: string, minutes: number | undefined): number {
  if (minutes === undefined) return 0;
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) throw new AppError('VALIDATION', `\`${name}\` must be an integer from 0 to 1440`);
  return minutes * MINUTE_MS;
}

export async function busyForExternalOwner(ctx: Ctx, input: ExternalBusyInput): Promise<TimeInterval[]> {
  checkRange(input.from, input.to);
  const beforeMs = bufferMs('bufferBeforeMinutes', input.bufferBeforeMinutes);
  const afterMs = bufferMs('bufferAfterMinutes', input.bufferAfterMinutes);
  const owner = await ownerByExternalId(ctx, input.externalOwnerId);
  if (beforeMs === 0 && afterMs === 0) return busyOfOwner(ctx, owner, input);
  // A busy row just outside [from, to) may reach into it by its buffer.
  const from = input.from.getTime();
  const to = input.to.getTime();
  const wide = await busyOfOwner(ctx, owner, { ...input, from: new Date(from - afterMs), to: new Date(to + beforeMs) });
  return withBuffers(
    wide.map((i) => ({ start: i.start.getTime(), end: i.end.getTime() })),
    beforeMs,
    afterMs,
    from,
    to,
  ).map((i) => ({ start: new Date(i.start), end: new Date(i.end) }));
}
