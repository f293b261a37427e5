// The Google quota budgets shared by every calwatch process on the database (src/quota).
import { doublePrecision, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const googleQuotaBuckets = pgTable('google_quota_buckets', {
  /** `project`, or `user:<owner id>` (one Google account per owner). */
  key: text('key').primaryKey(),
  /** Requests that may be made now; refilled continuously at the budget's rate up to its burst. */
  tokens: doublePrecision('tokens').notNull(),
  refilledAt: timestamp('refilled_at', { withTimezone: true }).notNull().defaultNow(),
  /** Google answered quotaExceeded (a daily limit): nothing is taken before this. */
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
  pausedReason: text('paused_reason'),
  /** Consecutive pauses: each one twice as long as the last, up to an hour. */
  pauseStreak: integer('pause_streak').notNull().default(0),
});
