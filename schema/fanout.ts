// Tables of the `fanout` module: subscriptions of applications to mirror changes and domain
// events, and the signed deliveries made to them (kept after the fact: delivered, or dead and
// replayable).
import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, integer, bigint, index, primaryKey } from 'drizzle-orm/pg-core';
import { owners } from './links.ts';

export const subscriptions = pgTable(
  'subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    url: text('url').notNull(),
    /** Owner-scoped subscription; null: every owner. Unlinking the owner deletes it. */
    ownerId: uuid('owner_id').references(() => owners.id, { onDelete: 'cascade' }),
    externalOwnerId: text('external_owner_id'),
    /** Google's calendar id; null: every calendar. */
    calendarId: text('calendar_id'),
    /** Event types delivered; null: all of them. */
    types: text('types').array(),
    /** full: each change with its data; thin: `changes.available` pointers into the changes feed. */
    payload: text('payload').notNull().default('full'),
    /** `whsec_...` sealed with src/crypto: shown once at creation, never again. */
    secretEnc: text('secret_enc').notNull(),
    /** active | disabled */
    status: text('status').notNull().default('active'),
    disabledReason: text('disabled_reason'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** First failed attempt since the last success: a day of nothing but failures disables. */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('subscriptions_owner_idx').on(t.ownerId)],
);

export const deliveries = pgTable(
  'deliveries',
  {
    /** Also the `webhook-id` (stable across retries and replays) and the first job's id. */
    id: uuid('id').primaryKey(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => subscriptions.id, { onDelete: 'cascade' }),
    /** The owner the message is about (null for pings): their data goes with them. */
    ownerId: uuid('owner_id').references(() => owners.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    calendarId: text('calendar_id'),
    /** pg-boss singletonKey of the key_strict_fifo queue: subscription + owner + calendar. */
    streamKey: text('stream_key').notNull(),
    /** The exact JSON body, so every attempt signs and sends the same bytes. */
    body: text('body').notNull(),
    /** pending | delivered | dead */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    deadAt: timestamp('dead_at', { withTimezone: true }),
    /** The pg-boss job currently carrying it (a replay gets a new one). */
    jobId: uuid('job_id'),
    replays: integer('replays').notNull().default(0),
    /**
     * The message's number in its calendar (or, calendar-less, its owner): taken from
     * delivery_positions under that row's lock, held to commit, so it follows commit order.
     * A stream is delivered in this order (0: rows from before positions, then by created_at, id).
     */
    position: bigint('position', { mode: 'number' }).notNull().default(0),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('deliveries_subscription_idx').on(t.subscriptionId, t.createdAt),
    index('deliveries_status_idx').on(t.status, t.createdAt),
    index('deliveries_owner_idx').on(t.ownerId),
    // The drain and the head of a stream read its pending deliveries in position order.
    index('deliveries_stream_pending_idx').on(t.streamKey, t.position, t.createdAt, t.id).where(sql`status = 'pending'`),
    // A job finds the delivery it carries (a job may take over an earlier delivery: deliver.ts).
    index('deliveries_job_idx').on(t.jobId),
  ],
);

/**
 * The last message number given in each calendar of an owner ('' for an owner's calendar-less
 * messages). A publishing transaction increments its calendar's row and holds that row's lock until
 * it commits: the next one to publish there waits, so numbers follow commit order.
 */
export const deliveryPositions = pgTable(
  'delivery_positions',
  {
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    calendarId: text('calendar_id').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.calendarId] })],
);

export type Subscription = typeof subscriptions.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
