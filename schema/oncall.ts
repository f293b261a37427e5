// Tables of the `oncall` module: groups, their members, shifts (Google events on the group's
// calendar), swaps (with their saga state) and the Slack messages owed to the group's channel.
import { sql } from 'drizzle-orm';
import {
  pgTable,
  uuid,
  text,
  timestamp,
  integer,
  date,
  index,
  uniqueIndex,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { owners } from './links.ts';

export const oncallGroups = pgTable(
  'oncall_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    /** Google's id of the calendar holding the shift events (one of the owner's calendars). */
    calendarId: text('calendar_id').notNull(),
    slackChannel: text('slack_channel').notNull(),
    /** IANA zone: `declined_on` dates and the dates in Slack messages are in it. */
    timeZone: text('time_zone').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('oncall_groups_owner_calendar_idx').on(t.ownerId, t.calendarId)],
);

export const oncallMembers = pgTable(
  'oncall_members',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => oncallGroups.id, { onDelete: 'cascade' }),
    /** Lower-cased. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    /** Given, or found with users.lookupByEmail; null when Slack does not know the address (yet). */
    slackUserId: text('slack_user_id'),
    /** Order in the round-robin. */
    position: integer('position').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('oncall_members_group_email_idx').on(t.groupId, t.email)],
);

export const shifts = pgTable(
  'shifts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => oncallGroups.id, { onDelete: 'cascade' }),
    googleEventId: text('google_event_id').notNull(),
    /** Lower-cased; the only attendee calwatch puts on the event. */
    assigneeEmail: text('assignee_email').notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    /** scheduled | declined | swapped | uncovered */
    status: text('status').notNull().default('scheduled'),
    /** The day (group's time zone) the assignee's decline was processed. */
    declinedOn: date('declined_on'),
    /** Who declined it last (the assignee at the time). */
    declinedBy: text('declined_by'),
    swappedWithId: uuid('swapped_with_id').references((): AnyPgColumn => shifts.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('shifts_group_event_idx').on(t.groupId, t.googleEventId),
    index('shifts_group_start_idx').on(t.groupId, t.startAt),
    index('shifts_event_idx').on(t.googleEventId),
  ],
);

/**
 * A swap is also its own saga log: `pending` while the two Google events are being patched,
 * `compensating` while a failed swap is being undone, then `completed` or `aborted`. At most one
 * unfinished swap per group (the unique index below), which serialises the decisions.
 */
export const swaps = pgTable(
  'swaps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => oncallGroups.id, { onDelete: 'cascade' }),
    /** auto (a decline in Google) | manual (swapShifts). */
    kind: text('kind').notNull(),
    declinedShiftId: uuid('declined_shift_id')
      .notNull()
      .references(() => shifts.id, { onDelete: 'cascade' }),
    swapShiftId: uuid('swap_shift_id')
      .notNull()
      .references(() => shifts.id, { onDelete: 'cascade' }),
    /** Who held the declined shift (and now holds the other one). */
    fromEmail: text('from_email').notNull(),
    /** Who held the other shift (and now holds the declined one). */
    toEmail: text('to_email').notNull(),
    declinedEventId: text('declined_event_id').notNull(),
    swapEventId: text('swap_event_id').notNull(),
    /** pending | compensating | completed | aborted */
    state: text('state').notNull(),
    /** The executor holding the saga until then; another may take over after it. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('swaps_one_unfinished_per_group_idx')
      .on(t.groupId)
      .where(sql`state in ('pending', 'compensating')`),
    index('swaps_group_created_idx').on(t.groupId, t.createdAt),
    index('swaps_declined_shift_idx').on(t.declinedShiftId),
  ],
);

/**
 * Slack messages owed to a group's channel: a swap announcement or a request for cover. Written
 * with the decision, posted by the `oncall.notify` job: `pending` -> `posting` (committed before
 * the call) -> `posted` (with Slack's ts); `unknown` when a post may have gone out without an
 * answer (never posted again); `failed` when Slack refused it for good.
 */
export const oncallMessages = pgTable(
  'oncall_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => oncallGroups.id, { onDelete: 'cascade' }),
    /** swap | cover */
    kind: text('kind').notNull(),
    swapId: uuid('swap_id').references(() => swaps.id, { onDelete: 'cascade' }),
    shiftId: uuid('shift_id')
      .notNull()
      .references(() => shifts.id, { onDelete: 'cascade' }),
    /** One message per swap, one cover request per (shift, decline). */
    dedupeKey: text('dedupe_key').notNull().unique(),
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    text: text('text'),
    slackTs: text('slack_ts'),
    lastError: text('last_error'),
    postedAt: timestamp('posted_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('oncall_messages_swap_idx').on(t.swapId)],
);

export type OncallGroup = typeof oncallGroups.$inferSelect;
export type OncallMember = typeof oncallMembers.$inferSelect;
export type Shift = typeof shifts.$inferSelect;
export type Swap = typeof swaps.$inferSelect;
export type OncallMessage = typeof oncallMessages.$inferSelect;
