// Availability's expansion of a master's recurrence lines: the one reading the sync's events.list also
// uses (src/recurrence-guard/expand.ts), with availability's own cap on occurrences per window.
import { expandRecurrence as expandShared, RECURRENCE_GUARD_LIMITS, type SeriesClock } from '../recurrence-guard/index.ts';

export { RecurrenceError, RecurrenceLimitError, type SeriesClock } from '../recurrence-guard/index.ts';

/** What one series may cost in one expansion; beyond any of these it is not expanded (the shared ones: src/recurrence-guard). */
export const RECURRENCE_LIMITS = {
  /** Occurrences of one series in one window (a series at 09:00 and 17:00 over the 211-day horizon has 422). */
  occurrences: 10_000,
  ...RECURRENCE_GUARD_LIMITS,
} as const;

/** Safety cap on the occurrences of one series in one window. */
export const MAX_OCCURRENCES = RECURRENCE_LIMITS.occurrences;

/**
 * Wall times of the occurrences whose start lies in [fromWall, untilWall], sorted. Throws
 * RecurrenceError on a line it cannot read, and RecurrenceLimitError beyond RECURRENCE_LIMITS.
 */
export function expandRecurrence(lines: string[], series: SeriesClock, fromWall: number, untilWall: number): number[] {
  return expandShared(lines, series, fromWall, untilWall, MAX_OCCURRENCES);
}
