// Writing one page of Google events into the mirror: previous rows read in one query, changed rows
// upserted in multi-row statements, deletions in one statement, and the change set built from the
// rows before and after. Runs inside the caller's transaction.
import { and, eq, inArray, ne, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/index.ts';
import type { calendar_v3 } from '../google/index.ts';
import { calendarEvents, type Calendar, type CalendarEvent, type CalendarEventInsert } from '../../schema/sync.ts';
import type { EventChange } from './changes.ts';
import { cancelledFrom, isDeletion, sameVersion, toMirrorEvent, toRow } from './map-event.ts';

/** Rows per INSERT: 24 columns x 1000 stays well under Postgres' 65,535 bind parameters. */
const UPSERT_CHUNK = 1000;

const UPDATABLE = [
  'ownerId',
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

const excludedSet: Record<string, SQL> = Object.fromEntries(
  UPDATABLE.map((key) => [key, sql.raw(`excluded."${calendarEvents[key].name}"`)]),
);

export async function upsertRows(tx: Executor, rows: CalendarEventInsert[]): Promise<void> {
  for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
    await tx
      .insert(calendarEvents)
      .values(rows.slice(i, i + UPSERT_CHUNK))
      .onConflictDoUpdate({ target: [calendarEvents.calendarId, calendarEvents.googleEventId], set: excludedSet });
  }
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
  const previousRows = await tx
    .select()
    .from(calendarEvents)
    .where(and(eq(calendarEvents.calendarId, cal.id), inArray(calendarEvents.googleEventId, ids)));
  const previous = new Map(previousRows.map((r) => [r.googleEventId, r]));

  const changes: EventChange[] = [];
  const upserts: CalendarEventInsert[] = [];
  const restamp: string[] = [];
  const deletions: Array<{ tombstone: CalendarEventInsert; previous: CalendarEvent | null }> = [];

  for (const [id, e] of byId) {
    const row = toRow(e, cal, opts.zone, opts.generation);
    const prev = previous.get(id) ?? null;
    if (isDeletion(e)) {
      deletions.push({ tombstone: row, previous: prev });
      continue;
    }
    if (prev && sameVersion(prev, row)) {
      if (opts.fullSync && prev.syncGeneration !== opts.generation) restamp.push(id);
      continue;
    }
    upserts.push(row);
    if (row.status === 'cancelled') {
      // A cancelled instance: one occurrence of a series removed.
      if (!prev || prev.status !== 'cancelled') changes.push({ kind: 'cancelled', event: cancelledFrom(row, prev, cal), previous: prev && toMirrorEvent(prev, cal) });
      continue;
    }
    changes.push(prev ? { kind: 'updated', event: toMirrorEvent(row, cal), previous: toMirrorEvent(prev, cal) } : { kind: 'created', event: toMirrorEvent(row, cal) });
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
      changes.push({ kind: 'cancelled', event: cancelledFrom(d.tombstone, prev, cal), previous: prev && toMirrorEvent(prev, cal) });
    }
    for (const orphan of goneById.values()) {
      if (orphan.status === 'cancelled') continue; // already reported when it was cancelled
      changes.push({ kind: 'cancelled', event: cancelledFrom(null, orphan, cal), previous: toMirrorEvent(orphan, cal) });
    }
  }

  return { changes, written: upserts.length + restamp.length, deleted };
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
