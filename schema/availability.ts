// Tables of the `availability` module: blocked times (what a busy query reads), the sources they are
// computed from (enough of each event to re-expand a series, never a title, description, location
// or attendee), the expansion horizon of each series, the frozen blocked times an unlink may keep,
// and the owners' preferences.
//
// Foreign keys and locks: the sync writes sources, series and blocked times inside its page
// transaction, which holds its calendar row FOR UPDATE. Sources and series reference calendars (so
// they cascade with them, and with the owner through them) but not owners: a reference to owners
// would make the sync wait on an owner row that an unlink holds while the unlink waits on the
// sync's calendar row. blocked_times references nothing: the daily horizon job inserts into it
// while holding series rows, and must never wait on the sync's calendar lock. Its rows are deleted
// with their series by the verbs, and the horizon job sweeps any left without a source.
import { pgTable, uuid, text, timestamp, boolean, jsonb, bigserial, primaryKey, index, integer, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { owners } from './links.ts';
import { calendars } from './sync.ts';

/** Google's EventDateTime, as kept in availability_sources. */
export type EventTimeJson = { date?: string | null; dateTime?: string | null; timeZone?: string | null };

export const availabilityPreferences = pgTable('availability_preferences', {
  ownerId: uuid('owner_id')
    .primaryKey()
    .references(() => owners.id, { onDelete: 'cascade' }),
  /** Whether tentative events (status, or the owner's own answer) block time. */
  tentativeBlocks: boolean('tentative_blocks').notNull().default(false),
  /** Google calendar ids that count in busy/free; null: every selected calendar. */
  calendarIds: text('calendar_ids').array(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One row per Google event of a selected calendar (one-off, series master, modified or cancelled instance). */
export const availabilitySources = pgTable(
  'availability_sources',
  {
    calendarRowId: uuid('calendar_row_id')
      .notNull()
      .references(() => calendars.id, { onDelete: 'cascade' }),
    googleEventId: text('google_event_id').notNull(),
    ownerId: uuid('owner_id').notNull(),
    /** Google's calendar id, copied onto the blocked times computed from this row. */
    calendarId: text('calendar_id').notNull(),
    /** The master's id for a series (master and instances); the event's own id otherwise. */
    seriesId: text('series_id').notNull(),
    status: text('status').notNull(),
    transparency: text('transparency').notNull(),
    eventType: text('event_type').notNull(),
    /** The owner's own response (attendee marked `self`), null when not an attendee. */
    selfResponse: text('self_response'),
    start: jsonb('start').$type<EventTimeJson>(),
    end: jsonb('end').$type<EventTimeJson>(),
    endTimeUnspecified: boolean('end_time_unspecified').notNull().default(false),
    recurrence: text('recurrence').array(),
    originalStart: jsonb('original_start').$type<EventTimeJson>(),
    /**
     * Google's visibility (default | public | private | confidential); null on rows stored before
     * the column existed. Only `availability.busy {explain}` reads it: a private event shows as "busy".
     */
    visibility: text('visibility'),
    /** The calendar's zone when the event was last seen (all-day days are placed in it). */
    calendarTimeZone: text('calendar_time_zone'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.calendarRowId, t.googleEventId] }),
    index('availability_sources_series_idx').on(t.calendarRowId, t.seriesId),
    index('availability_sources_owner_idx').on(t.ownerId),
  ],
);

/**
 * A recurring series (a master, or instances whose master is elsewhere) and how far its occurrences
 * are materialised: original starts up to `expandedUntil`. The row lock on it orders the sync's
 * re-expansion and the daily horizon job.
 */
export const availabilitySeries = pgTable(
  'availability_series',
  {
    calendarRowId: uuid('calendar_row_id')
      .notNull()
      .references(() => calendars.id, { onDelete: 'cascade' }),
    seriesId: text('series_id').notNull(),
    ownerId: uuid('owner_id').notNull(),
    expandedUntil: timestamp('expanded_until', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.calendarRowId, t.seriesId] }), index('availability_series_until_idx').on(t.expandedUntil)],
);

/** What busy queries read: owner, calendar, start, end and the source reference. Nothing else. */
export const blockedTimes = pgTable(
  'blocked_times',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ownerId: uuid('owner_id').notNull(),
    calendarRowId: uuid('calendar_row_id').notNull(),
    /** Google's calendar id (what callers name in calendarIds). */
    calendarId: text('calendar_id').notNull(),
    seriesId: text('series_id').notNull(),
    sourceEventId: text('source_event_id').notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    // Busy reads one owner's range in start order from this index alone (an index-only scan, no
    // sort), the calendar filter included: calendar_id is a key column so that `calendarIds` (or
    // the owner's preference) does not send every row to the heap (drizzle-kit has no INCLUDE).
    index('blocked_times_owner_start_cal_idx').on(t.ownerId, t.startAt, t.endAt, t.calendarId),
    index('blocked_times_series_idx').on(t.calendarRowId, t.seriesId),
    index('blocked_times_end_idx').on(t.endAt),
  ],
);

/**
 * Blocked times kept by `UNLINKED keepBlockedTimes: true`: the owner and calendars are gone, so
 * nothing references them; they no longer sync and are found by the external owner id.
 */
export const frozenBlockedTimes = pgTable(
  'frozen_blocked_times',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    externalOwnerId: text('external_owner_id').notNull(),
    formerOwnerId: uuid('former_owner_id').notNull(),
    calendarId: text('calendar_id').notNull(),
    sourceEventId: text('source_event_id').notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    frozenAt: timestamp('frozen_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('frozen_blocked_times_owner_start_idx').on(t.externalOwnerId, t.startAt),
    index('frozen_blocked_times_former_owner_idx').on(t.formerOwnerId),
    index('frozen_blocked_times_end_idx').on(t.endAt),
  ],
);

/**
 * Runs re-deriving owners' blocked times from their stored sources: one at boot when the rules
 * version (RULES_VERSION in src/availability/rules-version.ts) is new, or one asked for (CLI, admin
 * API) for every owner or one. Progress is `done` of `total` owners; `cursor` is the last owner
 * done (owners are taken in id order), so a run interrupted anywhere resumes where it stopped.
 */
export const availabilityRebuilds = pgTable(
  'availability_rebuilds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** rules (a new rules version, at boot) | manual (CLI or admin API) */
    reason: text('reason').notNull(),
    rulesVersion: integer('rules_version').notNull(),
    /** One owner only; null: every owner with sources. No foreign key: the run outlives an unlinked owner. */
    ownerId: uuid('owner_id'),
    total: integer('total').notNull(),
    done: integer('done').notNull().default(0),
    cursor: uuid('cursor'),
    lastError: text('last_error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    // One boot-time run per rules version, however many processes start at once.
    uniqueIndex('availability_rebuilds_rules_version_idx').on(t.rulesVersion).where(sql`${t.reason} = 'rules'`),
    index('availability_rebuilds_started_idx').on(t.startedAt),
  ],
);

export type AvailabilityRebuild = typeof availabilityRebuilds.$inferSelect;
export type AvailabilitySource = typeof availabilitySources.$inferSelect;
export type AvailabilitySourceInsert = typeof availabilitySources.$inferInsert;
export type BlockedTimeRow = typeof blockedTimes.$inferSelect;
