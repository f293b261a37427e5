// The writing side of the feed: inside the transaction that made the change (a sync page, the
// calendar list sync, links), one row per change, in the change set's order. One statement per
// change set: the rows travel as one JSON parameter.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import type { CalendarChange, ChangeSet, OwnerEvent } from '../context/index.ts';
import { listedEvent } from './listed-event.ts';
import { encodeCursor } from './cursor.ts';

export const FEED_EVENT_TYPES = ['event.created', 'event.updated', 'event.cancelled'] as const;
export const FEED_TYPES = [...FEED_EVENT_TYPES, 'calendar.added', 'calendar.removed', 'owner.revoked'] as const;
export type FeedType = (typeof FEED_TYPES)[number];

interface FeedRow {
  type: FeedType;
  owner_id: string;
  external_owner_id: string;
  calendar_id: string | null;
  google_event_id: string | null;
  event: unknown;
  data: unknown;
  occurred_at: string;
}

/** Inserts the rows in this order; returns the cursor of the last one. */
async function insertRows(tx: Executor, rows: FeedRow[]): Promise<string | undefined> {
  if (rows.length === 0) return undefined;
  let json = JSON.stringify(rows);
  // Postgres stores no U+0000 in jsonb (see sync's upsertRows): dropped.
  if (json.includes('\\u0000')) json = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v));
  // seq is taken in the order the rows come out of the ordered select: the change set's order.
  const out = await tx.execute<{ xid: string; seq: string | number }>(sql`
    with ins as (
      insert into changes (type, owner_id, external_owner_id, calendar_id, google_event_id, event, data, occurred_at)
      select j->>'type', (j->>'owner_id')::uuid, j->>'external_owner_id', j->>'calendar_id', j->>'google_event_id',
             nullif(j->'event', 'null'::jsonb), nullif(j->'data', 'null'::jsonb), (j->>'occurred_at')::timestamptz
        from jsonb_array_elements(${json}::jsonb) with ordinality as x(j, n)
       order by n
      returning xid, seq)
    select xid::text as xid, max(seq) as seq from ins group by xid`);
  const last = out[0];
  return last ? encodeCursor({ xid: last.xid, seq: Number(last.seq) }) : undefined;
}

const KIND_TYPE = { created: 'event.created', updated: 'event.updated', cancelled: 'event.cancelled' } as const;

export function recordChangeSet(tx: Executor, _ctx: Ctx, cs: ChangeSet): Promise<string | undefined> {
  const at = cs.syncedAt.toISOString();
  return insertRows(
    tx,
    cs.changes.map((c) => ({
      type: KIND_TYPE[c.kind],
      owner_id: cs.ownerId,
      external_owner_id: cs.externalOwnerId,
      calendar_id: cs.calendarId,
      google_event_id: c.event.googleEventId,
      event: c.kind === 'cancelled' ? null : listedEvent(c.event),
      data: null,
      occurred_at: at,
    })),
  );
}

/** What a one-row record reports: its cursor and its type. */
export type Recorded = { cursor: string; covers: [FeedType] } | undefined;

export async function recordCalendarChange(tx: Executor, ctx: Ctx, change: CalendarChange): Promise<Recorded> {
  if (change.kind !== 'added' && change.kind !== 'removed') return undefined;
  const type = change.kind === 'added' ? 'calendar.added' : 'calendar.removed';
  const cursor = await insertRows(tx, [
    {
      type,
      owner_id: change.ownerId,
      external_owner_id: change.externalOwnerId,
      calendar_id: change.calendarId,
      google_event_id: null,
      event: null,
      data: { calendarId: change.calendarId, summary: change.summary, timeZone: change.timeZone },
      occurred_at: ctx.clock.now().toISOString(),
    },
  ]);
  return cursor ? { cursor, covers: [type] } : undefined;
}

export async function recordOwnerEvent(tx: Executor, ctx: Ctx, ev: OwnerEvent): Promise<Recorded> {
  if (ev.type !== 'revoked') return undefined;
  const cursor = await insertRows(tx, [
    {
      type: 'owner.revoked',
      owner_id: ev.ownerId,
      external_owner_id: ev.externalOwnerId,
      calendar_id: null,
      google_event_id: null,
      event: null,
      data: { ownerId: ev.ownerId, externalOwnerId: ev.externalOwnerId, status: 'revoked' },
      occurred_at: ctx.clock.now().toISOString(),
    },
  ]);
  return cursor ? { cursor, covers: ['owner.revoked'] } : undefined;
}
