// The one reading of a series' recurrence lines (RRULE, EXRULE, RDATE, EXDATE), shared by availability
// (blocked times) and the sync (events.list): both must give the same occurrences for the same master,
// or availability.busy and events.list disagree about the same series ("One reading of recurrence"
// in docs/architecture.md).
//
// Google evaluates the rules in the wall clock of the series' own start.timeZone (RFC 5545 §3.3.10;
// Schema$EventDateTime.timeZone: "For recurring events this field is required and specifies the time
// zone in which the recurrence is expanded"): a daily 08:00 America/Chicago series keeps 08:00 across
// DST and its UTC instance ids shift (observed, fixtures gcal-events-incr-*). rrule is therefore run
// on "floating" times (wall clock encoded as UTC, the library's documented way around its tzid quirks)
// and the caller maps each wall time back to an instant in the series' zone.
//
// Readings that Google's own expansion decides (the emulator, src/emulator/recurrence.ts, reads them the
// same way and tests/sync/series-agreement.test.ts compares the two over the captured series):
// - DTSTART is always the first occurrence (RFC 5545 §3.8.5.3), whether or not the rule matches it;
// - UNTIL in UTC (Google's "this and following" split writes local midnight minus 1 s, e.g.
//   UNTIL=20250327T045959Z) is moved to the series' wall clock;
// - a DATE UNTIL on a timed series (UNTIL=20250327) keeps that whole local day;
// - EXDATE;VALUE=DATE on a timed series removes every occurrence on that local day;
// - an RDATE/EXDATE date-time on an all-day series names the day it falls on.
//
// The lines come from anyone who can send the owner an invitation, so an expansion is bounded
// (docs/availability.md, "Hostile rules"): rules finer than daily, BY* lists whose product is too
// large, a COUNT above the limit, too many rules or dates, too many occurrences in the window, or an
// expansion that walks too many rule periods or runs too long are refused with a
// RecurrenceLimitError (the caller then counts the master once, like an unreadable rule). A rule
// without COUNT is started at the rule period just before the window, not at a DTSTART decades ago.
import { RRule, type Options } from 'rrule';
import { checkShape, Meter, metered, RECURRENCE_GUARD_LIMITS, startNear, type Guard } from './guard.ts';
import { DAY_MS, instantToWall, wallToInstant, formatDateOnly } from '../time-zones/index.ts';

export class RecurrenceError extends Error {
  override name = 'RecurrenceError';
}

/** A series beyond a limit (RECURRENCE_GUARD_LIMITS, or the caller's occurrences): not expanded (the message names the limit, never the rule's text in full). */
export class RecurrenceLimitError extends RecurrenceError {
  override name = 'RecurrenceLimitError';
}

export interface SeriesClock {
  allDay: boolean;
  /** The zone the rules are read in: the series' start.timeZone (timed) or the calendar's (all-day). */
  timeZone: string;
  /** DTSTART as a wall time (midnight of the first day for all-day series). */
  dtstartWall: number;
}

interface Compiled {
  rules: RRule[];
  exrules: RRule[];
  rdates: number[];
  exdates: Set<number>;
  /** EXDATE;VALUE=DATE on a timed series: that whole local day is excluded. */
  exdays: Set<string>;
}

/** How an expansion is guarded: beyond a limit, a RecurrenceLimitError. */
const GUARD: Guard = {
  limits: RECURRENCE_GUARD_LIMITS,
  fail: (message) => new RecurrenceLimitError(message),
  finerThanDailyNote: ': not expanded',
};

/** The window being expanded (wall times), and the meter every rule of the expansion reports to. */
interface Expansion {
  lo: number;
  hi: number;
  /** 'YYYYMMDD' two days around the window: date values outside it cannot fall in it, whatever their zone. */
  loDay: string;
  hiDay: string;
  meter: Meter;
}

const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;

/** A rule's or value's text for a message: never the whole of a hostile line. */
const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}... (${s.length} chars)` : s);

/**
 * One RDATE/EXDATE value as a wall time of the series, a day ('YYYY-MM-DD') for a DATE on a timed
 * series, or null when it lies too far from the window to matter (it is still checked for syntax).
 */
function valueToWall(raw: string, params: Map<string, string>, series: SeriesClock, x: Expansion): number | string | null {
  const value = raw.trim().split('/')[0]!; // VALUE=PERIOD: "start/end" or "start/duration": the start is the occurrence
  const m = COMPACT.exec(value);
  if (!m) throw new RecurrenceError(`bad date value ${clip(raw)}`);
  const ymd = `${m[1]}${m[2]}${m[3]}`;
  if (ymd < x.loDay || ymd > x.hiDay) return null;
  const day = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // A DATE value: the occurrence itself on an all-day series, a whole local day on a timed one.
  if (m[4] === undefined) return series.allDay ? day : formatDateOnly(day);
  const wall = day + ((Number(m[4]) * 60 + Number(m[5])) * 60 + Number(m[6])) * 1000;
  let seriesWall: number;
  if (m[7]) seriesWall = instantToWall(wall, series.timeZone);
  else {
    const tzid = params.get('TZID');
    seriesWall = tzid && tzid !== series.timeZone ? instantToWall(wallToInstant(wall, tzid), series.timeZone) : wall;
  }
  // On an all-day series a date-time names the day it falls on.
  return series.allDay ? Math.floor(seriesWall / DAY_MS) * DAY_MS : seriesWall;
}

/** The rule of one RRULE/EXRULE line, ready for the window: null when it cannot reach it. */
function parseRule(value: string, series: SeriesClock, x: Expansion): RRule | null {
  let opts: Partial<Options>;
  try {
    opts = RRule.parseString(value);
  } catch (e) {
    throw new RecurrenceError(`bad rule ${clip(value)}: ${(e as Error).message}`);
  }
  if (opts.freq === undefined || opts.freq === null) throw new RecurrenceError(`rule without FREQ: ${clip(value)}`);
  checkShape(opts, GUARD);
  if (opts.until) {
    const untilRaw = /UNTIL=([0-9TZ]+)/i.exec(value)?.[1] ?? '';
    const u = opts.until.getTime();
    if (untilRaw.toUpperCase().endsWith('Z')) {
      // UNTIL in UTC (Google's "this and following" split: local midnight minus 1 s, FACTS §2).
      opts.until = new Date(instantToWall(u, series.timeZone));
    } else if (!untilRaw.includes('T') && !series.allDay) {
      // A DATE UNTIL on a timed series: the whole day is still in.
      opts.until = new Date(u + DAY_MS - 1000);
    }
  }
  let rule: RRule;
  try {
    rule = new RRule({ ...opts, dtstart: new Date(series.dtstartWall), tzid: null }, true);
  } catch (e) {
    throw new RecurrenceError(`bad rule ${clip(value)}: ${(e as Error).message}`);
  }
  if (rule.options.until && rule.options.until.getTime() < x.lo) return null; // ended before the window
  return metered(startNear(rule, x.lo), x.meter);
}

function compile(lines: string[], series: SeriesClock, x: Expansion): Compiled {
  const out: Compiled = { rules: [], exrules: [], rdates: [], exdates: new Set(), exdays: new Set() };
  let rules = 0;
  let dates = 0;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) throw new RecurrenceError(`bad recurrence line ${clip(line)}`);
    const [name = '', ...paramParts] = line.slice(0, colon).toUpperCase().split(';');
    const params = new Map(
      paramParts.map((p) => {
        const eq = p.indexOf('=');
        return [p.slice(0, eq), p.slice(eq + 1)] as const;
      }),
    );
    // TZID values are case-sensitive IANA names: re-read them from the original line.
    const tzid = /;TZID=([^;:]+)/i.exec(line.slice(0, colon))?.[1];
    if (tzid) params.set('TZID', tzid);
    const value = line.slice(colon + 1);
    switch (name) {
      case 'RRULE':
      case 'EXRULE': {
        if (++rules > RECURRENCE_GUARD_LIMITS.rules) throw new RecurrenceLimitError(`more than ${RECURRENCE_GUARD_LIMITS.rules} RRULE/EXRULE lines`);
        const rule = parseRule(value, series, x);
        if (rule) (name === 'RRULE' ? out.rules : out.exrules).push(rule);
        break;
      }
      case 'RDATE':
      case 'EXDATE': {
        const raws = value.split(',');
        dates += raws.length;
        if (dates > RECURRENCE_GUARD_LIMITS.dates) throw new RecurrenceLimitError(`more than ${RECURRENCE_GUARD_LIMITS.dates} RDATE/EXDATE values`);
        for (const raw of raws) {
          if (!raw.trim()) continue;
          const w = valueToWall(raw, params, series, x);
          if (w === null) continue;
          if (typeof w === 'string') {
            if (name === 'EXDATE') out.exdays.add(w);
            else out.rdates.push(Date.UTC(+w.slice(0, 4), +w.slice(5, 7) - 1, +w.slice(8, 10)) + (((series.dtstartWall % DAY_MS) + DAY_MS) % DAY_MS));
          } else if (name === 'RDATE') out.rdates.push(w);
          else out.exdates.add(w);
        }
        break;
      }
      default:
        // Unknown lines (X- properties) do not change the set of occurrences.
        break;
    }
  }
  return out;
}

const compactDay = (wall: number) => new Date(wall).toISOString().slice(0, 10).replace(/-/g, '');

/**
 * Wall times of the occurrences whose start lies in [fromWall, untilWall], sorted. DTSTART is always
 * the first occurrence (RFC 5545 §3.8.5.3). Throws RecurrenceError on a line it cannot read, and
 * RecurrenceLimitError when the series is beyond RECURRENCE_GUARD_LIMITS or has more than
 * `maxOccurrences` occurrences in the window (each caller sets its own).
 */
export function expandRecurrence(lines: string[], series: SeriesClock, fromWall: number, untilWall: number, maxOccurrences: number): number[] {
  if (untilWall < fromWall) return [];
  const lo = Math.max(fromWall, series.dtstartWall);
  const x: Expansion = { lo, hi: untilWall, loDay: compactDay(lo - 2 * DAY_MS), hiDay: compactDay(untilWall + 2 * DAY_MS), meter: new Meter(GUARD) };
  const c = compile(lines, series, x);
  if (untilWall < lo) return [];
  const set = new Set<number>();
  if (series.dtstartWall >= fromWall && series.dtstartWall <= untilWall) set.add(series.dtstartWall);
  const cap = (_d: Date, len: number): boolean => {
    if (len >= maxOccurrences) throw new RecurrenceLimitError(`more than ${maxOccurrences} occurrences in the window`);
    return true;
  };
  for (const r of c.rules) for (const d of r.between(new Date(lo), new Date(untilWall), true, cap)) set.add(d.getTime());
  for (const w of c.rdates) if (w >= lo && w <= untilWall) set.add(w);
  for (const r of c.exrules) for (const d of r.between(new Date(lo), new Date(untilWall), true, cap)) set.delete(d.getTime());
  for (const w of c.exdates) set.delete(w);
  let walls = [...set].sort((a, b) => a - b);
  if (c.exdays.size > 0) walls = walls.filter((w) => !c.exdays.has(formatDateOnly(Math.floor(w / DAY_MS) * DAY_MS)));
  if (walls.length > maxOccurrences) throw new RecurrenceLimitError(`more than ${maxOccurrences} occurrences in the window`);
  return walls;
}
