// Tables of the `changes` module: the changes feed (every mirror change, calendar and owner event,
// kept CHANGES_RETENTION_DAYS) that applications read with a cursor, and how far it was pruned.
import { sql } from 'drizzle-orm';
import { pgTable, bigserial, bigint, customType, index, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { owners } from './links.ts';

/** Postgres's 64-bit transaction id (never wraps): pg_current_xact_id(). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

export const changes = pgTable(
  'changes',
  {
    /**
     * The writing transaction: the feed is read in (xid, seq) order and only below the oldest
     * transaction still running, so a row is never served after a reader has passed its place.
     */
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
    /** Order within the transaction (the order of the change set). */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    /** Their changes go with them. */
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    externalOwnerId: text('external_owner_id').notNull(),
    /** Google's calendar id; null for owner events. */
    calendarId: text('calendar_id'),
    googleEventId: text('google_event_id'),
    /** The event as events.list shows it; null for a cancellation and for non-event types. */
    event: jsonb('event'),
    /** Calendar and owner events: what fan-out delivers as `data`. */
    data: jsonb('data'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.xid, t.seq] }),
    index('changes_owner_idx').on(t.externalOwnerId, t.xid, t.seq),
    index('changes_calendar_idx').on(t.calendarId, t.xid, t.seq),
    index('changes_occurred_idx').on(t.occurredAt),
  ],
);

/** One row: the last (xid, seq) pruned. A cursor below it may have missed changes. */
export const changesPruned = pgTable('changes_pruned', {
  id: integer('id').primaryKey().default(1),
  xid: xid8('xid').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  prunedAt: timestamp('pruned_at', { withTimezone: true }).notNull(),
});

export type ChangeRow = typeof changes.$inferSelect;
