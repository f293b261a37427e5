// Tables of the `sync` module: the SQL mirror of calendar lists, calendars and events.
import { pgTable, uuid, text, timestamp, boolean, jsonb, date, bigint, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { owners } from './links.ts';

/** Per owner: the calendarList sync token (calendar lists are per user). */
export const calendarLists = pgTable('calendar_lists', {
  ownerId: uuid('owner_id')
    .primaryKey()
    .references(() => owners.id, { onDelete: 'cascade' }),
  syncToken: text('sync_token'),
  lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }),
  /**
   * Last list without a sync token. Incremental lists never report changed calendar properties
   * (time zone, title, access role), so a full list re-reads them every SYNC_CALENDAR_REFRESH_SECONDS.
   */
  lastFullSyncedAt: timestamp('last_full_synced_at', { withTimezone: true }),
  syncError: text('sync_error'),
  syncErrorAt: timestamp('sync_error_at', { withTimezone: true }),
});

export const calendars = pgTable(
  'calendars',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    /** Copied from the owner (immutable there): change sets carry it without a join across modules. */
    externalOwnerId: text('external_owner_id').notNull(),
    /** Google's calendar id (an email address, or `...@group.calendar.google.com`). */
    googleCalendarId: text('google_calendar_id').notNull(),
    summary: text('summary'),
    timeZone: text('time_zone'),
    primary: boolean('primary').notNull().default(false),
    accessRole: text('access_role'),
    selected: boolean('selected').notNull().default(false),
    deleted: boolean('deleted').notNull().default(false),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /** Google refused a watch for good (pushNotSupportedForRequestedResource): polled instead. */
    pollOnly: boolean('poll_only').notNull().default(false),
    pollOnlyReason: text('poll_only_reason'),
    /** Belongs to this (owner, calendar) pair only: never reused across owners sharing a calendar. */
    syncToken: text('sync_token'),
    /** Generation of the last full sync: rows stamped with an older one are swept when it ends. */
    syncGeneration: bigint('sync_generation', { mode: 'number' }).notNull().default(0),
    lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }),
    lastFullSyncAt: timestamp('last_full_sync_at', { withTimezone: true }),
    /**
     * Where an interrupted full sync goes on: Google's page token for its next page, the generation
     * of that full sync, and when its first page was listed (the resume is abandoned past
     * SYNC_RESUME_MAX_AGE_SECONDS). Never logged.
     */
    resumePageToken: text('resume_page_token'),
    resumeGeneration: bigint('resume_generation', { mode: 'number' }),
    resumeStartedAt: timestamp('resume_started_at', { withTimezone: true }),
    syncError: text('sync_error'),
    syncErrorAt: timestamp('sync_error_at', { withTimezone: true }),
    raw: jsonb('raw'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('calendars_owner_google_idx').on(t.ownerId, t.googleCalendarId),
    index('calendars_selected_synced_idx').on(t.selected, t.lastSyncedAt),
  ],
);

/**
 * When syncs of a calendar were asked for and ran, apart from the calendar row so that a push
 * notification never waits on a page transaction's lock. Times are the database's clock.
 */
export const calendarSyncStates = pgTable('calendar_sync_states', {
  calendarId: uuid('calendar_id')
    .primaryKey()
    .references(() => calendars.id, { onDelete: 'cascade' }),
  /** The latest enqueueEventSync for this calendar (a notification, a selection, a poll...). */
  requestedAt: timestamp('requested_at', { withTimezone: true }),
  /** When the latest sync attempt began listing. */
  startedAt: timestamp('started_at', { withTimezone: true }),
  /** Start of the latest sync that succeeded: every request before it is covered. */
  coveredAt: timestamp('covered_at', { withTimezone: true }),
  /** When the latest successful sync committed its last page: a later request finds the calendar idle. */
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});

export const calendarEvents = pgTable(
  'calendar_events',
  {
    /** calendars.id (our row), not Google's calendar id. */
    calendarId: uuid('calendar_id')
      .notNull()
      .references(() => calendars.id, { onDelete: 'cascade' }),
    ownerId: uuid('owner_id').notNull(),
    googleEventId: text('google_event_id').notNull(),
    status: text('status').notNull(),
    summary: text('summary'),
    /** Timed events: the instants. All-day events: midnight-to-midnight in the calendar's zone. */
    startAt: timestamp('start_at', { withTimezone: true }),
    endAt: timestamp('end_at', { withTimezone: true }),
    /** All-day events only: Google's dates (end exclusive). */
    startDate: date('start_date'),
    endDate: date('end_date'),
    timeZone: text('time_zone'),
    allDay: boolean('all_day').notNull().default(false),
    transparency: text('transparency').notNull().default('opaque'),
    eventType: text('event_type').notNull().default('default'),
    recurrence: text('recurrence').array(),
    recurringEventId: text('recurring_event_id'),
    /** Instances: the original start as Google gives it (`dateTime` or `date`). */
    originalStartTime: text('original_start_time'),
    organizerEmail: text('organizer_email'),
    attendees: jsonb('attendees').$type<Array<{ email: string; responseStatus: string; self?: boolean; organizer?: boolean; displayName?: string }>>(),
    updated: timestamp('updated', { withTimezone: true }),
    etag: text('etag'),
    raw: jsonb('raw').notNull(),
    /** Mark and sweep of a full resync: rows not seen by the sync numbered here are removed. */
    syncGeneration: bigint('sync_generation', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.calendarId, t.googleEventId] }),
    index('calendar_events_owner_time_idx').on(t.ownerId, t.startAt),
    index('calendar_events_calendar_time_idx').on(t.calendarId, t.startAt),
    index('calendar_events_recurring_idx').on(t.calendarId, t.recurringEventId),
  ],
);

export type Calendar = typeof calendars.$inferSelect;
export type CalendarEvent = typeof calendarEvents.$inferSelect;
export type CalendarEventInsert = typeof calendarEvents.$inferInsert;
