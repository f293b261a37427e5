// changes.list: the feed read with a cursor. Read in (xid, seq) order, and only the rows of
// transactions older than the oldest one still running (pg_snapshot_xmin of the statement's own
// snapshot): a transaction that took its place in the order earlier but commits later can never be
// skipped by a reader that went past it, because nothing at or above it is served until it ends.
// Per calendar that order is Google's: one sync of a calendar runs at a time, each page
// transaction locking the calendar's row first, so its transactions take their ids in page order.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import type { ListedEvent } from '../sync/index.ts';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.ts';
import type { FeedType } from './record.ts';

export interface ChangeItem {
  cursor: string;
  type: FeedType;
  externalOwnerId: string;
  calendarId: string | null;
  googleEventId: string | null;
  occurredAt: Date;
  /** events.list's shape; null for a cancellation and for calendar and owner events. */
  event: ListedEvent | null;
  /** Calendar and owner events only: `{calendarId, summary, timeZone}` / `{ownerId, externalOwnerId, status}`. */
  data?: Record<string, unknown>;
}

export const MAX_LIMIT = 1000;

const before = (a: Cursor, b: Cursor) => BigInt(a.xid) < BigInt(b.xid) || (a.xid === b.xid && a.seq < b.seq);

export async function listChanges(
  ctx: Ctx,
  input: { after?: string; externalOwnerId?: string; calendarId?: string; limit?: number },
): Promise<{ items: ChangeItem[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(input.limit ?? 100, 1), MAX_LIMIT);
  const after = input.after !== undefined ? decodeCursor(input.after) : undefined;
  if (after) {
    const [pruned] = await ctx.db.execute<{ xid: string; seq: string | number; pruned_at: Date | string }>(
      sql`select xid::text as xid, seq, pruned_at from changes_pruned where id = 1`,
    );
    if (pruned && before(after, { xid: pruned.xid, seq: Number(pruned.seq) })) {
      throw new AppError(
        'PRECONDITION_FAILED',
        `this cursor is older than the changes kept (${ctx.config.changes.retentionDays} days): resync from events.list, then read changes.list without a cursor`,
      );
    }
  }
  const rows = await ctx.db.execute<{
    xid: string;
    seq: string | number;
    type: FeedType;
    external_owner_id: string;
    calendar_id: string | null;
    google_event_id: string | null;
    occurred_at: Date | string;
    event: ListedEvent | null;
    data: Record<string, unknown> | null;
  }>(sql`
    -- (ordered by the columns: the text alias would order 10 before 9)
    select xid::text as xid, seq, type, external_owner_id, calendar_id, google_event_id, occurred_at, event, data
      from changes
     where xid < pg_snapshot_xmin(pg_current_snapshot())
       ${after ? sql`and (xid, seq) > (${after.xid}::xid8, ${after.seq}::bigint)` : sql``}
       ${input.externalOwnerId !== undefined ? sql`and external_owner_id = ${input.externalOwnerId}` : sql``}
       ${input.calendarId !== undefined ? sql`and calendar_id = ${input.calendarId}` : sql``}
     order by changes.xid, changes.seq
     limit ${limit}`);
  const items = rows.map(
    (r): ChangeItem => ({
      cursor: encodeCursor({ xid: r.xid, seq: Number(r.seq) }),
      type: r.type,
      externalOwnerId: r.external_owner_id,
      calendarId: r.calendar_id,
      googleEventId: r.google_event_id,
      occurredAt: new Date(r.occurred_at),
      event: r.event,
      ...(r.data ? { data: r.data } : {}),
    }),
  );
  return { items, nextCursor: items.length > 0 ? items[items.length - 1]!.cursor : (input.after ?? null) };
}
