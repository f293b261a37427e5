// Occurrences of a recurring master (RRULE / EXRULE / RDATE / EXDATE lines, RFC 5545) in a range, for
// events.list. The lines are read by the one reading availability also uses
// (src/recurrence-guard/expand.ts: the series' own wall clock, DTSTART always first, a DATE UNTIL or
// EXDATE;VALUE=DATE on a timed series meaning the whole local day), so events.list and
// availability.busy give the same occurrences for the same series; this file only places them.
//
// The lines come from anyone who can send the owner an invitation, so an expansion is bounded
// (docs/availability.md, "Hostile rules", the same limits as availability's but for the number of
// occurrences): a series beyond a limit, or one whose lines cannot be read, is not expanded: it counts
// once, at its DTSTART, and the caller is told (once per series and process).
import { expandRecurrence, RECURRENCE_GUARD_LIMITS, RecurrenceError, RecurrenceLimitError } from '../recurrence-guard/index.ts';
import { DAY_MS, instantToWall } from '../time-zones/index.ts';
import { isValidTimeZone, wallTimeToInstant } from './time-zone.ts';

export interface SeriesMaster {
  googleEventId: string;
  recurrence: string[];
  allDay: boolean;
  startAt: Date;
  endAt: Date;
  startDate: string | null;
  endDate: string | null;
  /** The zone the rules run in: the event's start.timeZone, else the calendar's. */
  timeZone: string;
}

export interface Occurrence {
  /** Google's instance id: `<masterId>_<YYYYMMDDTHHMMSSZ>` (timed) or `<masterId>_<YYYYMMDD>` (all-day). */
  instanceId: string;
  /** Identifies the occurrence like an instance's originalStartTime: instant ms, or the date. */
  originalKey: string;
  start: Date;
  end: Date;
  startDate: string | null;
  endDate: string | null;
}

/** What one series may cost in one expansion; beyond any of these it counts once (the shared ones: src/recurrence-guard). */
export const SERIES_LIMITS = {
  /** Occurrences of one series in one range. */
  occurrences: 5000,
  ...RECURRENCE_GUARD_LIMITS,
} as const;

/** Series already reported by `onLimit` in this process (bounded: forgotten all at once when full). */
const reported = new Set<string>();

const ymd = (d: Date) => d.toISOString().slice(0, 10);
const compactUtc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export interface ExpandOptions {
  /** Told once per `limitKey` and process when the series is beyond SERIES_LIMITS (it then counts once). */
  onLimit?: (reason: string) => void;
  /** Identifies the series for `onLimit` (default its Google event id). */
  limitKey?: string;
}

/** Occurrences overlapping [from, to) (a zero-length one counts when it starts inside). */
export function expandSeries(master: SeriesMaster, from: Date, to: Date, opts: ExpandOptions = {}): Occurrence[] {
  const tz = isValidTimeZone(master.timeZone) ? master.timeZone : 'UTC';
  const durationMs = master.endAt.getTime() - master.startAt.getTime();
  const dayCount = master.allDay && master.startDate && master.endDate ? Math.round((Date.parse(master.endDate) - Date.parse(master.startDate)) / DAY_MS) : 0;
  const dtstartWall = master.allDay ? Date.parse(`${master.startDate}T00:00:00Z`) : instantToWall(master.startAt.getTime(), tz);
  // Starts wide enough on the wall clock (offsets are within a day) to catch every occurrence that
  // overlaps the range; the exact test is below.
  const fromWall = instantToWall(from.getTime(), tz) - Math.max(durationMs, dayCount * DAY_MS) - 2 * DAY_MS;
  const untilWall = instantToWall(to.getTime(), tz) + 2 * DAY_MS;

  const occurrenceAt = (wall: number): Occurrence => {
    const w = new Date(wall);
    if (master.allDay) {
      const startDate = ymd(w);
      const endDate = ymd(new Date(wall + dayCount * DAY_MS));
      return {
        instanceId: `${master.googleEventId}_${startDate.replace(/-/g, '')}`,
        originalKey: startDate,
        start: wallTimeToInstant({ year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate() }, tz),
        end: wallTimeToInstant({ year: +endDate.slice(0, 4), month: +endDate.slice(5, 7), day: +endDate.slice(8, 10) }, tz),
        startDate,
        endDate,
      };
    }
    const start = wallTimeToInstant(
      { year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate(), hour: w.getUTCHours(), minute: w.getUTCMinutes(), second: w.getUTCSeconds() },
      tz,
    );
    return {
      instanceId: `${master.googleEventId}_${compactUtc(start)}`,
      originalKey: String(start.getTime()),
      start,
      end: new Date(start.getTime() + durationMs),
      startDate: null,
      endDate: null,
    };
  };
  const overlaps = (occ: Occurrence) => occ.start < to && (occ.end > from || (occ.end.getTime() === occ.start.getTime() && occ.start >= from));

  let walls: number[];
  try {
    walls = expandRecurrence(master.recurrence, { allDay: master.allDay, timeZone: tz, dtstartWall }, fromWall, untilWall, SERIES_LIMITS.occurrences);
  } catch (err) {
    if (!(err instanceof RecurrenceError)) throw err;
    const key = opts.limitKey ?? master.googleEventId;
    if (opts.onLimit && !reported.has(key)) {
      if (reported.size >= 10_000) reported.clear();
      reported.add(key);
      // A limit's message names the limit only; an unreadable line's would quote the sender's text.
      opts.onLimit(err instanceof RecurrenceLimitError ? err.message : 'unreadable recurrence line');
    }
    // Not expanded: the series counts once, at its DTSTART (as in availability).
    const only = occurrenceAt(dtstartWall);
    return overlaps(only) ? [only] : [];
  }
  const out: Occurrence[] = [];
  for (const wall of walls) {
    const occ = occurrenceAt(wall);
    if (overlaps(occ)) out.push(occ);
  }
  return out;
}

/** The key an instance's originalStartTime (`dateTime` or `date`) gives its occurrence. */
export function originalKeyOf(originalStartTime: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(originalStartTime)) return originalStartTime;
  const t = Date.parse(originalStartTime);
  return Number.isNaN(t) ? originalStartTime : String(t);
}
