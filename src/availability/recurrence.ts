// Expansion of a master's recurrence lines (RRULE, EXRULE, RDATE, EXDATE) with the `rrule` library.
//
// Google evaluates the rules in the wall clock of the series' own start.timeZone (RFC 5545 §3.3.10;
// FACTS §2: a daily 08:00 America/Chicago series keeps 08:00 across DST, its UTC instance ids shift).
// rrule is therefore run on "floating" times (wall clock encoded as UTC, the library's documented way
// around its tzid quirks) and the caller maps each wall time back to an instant in the series' zone.
import { RRule, type Options } from 'rrule';
import { DAY_MS, instantToWall, wallToInstant, formatDateOnly } from '../time-zones/index.ts';

/** Safety cap on the occurrences of one series in one window (an hourly series over 180 days is ~4,300). */
export const MAX_OCCURRENCES = 10_000;

export class RecurrenceError extends Error {
  override name = 'RecurrenceError';
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

const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;

/** One RDATE/EXDATE value as a wall time of the series, or a day ('YYYY-MM-DD') for a DATE on a timed series. */
function valueToWall(raw: string, params: Map<string, string>, series: SeriesClock): number | string {
  const value = raw.trim().split('/')[0]!; // VALUE=PERIOD: "start/end" or "start/duration": the start is the occurrence
  const m = COMPACT.exec(value);
  if (!m) throw new RecurrenceError(`bad date value ${raw}`);
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

function parseRule(value: string, series: SeriesClock): RRule {
  let opts: Partial<Options>;
  try {
    opts = RRule.parseString(value);
  } catch (e) {
    throw new RecurrenceError(`bad rule ${value}: ${(e as Error).message}`);
  }
  if (opts.freq === undefined || opts.freq === null) throw new RecurrenceError(`rule without FREQ: ${value}`);
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
  try {
    return new RRule({ ...opts, dtstart: new Date(series.dtstartWall), tzid: null });
  } catch (e) {
    throw new RecurrenceError(`bad rule ${value}: ${(e as Error).message}`);
  }
}

function compile(lines: string[], series: SeriesClock): Compiled {
  const out: Compiled = { rules: [], exrules: [], rdates: [], exdates: new Set(), exdays: new Set() };
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) throw new RecurrenceError(`bad recurrence line ${line}`);
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
        out.rules.push(parseRule(value, series));
        break;
      case 'EXRULE':
        out.exrules.push(parseRule(value, series));
        break;
      case 'RDATE':
      case 'EXDATE':
        for (const raw of value.split(',')) {
          if (!raw.trim()) continue;
          const w = valueToWall(raw, params, series);
          if (typeof w === 'string') {
            if (name === 'EXDATE') out.exdays.add(w);
            else out.rdates.push(Date.UTC(+w.slice(0, 4), +w.slice(5, 7) - 1, +w.slice(8, 10)) + (((series.dtstartWall % DAY_MS) + DAY_MS) % DAY_MS));
          } else if (name === 'RDATE') out.rdates.push(w);
          else out.exdates.add(w);
        }
        break;
      default:
        // Unknown lines (X- properties) do not change the set of occurrences.
        break;
    }
  }
  return out;
}

/**
 * Wall times of the occurrences whose start lies in [fromWall, untilWall], sorted. DTSTART is always
 * the first occurrence (RFC 5545 §3.8.5.3). Throws RecurrenceError on a line it cannot read.
 */
export function expandRecurrence(lines: string[], series: SeriesClock, fromWall: number, untilWall: number): number[] {
  if (untilWall < fromWall) return [];
  const c = compile(lines, series);
  const lo = Math.max(fromWall, series.dtstartWall);
  if (untilWall < lo) return [];
  const set = new Set<number>();
  if (series.dtstartWall >= fromWall && series.dtstartWall <= untilWall) set.add(series.dtstartWall);
  const cap = (_d: Date, len: number): boolean => len < MAX_OCCURRENCES;
  for (const r of c.rules) for (const d of r.between(new Date(lo), new Date(untilWall), true, cap)) set.add(d.getTime());
  for (const w of c.rdates) if (w >= lo && w <= untilWall) set.add(w);
  for (const r of c.exrules) for (const d of r.between(new Date(lo), new Date(untilWall), true, cap)) set.delete(d.getTime());
  for (const w of c.exdates) set.delete(w);
  let walls = [...set].sort((a, b) => a - b);
  if (c.exdays.size > 0) walls = walls.filter((w) => !c.exdays.has(formatDateOnly(Math.floor(w / DAY_MS) * DAY_MS)));
  return walls.length > MAX_OCCURRENCES ? walls.slice(0, MAX_OCCURRENCES) : walls;
}
