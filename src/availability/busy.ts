// Busy and free queries: merged, sorted intervals cut to the asked range. Live owners read
// blocked_times; an owner unlinked with keepBlockedTimes reads its frozen rows.
import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { findOwnerByExternalId, getOwner, type Owner } from '../links/index.ts';
import { findCalendar } from '../sync/index.ts';
import { blockedTimes, frozenBlockedTimes } from '../../schema/availability.ts';
import { freeSlots, parseClock, type Interval, type WorkingHours } from './intervals.ts';
import { readPreferences } from './store.ts';
import { DAY_MS, isValidTimeZone } from '../time-zones/index.ts';

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

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Gaps and islands in SQL over rows (s, e) overlapping [from, to), in start order (the index order,
 * so no sort): a row starts a new island when it begins after every earlier row has ended (touching
 * intervals merge). Islands are cut to [from, to) at the end.
 */
async function mergedIntervals(db: Executor, rows: SQL, from: Date, to: Date): Promise<Interval[]> {
  const result = await db.execute<{ s: number; e: number }>(sql`
    with b as (${rows}),
    o as (select s, e, max(e) over w as prev_end from b window w as (order by s, e rows between unbounded preceding and 1 preceding)),
    g as (select s, e, sum(case when prev_end is null or s > prev_end then 1 else 0 end) over (order by s, e rows unbounded preceding) as island from o)
    select (extract(epoch from greatest(min(s), ${ts(from)})) * 1000)::float8 as s,
           (extract(epoch from least(max(e), ${ts(to)})) * 1000)::float8 as e
    from g group by island order by 1`);
  return [...result].map((r) => ({ start: Number(r.s), end: Number(r.e) }));
}

function calendarFilter(column: SQL, ids: string[] | null): SQL {
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

async function busyOfOwner(ctx: Ctx, owner: Owner, input: Omit<BusyInput, 'ownerId'>): Promise<TimeInterval[]> {
  const { from, to } = input;
  let rows: SQL;
  if (owner.status === 'unlinked') {
    // Frozen by UNLINKED keepBlockedTimes: the calendars are gone, so ids are matched as given.
    const f = frozenBlockedTimes;
    rows = sql`select ${f.startAt} as s, ${f.endAt} as e from ${f}
      where ${f.formerOwnerId} = ${owner.id} and ${f.startAt} < ${ts(to)} and ${f.endAt} > ${ts(from)}
      and ${calendarFilter(sql`${f.calendarId}`, input.calendarIds ?? null)}`;
  } else {
    const wanted = input.calendarIds ?? (await readPreferences(ctx.db, owner.id)).calendarIds;
    const ids = await resolveCalendarIds(ctx, owner.id, wanted);
    const b = blockedTimes;
    rows = sql`select ${b.startAt} as s, ${b.endAt} as e from ${b}
      where ${b.ownerId} = ${owner.id} and ${b.startAt} < ${ts(to)} and ${b.endAt} > ${ts(from)}
      and ${calendarFilter(sql`${b.calendarId}`, ids)}`;
  }
  return (await mergedIntervals(ctx.db, rows, from, to)).map((i) => ({ start: new Date(i.start), end: new Date(i.end) }));
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

export async function busyForExternalOwner(
  ctx: Ctx,
  input: { externalOwnerId: string; from: Date; to: Date; calendarIds?: string[] },
): Promise<TimeInterval[]> {
  checkRange(input.from, input.to);
  const owner = await ownerByExternalId(ctx, input.externalOwnerId);
  return busyOfOwner(ctx, owner, input);
}

export interface FreeInput {
  externalOwnerId: string;
  from: Date;
  to: Date;
  durationMinutes: number;
  workingHours?: WorkingHours;
  calendarIds?: string[];
}

/** Free slots of at least `durationMinutes` in [from, to), within working hours when given. */
export async function freeForExternalOwner(ctx: Ctx, input: FreeInput): Promise<TimeInterval[]> {
  checkRange(input.from, input.to);
  const durationMs = input.durationMinutes * 60_000;
  if (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1) throw new AppError('VALIDATION', '`durationMinutes` must be a positive integer');
  const wh = input.workingHours;
  if (wh) {
    if (!isValidTimeZone(wh.timeZone)) throw new AppError('VALIDATION', `unknown time zone ${wh.timeZone}`);
    const start = parseClock(wh.start);
    const end = parseClock(wh.end);
    if (start === null || end === null) throw new AppError('VALIDATION', 'working hours are HH:MM (end up to 24:00)');
    if (end <= start) throw new AppError('VALIDATION', 'working hours must end after they start (overnight hours are not supported)');
    if (wh.days.length === 0 || wh.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
      throw new AppError('VALIDATION', 'working days are ISO weekdays 1 (Monday) to 7 (Sunday)');
    }
  }
  const busy = await busyForExternalOwner(ctx, input);
  return freeSlots(
    busy.map((b) => ({ start: b.start.getTime(), end: b.end.getTime() })),
    input.from.getTime(),
    input.to.getTime(),
    durationMs,
    wh,
  ).map((s) => ({ start: new Date(s.start), end: new Date(s.end) }));
}
