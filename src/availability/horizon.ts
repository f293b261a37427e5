// The rolling horizon: recurring occurrences are materialised for original starts in
// [today - PAST_DAYS, today + horizonDays) (UTC days). One-off events are kept whatever their date,
// until they end before the horizon's start.
import type { Horizon } from './blocked-times.ts';
import { DAY_MS, startOfUtcDay } from '../time-zones/index.ts';

/** How far back busy answers stay complete: a month, for "what was booked this week" queries. */
export const PAST_DAYS = 31;

export function horizonAt(now: Date, horizonDays: number): Horizon {
  const today = startOfUtcDay(now.getTime());
  return { from: today - PAST_DAYS * DAY_MS, until: today + horizonDays * DAY_MS };
}
