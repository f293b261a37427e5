// Queries over availability's own tables. Every function takes the executor first (pool or transaction).
import { and, asc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.ts';
import {
  availabilityPreferences,
  availabilitySeries,
  availabilitySources,
  blockedTimes,
  type AvailabilitySource,
  type AvailabilitySourceInsert,
} from '../../schema/availability.ts';
import { DEFAULT_PREFERENCES, type AvailabilityPreferences } from './blocked-times.ts';
import type { SourceEvent } from './source-event.ts';

/** Bind parameters per statement stay far below Postgres' 65,535. */
const CHUNK = 4000;

function* chunks<T>(items: T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export interface StoredPreferences extends AvailabilityPreferences {
  calendarIds: string[] | null;
}

export async function readPreferences(db: Executor, ownerId: string): Promise<StoredPreferences> {
  const [row] = await db.select().from(availabilityPreferences).where(eq(availabilityPreferences.ownerId, ownerId));
  return row ? { tentativeBlocks: row.tentativeBlocks, calendarIds: row.calendarIds } : { ...DEFAULT_PREFERENCES, calendarIds: null };
}

export async function readPreferencesOf(db: Executor, ownerIds: string[]): Promise<Map<string, StoredPreferences>> {
  const out = new Map<string, StoredPreferences>();
  for (const part of chunks([...new Set(ownerIds)])) {
    const rows = await db.select().from(availabilityPreferences).where(inArray(availabilityPreferences.ownerId, part));
    for (const r of rows) out.set(r.ownerId, { tentativeBlocks: r.tentativeBlocks, calendarIds: r.calendarIds });
  }
  return out;
}

export async function writePreferences(db: Executor, ownerId: string, prefs: StoredPreferences, now: Date): Promise<void> {
  await db
    .insert(availabilityPreferences)
    .values({ ownerId, tentativeBlocks: prefs.tentativeBlocks, calendarIds: prefs.calendarIds, updatedAt: now })
    .onConflictDoUpdate({
      target: availabilityPreferences.ownerId,
      set: { tentativeBlocks: prefs.tentativeBlocks, calendarIds: prefs.calendarIds, updatedAt: now },
    });
}

// --- sources

export interface CalendarRef {
  calendarRowId: string;
  ownerId: string;
  /** Google's calendar id. */
  calendarId: string;
  calendarTimeZone: string | null;
}

export function toSourceRow(src: SourceEvent, cal: CalendarRef, now: Date): AvailabilitySourceInsert {
  return {
    calendarRowId: cal.calendarRowId,
    googleEventId: src.eventId,
    ownerId: cal.ownerId,
    calendarId: cal.calendarId,
    seriesId: src.seriesId,
    status: src.status,
    transparency: src.transparency,
    eventType: src.eventType,
    selfResponse: src.selfResponse,
    start: src.start,
    end: src.end,
    endTimeUnspecified: src.endTimeUnspecified,
    recurrence: src.recurrence,
    originalStart: src.originalStart,
    visibility: src.visibility ?? null,
    calendarTimeZone: cal.calendarTimeZone,
    updatedAt: now,
  };
}

export function fromSourceRow(row: AvailabilitySource): SourceEvent {
  return {
    eventId: row.googleEventId,
    seriesId: row.seriesId,
    status: row.status,
    transparency: row.transparency,
    eventType: row.eventType,
    selfResponse: row.selfResponse,
    start: row.start,
    end: row.end,
    endTimeUnspecified: row.endTimeUnspecified,
    recurrence: row.recurrence,
    originalStart: row.originalStart,
    visibility: row.visibility,
  };
}

const SOURCE_UPDATABLE = [
  'ownerId',
  'calendarId',
  'seriesId',
  'status',
  'transparency',
  'eventType',
  'selfResponse',
  'start',
  'end',
  'endTimeUnspecified',
  'recurrence',
  'originalStart',
  'visibility',
  'calendarTimeZone',
  'updatedAt',
] as const;

/**
 * Rows as one JSON parameter that Postgres unpacks into the table's own row type: one statement
 * and one bind parameter per chunk, however many rows (as the mirror's writes do), instead of a
 * bind parameter per column per row built one by one.
 */
function rowsJson(rows: Array<Record<string, unknown>>, columns: Record<string, { name: string }>): string {
  const keys = Object.keys(columns);
  const toRecord = (row: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = row[k];
      if (v === undefined) continue;
      out[columns[k]!.name] = v instanceof Date ? v.toISOString() : v;
    }
    return out;
  };
  const json = JSON.stringify(rows.map(toRecord));
  // Postgres cannot store U+0000 in text or jsonb (src/sync/mirror-writes.ts drops it the same way).
  return json.includes('\\u0000') ? JSON.stringify(rows.map(toRecord), (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v)) : json;
}

const sourceColumns = getTableColumns(availabilitySources);
const sourceInsertColumns = sql.raw(Object.values(sourceColumns).map((c) => `"${c.name}"`).join(', '));
const sourceUpdateSet = sql.raw(SOURCE_UPDATABLE.map((k) => `"${availabilitySources[k].name}" = excluded."${availabilitySources[k].name}"`).join(', '));

export async function upsertSources(tx: Executor, rows: AvailabilitySourceInsert[]): Promise<void> {
  for (const part of chunks(rows, 5000)) {
    // Columns the caller left out take their defaults, as drizzle's insert gave them.
    const withDefaults = part.map((r) => ({ endTimeUnspecified: false, updatedAt: new Date(), ...r }));
    await tx.execute(sql`
      insert into ${availabilitySources} (${sourceInsertColumns})
      select ${sourceInsertColumns} from jsonb_populate_recordset(null::${availabilitySources}, ${rowsJson(withDefaults, sourceColumns)}::jsonb)
      on conflict (calendar_row_id, google_event_id) do update set ${sourceUpdateSet}`);
  }
}

export async function deleteSources(tx: Executor, calendarRowId: string, eventIds: string[]): Promise<void> {
  for (const part of chunks(eventIds)) {
    await tx.delete(availabilitySources).where(and(eq(availabilitySources.calendarRowId, calendarRowId), inArray(availabilitySources.googleEventId, part)));
  }
}

/** Every member of these series on one calendar. */
export async function loadSeriesSources(tx: Executor, calendarRowId: string, seriesIds: string[]): Promise<AvailabilitySource[]> {
  const out: AvailabilitySource[] = [];
  for (const part of chunks(seriesIds)) {
    out.push(
      ...(await tx
        .select()
        .from(availabilitySources)
        .where(and(eq(availabilitySources.calendarRowId, calendarRowId), inArray(availabilitySources.seriesId, part)))),
    );
  }
  return out;
}

export async function loadOwnerSources(tx: Executor, ownerId: string, opts: { forUpdate?: boolean } = {}): Promise<AvailabilitySource[]> {
  const q = tx
    .select()
    .from(availabilitySources)
    .where(eq(availabilitySources.ownerId, ownerId))
    .orderBy(asc(availabilitySources.calendarRowId), asc(availabilitySources.seriesId), asc(availabilitySources.googleEventId));
  return opts.forUpdate ? q.for('update') : q;
}

/** Locks the owner's series rows in key order (the order claimSeries takes them in). */
export async function lockOwnerSeries(tx: Executor, ownerId: string): Promise<void> {
  await tx
    .select({ seriesId: availabilitySeries.seriesId })
    .from(availabilitySeries)
    .where(eq(availabilitySeries.ownerId, ownerId))
    // Byte order, as claimSeries sorts in JavaScript: two lockers of one series take it in one order.
    .orderBy(asc(availabilitySeries.calendarRowId), sql`${availabilitySeries.seriesId} collate "C"`)
    .for('update');
}

/** Removes whole series (sources, expansion state and blocked times) from one calendar. */
export async function deleteSeries(tx: Executor, calendarRowId: string, seriesIds: string[]): Promise<void> {
  for (const part of chunks(seriesIds)) {
    await tx.delete(availabilitySources).where(and(eq(availabilitySources.calendarRowId, calendarRowId), inArray(availabilitySources.seriesId, part)));
    await tx.delete(availabilitySeries).where(and(eq(availabilitySeries.calendarRowId, calendarRowId), inArray(availabilitySeries.seriesId, part)));
    await tx.delete(blockedTimes).where(and(eq(blockedTimes.calendarRowId, calendarRowId), inArray(blockedTimes.seriesId, part)));
  }
}

/** Everything availability holds for one calendar (deselected, or gone at Google). */
export async function deleteCalendar(tx: Executor, calendarRowId: string): Promise<void> {
  await tx.delete(blockedTimes).where(eq(blockedTimes.calendarRowId, calendarRowId));
  await tx.delete(availabilitySeries).where(eq(availabilitySeries.calendarRowId, calendarRowId));
  await tx.delete(availabilitySources).where(eq(availabilitySources.calendarRowId, calendarRowId));
}

// --- series expansion state

/**
 * Creates or locks the series rows (in a fixed order, so two writers never deadlock) and returns how
 * far each is materialised: never less than `until`, never moved back.
 */
export async function claimSeries(
  tx: Executor,
  keys: Array<{ calendarRowId: string; seriesId: string; ownerId: string }>,
  until: Date,
): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  const sorted = [...keys].sort((a, b) => a.calendarRowId.localeCompare(b.calendarRowId) || (a.seriesId < b.seriesId ? -1 : a.seriesId > b.seriesId ? 1 : 0));
  for (const part of chunks(sorted, 2000)) {
    const rows = await tx
      .insert(availabilitySeries)
      .values(part.map((k) => ({ ...k, expandedUntil: until })))
      .onConflictDoUpdate({
        target: [availabilitySeries.calendarRowId, availabilitySeries.seriesId],
        set: { expandedUntil: sql`greatest(${availabilitySeries.expandedUntil}, excluded.expanded_until)` },
      })
      .returning({ calendarRowId: availabilitySeries.calendarRowId, seriesId: availabilitySeries.seriesId, expandedUntil: availabilitySeries.expandedUntil });
    for (const r of rows) out.set(seriesKey(r.calendarRowId, r.seriesId), r.expandedUntil);
  }
  return out;
}

export async function releaseSeries(tx: Executor, calendarRowId: string, seriesIds: string[]): Promise<void> {
  for (const part of chunks(seriesIds)) {
    await tx.delete(availabilitySeries).where(and(eq(availabilitySeries.calendarRowId, calendarRowId), inArray(availabilitySeries.seriesId, part)));
  }
}

export const seriesKey = (calendarRowId: string, seriesId: string) => `${calendarRowId} ${seriesId}`;

// --- blocked times

export interface BlockedTimeInsert {
  ownerId: string;
  calendarRowId: string;
  calendarId: string;
  seriesId: string;
  sourceEventId: string;
  startAt: Date;
  endAt: Date;
}

export async function deleteBlockedTimesOf(tx: Executor, calendarRowId: string, seriesIds: string[]): Promise<void> {
  for (const part of chunks(seriesIds)) {
    await tx.delete(blockedTimes).where(and(eq(blockedTimes.calendarRowId, calendarRowId), inArray(blockedTimes.seriesId, part)));
  }
}

/** The owner's blocked times whose series has no source left (a rule or a race left them behind). */
export async function deleteOrphanBlockedTimes(tx: Executor, ownerId: string): Promise<number> {
  const b = blockedTimes;
  const s = availabilitySources;
  const rows = await tx.execute(sql`
    delete from ${b} where ${b.ownerId} = ${ownerId}
    and not exists (select 1 from ${s} where ${s.calendarRowId} = ${b.calendarRowId} and ${s.seriesId} = ${b.seriesId})
    returning 1`);
  return [...rows].length;
}

const BLOCKED_COLUMNS = ['ownerId', 'calendarRowId', 'calendarId', 'seriesId', 'sourceEventId', 'startAt', 'endAt'] as const;
const blockedColumns = Object.fromEntries(BLOCKED_COLUMNS.map((k) => [k, blockedTimes[k]]));
const blockedInsertColumns = sql.raw(BLOCKED_COLUMNS.map((k) => `"${blockedTimes[k].name}"`).join(', '));
const blockedRecordset = (json: string) => sql`
  select ${blockedInsertColumns} from jsonb_to_recordset(${json}::jsonb)
    as x(owner_id uuid, calendar_row_id uuid, calendar_id text, series_id text, source_event_id text, start_at timestamptz, end_at timestamptz)`;

export async function insertBlockedTimes(tx: Executor, rows: BlockedTimeInsert[]): Promise<void> {
  for (const part of chunks(rows, 10_000)) {
    await tx.execute(sql`insert into ${blockedTimes} (${blockedInsertColumns}) ${blockedRecordset(rowsJson(part as never, blockedColumns))}`);
  }
}

/** A text[] from one JSON parameter (an index can take `= any(...)` of it, unlike `in (select ...)`). */
const textArray = (ids: string[]) => sql`array(select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;

/**
 * The blocked times of these series on one calendar replaced in one statement: the series rows of
 * those that no longer recur released, the old blocked times deleted, the new ones inserted (the
 * deletes see the table as it was before the statement, so they never touch the rows it inserts).
 */
export async function replaceSeriesBlockedTimes(
  tx: Executor,
  calendarRowId: string,
  series: { all: string[]; oneOff: string[] },
  rows: BlockedTimeInsert[],
): Promise<void> {
  if (series.all.length > 5000 || rows.length > 10_000) {
    if (series.oneOff.length > 0) await releaseSeries(tx, calendarRowId, series.oneOff);
    await deleteBlockedTimesOf(tx, calendarRowId, series.all);
    await insertBlockedTimes(tx, rows);
    return;
  }
  await tx.execute(sql`
    with released as (
      delete from ${availabilitySeries} where ${availabilitySeries.calendarRowId} = ${calendarRowId}::uuid and ${availabilitySeries.seriesId} = any(${textArray(series.oneOff)})
    ), cleared as (
      delete from ${blockedTimes} where ${blockedTimes.calendarRowId} = ${calendarRowId}::uuid and ${blockedTimes.seriesId} = any(${textArray(series.all)})
    )
    insert into ${blockedTimes} (${blockedInsertColumns}) ${blockedRecordset(rowsJson(rows as never, blockedColumns))}`);
}
