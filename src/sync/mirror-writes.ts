// Writing one page of Google events into the mirror: previous rows read in one query, changed rows
// upserted in multi-row statements, deletions in one statement, and the change set built from the
// rows before and after. Runs inside the caller's transaction.
import { and, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.ts';
import type { calendar_v3 } from '../google/index.ts';
import { calendarEvents, type Calendar, type CalendarEvent, type CalendarEventInsert } from '../../schema/sync.ts';
import type { EventChange } from '../context/index.ts';
import { cancelledFrom, isDeletion, sameVersion, toMirrorEvent, toRow } from './map-event.ts';
import { startOfDateInZone } from './time-zone.ts';

const COLUMNS = [
  'calendarId',
  'ownerId',
  'googleEventId',
  'status',
  'summary',
  'startAt',
  'endAt',
  'startDate',
  'endDate',
  'timeZone',
  'allDay',
  'transparency',
  'eventType',
  'recurrence',
  'recurringEventId',
  'originalStartTime',
  'organizerEmail',
  'attendees',
  'updated',
  'etag',
  'raw',
  'syncGeneration',
] as const;

const columnName = (key: (typeof COLUMNS)[number]) => calendarEvents[key].name;
const insertColumns = sql.raw(COLUMNS.map((k) => `"${columnName(k)}"`).join(', '));
const updateSet = sql.raw(
  COLUMNS.filter((k) => k !== 'calendarId' && k !== 'googleEventId')
    .map((k) => `"${columnName(k)}" = excluded."${columnName(k)}"`)
    .join(', '),
);

function toRecord(row: CalendarEventInsert): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of COLUMNS) {
    const v = row[k];
    out[columnName(k)] = v instanceof Date ? v.toISOString() : (v ?? null);
  }
  return out;
}

/**
 * One statement per page: the rows travel as a single JSON parameter that Postgres unpacks
 * (jsonb_populate_recordset), instead of 22 bind parameters per row built one by one.
 */
export async function upsertRows(tx: Executor, rows: CalendarEventInsert[]): Promise<void> {
  if (rows.length === 0) return;
  let json = JSON.stringify(rows.map(toRecord));
  // Postgres cannot store U+0000 in text or jsonb: one such character in an event (Google's JSON
  // allows it) failed the page's transaction on every attempt and stopped the calendar's sync for
  // good (tests/reliability/hostile-api.test.ts). It is dropped from the stored text.
  if (json.includes('\\u0000')) json = JSON.stringify(rows.map(toRecord), (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v));
  await tx.execute(sql`
    insert into ${calendarEvents} (${insertColumns})
    select ${insertColumns} from jsonb_populate_recordset(null::${calendarEvents}, ${json}::jsonb)
    on conflict (calendar_id, google_event_id) do update set ${updateSet}`);
}

export interface PageResult {
  changes: EventChange[];
  written: number;
  deleted: number;
}

type CalendarForWrite = Pick<Calendar, 'id' | 'ownerId' | 'externalOwnerId' | 'googleCalendarId' | 'timeZone'>;

/**
 * Applies one page of events.list (singleEvents=false) to the mirror. Deleted events (cancelled
 * and not an instance) leave the mirror, with the instances of a deleted series; cancelled
 * instances stay as rows with status 'cancelled' (they remove one occurrence of their series).
 * Unchanged events (same etag and `updated`) are not rewritten, only re-stamped when a full sync
 * marks what it has seen.
 */
export async function applyEventPage(
  tx: Executor,
  cal: CalendarForWrite,
  items: calendar_v3.Schema$Event[],
  opts: { zone: string; generation: number; fullSync: boolean },
): Promise<PageResult> {
  // Last one wins if Google repeats an id within a page.
  const byId = new Map<string, calendar_v3.Schema$Event & { id: string }>();
  for (const e of items) if (typeof e.id === 'string' && e.id.length > 0) byId.set(e.id, e as calendar_v3.Schema$Event & { id: string });
  if (byId.size === 0) return { changes: [], written: 0, deleted: 0 };

  const ids = [...byId.keys()];
  // Versions first (small columns); whole previous rows only for the events that changed.
  const versions = await tx
    .select({
      googleEventId: calendarEvents.googleEventId,
      etag: calendarEvents.etag,
      updated: calendarEvents.updated,
      status: calendarEvents.status,
      syncGeneration: calendarEvents.syncGeneration,
    })
    .from(calendarEvents)
    .where(and(eq(calendarEvents.calendarId, cal.id), inArray(calendarEvents.googleEventId, ids)));
  const versionOf = new Map(versions.map((r) => [r.googleEventId, r]));
  const rows = new Map<string, CalendarEventInsert>();
  const changedIds: string[] = [];
  for (const [id, e] of byId) {
    const row = toRow(e, cal, opts.zone, opts.generation);
    rows.set(id, row);
    const v = versionOf.get(id);
    if (v && (isDeletion(e) || !sameVersion(v, row))) changedIds.push(id);
  }
  const previousRows = changedIds.length
    ? await tx
        .select()
        .from(calendarEvents)
        .where(and(eq(calendarEvents.calendarId, cal.id), inArray(calendarEvents.googleEventId, changedIds)))
    : [];
  const previous = new Map(previousRows.map((r) => [r.googleEventId, r]));

  // Changes are reported in the order Google listed the events (a deletion between two creations
  // stays between them), although the writes go set-wise: upserts, then deletions.
  const changesOf = new Map<string, EventChange[]>();
  const report = (id: string, change: EventChange) => {
    const list = changesOf.get(id);
    if (list) list.push(change);
    else changesOf.set(id, [change]);
  };
  const upserts: CalendarEventInsert[] = [];
  const restamp: string[] = [];
  const deletions: Array<{ tombstone: CalendarEventInsert; previous: CalendarEvent | null }> = [];

  for (const [id, e] of byId) {
    const row = rows.get(id)!;
    const prev = previous.get(id) ?? null;
    if (isDeletion(e)) {
      deletions.push({ tombstone: row, previous: prev });
      continue;
    }
    const version = versionOf.get(id);
    if (version && !prev) {
      // Same version as stored: nothing to write, only the full sync's mark.
      if (opts.fullSync && version.syncGeneration !== opts.generation) restamp.push(id);
      continue;
    }
    upserts.push(row);
    if (row.status === 'cancelled') {
      // A cancelled instance: one occurrence of a series removed.
      if (!prev || prev.status !== 'cancelled') report(id, { kind: 'cancelled', event: cancelledFrom(row, prev, cal), previous: prev && toMirrorEvent(prev, cal) });
      continue;
    }
    report(id, prev ? { kind: 'updated', event: toMirrorEvent(row, cal), previous: toMirrorEvent(prev, cal) } : { kind: 'created', event: toMirrorEvent(row, cal) });
  }

  await upsertRows(tx, upserts);
  if (restamp.length > 0) {
    await tx
      .update(calendarEvents)
      .set({ syncGeneration: opts.generation })
      .where(and(eq(calendarEvents.calendarId, cal.id), inArray(calendarEvents.googleEventId, restamp)));
  }

  let deleted = 0;
  if (deletions.length > 0) {
    const deletedIds = deletions.map((d) => d.tombstone.googleEventId);
    // A deleted series takes its stored instances (modified or cancelled occurrences) with it.
    const gone = await tx
      .delete(calendarEvents)
      .where(
        and(
          eq(calendarEvents.calendarId, cal.id),
          sql`(${inArray(calendarEvents.googleEventId, deletedIds)} or ${inArray(calendarEvents.recurringEventId, deletedIds)})`,
        ),
      )
      .returning();
    deleted = gone.length;
    const goneById = new Map(gone.map((r) => [r.googleEventId, r]));
    for (const d of deletions) {
      const prev = goneById.get(d.tombstone.googleEventId) ?? null;
      goneById.delete(d.tombstone.googleEventId);
      report(d.tombstone.googleEventId, { kind: 'cancelled', event: cancelledFrom(d.tombstone, prev, cal), previous: prev && toMirrorEvent(prev, cal) });
    }
    for (const orphan of goneById.values()) {
      if (orphan.status === 'cancelled') continue; // already reported when it was cancelled
      // An instance leaves with its series: reported right after the series' deletion.
      const series = orphan.recurringEventId && changesOf.has(orphan.recurringEventId) ? orphan.recurringEventId : orphan.googleEventId;
      report(series, { kind: 'cancelled', event: cancelledFrom(null, orphan, cal), previous: toMirrorEvent(orphan, cal) });
    }
  }

  const changes: EventChange[] = [];
  for (const id of byId.keys()) changes.push(...(changesOf.get(id) ?? []));
  // Orphans whose series was not in this page (cannot happen today: kept for safety).
  for (const [id, list] of changesOf) if (!byId.has(id)) changes.push(...list);
  return { changes, written: upserts.length + restamp.length, deleted };
}

/**
 * The calendar's time zone changed at Google: its all-day events, placed from local midnight to local
 * midnight in that zone, move. One statement for the rows whose instants change; each is reported as
 * updated (same etag: Google did not change the event, the day it covers is another instant).
 */
export async function replaceAllDayEvents(tx: Executor, cal: CalendarForWrite, zone: string, previousZone: string | null): Promise<EventChange[]> {
  const rows = await tx
    .select()
    .from(calendarEvents)
    .where(and(eq(calendarEvents.calendarId, cal.id), eq(calendarEvents.allDay, true), isNotNull(calendarEvents.startDate)));
  const moved: Array<{ prev: CalendarEvent; next: CalendarEvent }> = [];
  for (const r of rows) {
    const startAt = startOfDateInZone(r.startDate!, zone);
    const endAt = r.endDate ? startOfDateInZone(r.endDate, zone) : r.endAt;
    if (startAt.getTime() === r.startAt?.getTime() && endAt?.getTime() === r.endAt?.getTime()) continue;
    moved.push({ prev: r, next: { ...r, startAt, endAt } });
  }
  if (moved.length === 0) return [];
  const json = JSON.stringify(moved.map((m) => ({ id: m.next.googleEventId, start_at: m.next.startAt?.toISOString() ?? null, end_at: m.next.endAt?.toISOString() ?? null })));
  await tx.execute(sql`
    update ${calendarEvents} c set start_at = x.start_at, end_at = x.end_at
    from jsonb_to_recordset(${json}::jsonb) as x(id text, start_at timestamptz, end_at timestamptz)
    where c.calendar_id = ${cal.id}::uuid and c.google_event_id = x.id`);
  return moved
    .filter((m) => m.next.status !== 'cancelled')
    .map((m) => ({ kind: 'updated' as const, event: toMirrorEvent(m.next, cal), previous: toMirrorEvent(m.prev, { ...cal, timeZone: previousZone }) }));
}

/** The sweep of a full sync: rows it did not see are gone at Google. Returns their changes. */
export async function sweepUnseen(tx: Executor, cal: CalendarForWrite, generation: number): Promise<EventChange[]> {
  const gone = await tx
    .delete(calendarEvents)
    .where(and(eq(calendarEvents.calendarId, cal.id), ne(calendarEvents.syncGeneration, generation)))
    .returning();
  return gone
    .filter((r) => r.status !== 'cancelled')
    .map((r) => ({ kind: 'cancelled' as const, event: cancelledFrom(null, r, cal), previous: toMirrorEvent(r, cal) }));
}

/**
 * Removes every event of a calendar (deselected, or gone at Google). No per-event change set: the
 * CalendarChange ('deselected' / 'removed') tells reactors the whole calendar left the mirror.
 */
export async function removeAllEvents(tx: Executor, calendarRowId: string): Promise<number> {
  const gone = await tx.delete(calendarEvents).where(eq(calendarEvents.calendarId, calendarRowId)).returning({ id: calendarEvents.googleEventId });
  return gone.length;
}
