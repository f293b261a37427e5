// Tables of the `channels` module: Google watch channels (events.watch per selected calendar,
// calendarList.watch per owner) and what their push notifications told us.
import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, bigint, bigserial, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { owners } from './links.ts';
import { calendars } from './sync.ts';

export const CHANNEL_STATUSES = ['pending', 'active', 'stopped', 'superseded', 'expired'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];
export type ChannelKind = 'events' | 'calendarList';

export const channels = pgTable(
  'channels',
  {
    /** The channel id we chose (a random UUID), echoed by Google in X-Goog-Channel-ID. */
    id: uuid('id').primaryKey(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    /** calendars.id for an events channel; null for the owner's calendar-list channel. */
    calendarId: uuid('calendar_id').references(() => calendars.id, { onDelete: 'cascade' }),
    /** events | calendarList */
    kind: text('kind').$type<ChannelKind>().notNull(),
    /** `events:<calendar row id>` or `calendarList:<owner id>`: at most one creation in flight per key. */
    resourceKey: text('resource_key').notNull(),
    /** Google's opaque id of the watched resource (null until the watch answers or the sync message comes). */
    resourceId: text('resource_id'),
    resourceUri: text('resource_uri'),
    /** SHA-256 hex of the channel token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    /** pending | active | stopped | superseded | expired */
    status: text('status').$type<ChannelStatus>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** The channel this one replaces (renewal), and the one that replaced it. */
    replacesId: uuid('replaces_id'),
    replacedById: uuid('replaced_by_id'),
    /** When Google's `sync` message arrived. */
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    /** Highest X-Goog-Message-Number accepted: a number not above it is a duplicate. */
    lastMessageNumber: bigint('last_message_number', { mode: 'number' }).notNull().default(0),
    lastNotifiedAt: timestamp('last_notified_at', { withTimezone: true }),
    notificationsCount: bigint('notifications_count', { mode: 'number' }).notNull().default(0),
    stoppedAt: timestamp('stopped_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One creation (or renewal) in flight per watched resource, across processes.
    uniqueIndex('channels_one_pending_idx').on(t.resourceKey).where(sql`status = 'pending'`),
    index('channels_resource_idx').on(t.resourceKey, t.status),
    index('channels_owner_idx').on(t.ownerId),
    index('channels_calendar_idx').on(t.calendarId),
    // The renewal sweep: live channels by expiry.
    index('channels_live_expiry_idx').on(t.expiresAt).where(sql`status = 'active'`),
  ],
);

/**
 * The webhook's outbox: a sync some notification asked for, noted in the same statement that
 * advanced the channel's message number, before the 204. One row per watched resource, so a burst of
 * notifications collapses into it; drained (sync enqueued, row deleted if unchanged) right after.
 */
export const channelSyncRequests = pgTable(
  'channel_sync_requests',
  {
    /** The channel's resource key: `events:<calendar row id>` or `calendarList:<owner id>`. */
    resourceKey: text('resource_key').primaryKey(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    calendarId: uuid('calendar_id').references(() => calendars.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<ChannelKind>().notNull(),
    /** The earliest notification not yet handed to the sync (the notification-to-sync metric starts there). */
    notifiedAt: timestamp('notified_at', { withTimezone: true }).notNull(),
    /** Bumped by every new request: the drain deletes a row only if nothing came in meanwhile. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    /**
     * The process that noted it and drains it (its webhook answers later notifications of the
     * resource without a write while the row waits); another process drains it only once
     * `held_until` has passed (the holder died).
     */
    heldBy: text('held_by'),
    heldUntil: timestamp('held_until', { withTimezone: true }),
    /** A busy resource's request waits until then, absorbing notifications (no drain takes it before). */
    notBefore: timestamp('not_before', { withTimezone: true }),
  },
  (t) => [index('channel_sync_requests_notified_idx').on(t.notifiedAt)],
);

/**
 * Per watched calendar: when a sync of it last found changes (written by channels' change-set hook
 * in the sync's page transaction; its own table so that the webhook's updates of `channels` never
 * wait for a sync's lock). The push recheck (push-recheck.ts) skips a calendar whose sync after the
 * latest notification found something.
 */
export const channelChangeSightings = pgTable('channel_change_sightings', {
  calendarId: uuid('calendar_id')
    .primaryKey()
    .references(() => calendars.id, { onDelete: 'cascade' }),
  changesSyncedAt: timestamp('changes_synced_at', { withTimezone: true }).notNull(),
});

export type Channel = typeof channels.$inferSelect;
export type ChannelInsert = typeof channels.$inferInsert;
