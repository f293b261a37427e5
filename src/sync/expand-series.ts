// Occurrences of a recurring master (RRULE / EXRULE / RDATE / EXDATE lines, RFC 5545) in a range.
// The rules are expanded on the wall clock of the event's time zone ("floating" times) and each
// occurrence is then placed in that zone, so a 09:00 weekly meeting stays at 09:00 across DST.
//
// The lines come from anyone who can send the owner an invitation, so an expansion is bounded
// (docs/availability.md, "Hostile rules", the same limits as availability's): a series with a rule
// finer than daily, BY* lists whose product is too large, a COUNT above the limit, too many rules or
// dates, too many occurrences in the range, or an expansion that walks too many rule periods or runs
// too long is not expanded: it counts once, at its DTSTART, and the caller is told (once per series
// and process). A rule without COUNT is started at the rule period just before the range.
import { RRule, RRuleSet } from 'rrule';
import { checkShape, Meter, metered, RECURRENCE_GUARD_LIMITS, startNear, type Guard } from '../recurrence-guard/index.ts';
import { isValidTimeZone, wallTimeToInstant, zoneOffsetMs } from './time-zone.ts';

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

/** Why a series was not expanded (its text is for a log line: it never quotes the rule). */
class SeriesLimit extends Error {}

/** How events.list is guarded: beyond a limit, a SeriesLimit. */
const GUARD: Guard = { limits: SERIES_LIMITS, fail: (message) => new SeriesLimit(message) };

const DAY = 86_400_000;

/** Series already reported by `onLimit` in this process (bounded: forgotten all at once when full). */
const reported = new Set<string>();

const toFloating = (instant: Date, tz: string) => new Date(instant.getTime() + zoneOffsetMs(instant.getTime(), tz));

function fromFloating(floating: Date, tz: string): Date {
  return wallTimeToInstant(
    {
      year: floating.getUTCFullYear(),
      month: floating.getUTCMonth() + 1,
      day: floating.getUTCDate(),
      hour: floating.getUTCHours(),
      minute: floating.getUTCMinutes(),
      second: floating.getUTCSeconds(),
    },
    tz,
  );
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);
const compactUtc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** An RFC 5545 DATE or DATE-TIME value (with its TZID parameter, if any) as a floating time in `tz`. */
function parseIcalValue(value: string, params: string, tz: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(value.trim());
  if (!m) return null;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0);
  if (m[7]) return toFloating(new Date(wall), tz); // UTC instant
  const tzid = /TZID=([^;:]+)/i.exec(params)?.[1];
  if (tzid && isValidTimeZone(tzid) && tzid !== tz) return toFloating(wallTimeToInstant({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +(m[4] ?? 0), minute: +(m[5] ?? 0), second: +(m[6] ?? 0) }, tzid), tz);
  return new Date(wall);
}

/** The window on the floating clock, and the meter of this expansion. */
interface Window {
  start: Date;
  end: Date;
  /** 'YYYYMMDD' two days around the window: date values outside it cannot fall in it, whatever their zone. */
  loDay: string;
  hiDay: string;
  meter: Meter;
}

function buildSet(master: SeriesMaster, dtstart: Date, w: Window): RRuleSet {
  const set = new RRuleSet();
  let rules = 0;
  let dates = 0;
  for (const line of master.recurrence) {
    const idx = line.indexOf(':');
    if (idx < 0) continue;
    const head = line.slice(0, idx).toUpperCase();
    const name = head.split(';')[0];
    const body = line.slice(idx + 1);
    if (name === 'RRULE' || name === 'EXRULE') {
      if (++rules > SERIES_LIMITS.rules) throw new SeriesLimit(`more than ${SERIES_LIMITS.rules} RRULE/EXRULE lines`);
      let options;
      try {
        options = RRule.parseString(body);
      } catch {
        continue;
      }
      checkShape(options, GUARD); // (no FREQ: rrule's default, YEARLY)
      // UNTIL in UTC (Google writes e.g. UNTIL=20250327T045959Z) is moved to the floating clock.
      const untilRaw = /UNTIL=([0-9TZ]+)/i.exec(body)?.[1];
      if (untilRaw) options.until = parseIcalValue(untilRaw, '', master.timeZone);
      let rule: RRule;
      try {
        rule = new RRule({ ...options, dtstart }, true);
      } catch {
        continue; // a rule rrule refuses (e.g. BYSETPOS=400) is skipped like one it cannot read
      }
      if (rule.options.until && rule.options.until < w.start) continue; // ended before the window
      if (dtstart > w.end) continue; // starts after it
      rule = metered(startNear(rule, w.start.getTime()), w.meter);
      if (name === 'RRULE') set.rrule(rule);
      else set.exrule(rule);
    } else if (name === 'RDATE' || name === 'EXDATE') {
      const values = body.split(',');
      dates += values.length;
      if (dates > SERIES_LIMITS.dates) throw new SeriesLimit(`more than ${SERIES_LIMITS.dates} RDATE/EXDATE values`);
      for (const v of values) {
        const day = v.trim().slice(0, 8);
        if (day < w.loDay || day > w.hiDay) continue; // cannot fall in the window
        const d = parseIcalValue(v, head, master.timeZone);
        if (!d) continue;
        if (name === 'RDATE') set.rdate(d);
        else set.exdate(d);
      }
    }
  }
  return set;
}

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
  const dtstart = master.allDay ? new Date(`${master.startDate}T00:00:00Z`) : toFloating(master.startAt, tz);
  const dayCount = master.allDay && master.startDate && master.endDate ? Math.round((Date.parse(master.endDate) - Date.parse(master.startDate)) / 86_400_000) : 0;
  // A window wide enough on the floating clock (offsets are within ±1 day), filtered exactly below.
  const windowStart = new Date(toFloating(from, tz).getTime() - Math.max(durationMs, dayCount * 86_400_000) - 2 * 86_400_000);
  const windowEnd = new Date(toFloating(to, tz).getTime() + 2 * 86_400_000);
  const compactDay = (ms: number) => ymd(new Date(ms)).replace(/-/g, '');
  const w: Window = {
    start: windowStart,
    end: windowEnd,
    loDay: compactDay(windowStart.getTime() - 2 * DAY),
    hiDay: compactDay(windowEnd.getTime() + 2 * DAY),
    meter: new Meter(GUARD),
  };

  const occurrenceAt = (floating: Date): Occurrence => {
    if (master.allDay) {
      const startDate = ymd(floating);
      const endDate = ymd(new Date(floating.getTime() + dayCount * 86_400_000));
      return {
        instanceId: `${master.googleEventId}_${startDate.replace(/-/g, '')}`,
        originalKey: startDate,
        start: wallTimeToInstant({ year: floating.getUTCFullYear(), month: floating.getUTCMonth() + 1, day: floating.getUTCDate() }, tz),
        end: wallTimeToInstant({ year: +endDate.slice(0, 4), month: +endDate.slice(5, 7), day: +endDate.slice(8, 10) }, tz),
        startDate,
        endDate,
      };
    }
    const start = fromFloating(floating, tz);
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

  let floatings: Date[];
  try {
    const set = buildSet(master, dtstart, w);
    floatings = set.between(windowStart, windowEnd, true, (_d, i) => {
      if (i >= SERIES_LIMITS.occurrences) throw new SeriesLimit(`more than ${SERIES_LIMITS.occurrences} occurrences in the range`);
      return true;
    });
  } catch (err) {
    if (!(err instanceof SeriesLimit)) throw err;
    const key = opts.limitKey ?? master.googleEventId;
    if (opts.onLimit && !reported.has(key)) {
      if (reported.size >= 10_000) reported.clear();
      reported.add(key);
      opts.onLimit(err.message);
    }
    // Not expanded: the series counts once, at its DTSTART.
    const only = occurrenceAt(dtstart);
    return overlaps(only) ? [only] : [];
  }
  const out: Occurrence[] = [];
  for (const floating of floatings) {
    const occ = occurrenceAt(floating);
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
