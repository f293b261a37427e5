// Tables of the `bookings` module: bookings (one Google event each) and the owners' booking settings.
// The exclusion constraint that keeps two live bookings of one owner from overlapping is not
// expressible in drizzle: it lives in the custom migration `bookings_exclusion`.
import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, boolean, integer, bigint, index, uniqueIndex, check } from 'drizzle-orm/pg-core';
import { owners } from './links.ts';

export const BOOKING_STATUSES = ['requested', 'confirmed', 'denied', 'declined', 'cancelled', 'failed'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

export const bookings = pgTable(
  'bookings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order, for stable keyset pagination. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => owners.id, { onDelete: 'cascade' }),
    /** The owner's external id never changes: kept here so lists need not ask links for it. */
    externalOwnerId: text('external_owner_id').notNull(),
    /** Google's calendar id ('primary' until Google tells us the real one). */
    calendarId: text('calendar_id').notNull(),
    /** Derived from the booking id (base32hex), so a retried insert cannot create a second event. */
    googleEventId: text('google_event_id').notNull(),
    /** requested | confirmed | denied | declined | cancelled | failed */
    status: text('status').$type<BookingStatus>().notNull(),
    /** Why the booking reached its status (who or what decided). */
    statusReason: text('status_reason'),
    title: text('title').notNull(),
    bookeeEmail: text('bookee_email').notNull(),
    bookeeName: text('bookee_name'),
    /** The bookee's answer in Google: needsAction | accepted | tentative | declined. */
    bookeeResponse: text('bookee_response').notNull().default('needsAction'),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    autoConfirmed: boolean('auto_confirmed').notNull().default(false),
    /**
     * A video conference asked of Google with the event ('meet'), or null. The create request's id is the
     * booking id (a retried insert repeats it, and Google ignores a repeated request id).
     */
    conference: text('conference').$type<'meet'>(),
    /** Google's createRequest.status.statusCode as last seen: pending | success | failure. */
    conferenceStatus: text('conference_status'),
    /** The Meet link (the video entry point's uri) once Google has created the conference. */
    conferenceLink: text('conference_link'),
    /**
     * bookings.reschedule moved the booking and the event's times are still to be patched. Only then does a
     * write to Google carry times: otherwise the owner's own moves in Google are followed, never undone.
     */
    timesOwed: boolean('times_owed').notNull().default(false),
    /** The event exists at Google (insert answered, or 409 duplicate: inserted by an earlier try). */
    eventInserted: boolean('event_inserted').notNull().default(false),
    /**
     * Outbox for Google writes: bumped when Google must be brought in line with the row (insert,
     * patch of the status, delete); `googleAppliedVersion` catches up once Google has done it.
     */
    googleVersion: integer('google_version').notNull().default(0),
    googleAppliedVersion: integer('google_applied_version').notNull().default(0),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('bookings_owner_event_idx').on(t.ownerId, t.googleEventId),
    uniqueIndex('bookings_seq_idx').on(t.seq),
    index('bookings_owner_start_idx').on(t.ownerId, t.startAt),
    index('bookings_status_idx').on(t.status),
    check('bookings_status_check', sql`${t.status} in ('requested', 'confirmed', 'denied', 'declined', 'cancelled', 'failed')`),
    check('bookings_time_check', sql`${t.endAt} > ${t.startAt}`),
    check('bookings_conference_check', sql`${t.conference} is null or ${t.conference} = 'meet'`),
  ],
);

export const bookingSettings = pgTable('booking_settings', {
  ownerId: uuid('owner_id')
    .primaryKey()
    .references(() => owners.id, { onDelete: 'cascade' }),
  /** "Confirm automatically when the time is free": requests are inserted and stored confirmed. */
  autoConfirm: boolean('auto_confirm').notNull().default(false),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type Booking = typeof bookings.$inferSelect;
export type BookingSettings = typeof bookingSettings.$inferSelect;
