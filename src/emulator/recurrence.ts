// Expansion of recurring events into instances.
//
// Google evaluates RRULE/RDATE/EXDATE in the wall clock of the master's start.timeZone (RFC 5545 §3.3.10),
// so a daily 08:00 America/Chicago series stays at 08:00 across DST and its instances' UTC ids shift
// (observed: 08:00 CDT -> "_20250325T130000Z", 08:00 CST -> "_20250209T140000Z"). rrule is run on
// "floating" times (wall clock encoded as UTC, the library's documented way to avoid its tzid quirks) and
// each result is mapped back to a real instant with the Intl-based helpers in time.ts.
//
// Instance ids are "<masterId>_<YYYYMMDDTHHMMSSZ>" (original start in UTC) for timed series and
// "<masterId>_<YYYYMMDD>" for all-day ones (FACTS §2, observed).

import { RRule, type Options } from 'rrule';
import type { CalEvent, EventDateTime } from './types.ts';
import {
  DAY_MS, dateToInstant, floatingToWall, formatDate, formatInZone, parseDate, parseDateTime, utcCompact,
  wallAt, wallToFloating, wallToInstant,
} from './time.ts';

export class RecurrenceError extends Error {}

/** Open-ended series are expanded this far past max(now, series start) when no timeMax bounds the query. */
export const OPEN_SERIES_HORIZON_MS = 366 * DAY_MS;
/** Safety cap on instances produced for one series in one call. */
export const MAX_INSTANCES = 5000;

export interface Occurrence {
  startMs: number;
  endMs: number;
  start: EventDateTime;
  end: EventDateTime;
  originalStartTime: EventDateTime;
  suffix: string;
}

interface CompiledSeries {
  allDay: boolean;
  tz: string; // zone the rules are evaluated in (calendar zone for all-day series)
  endTz: string;
  keepStartTz: boolean;
  keepEndTz: boolean;
  floatingStart: number;
  startMs: number;
  durationMs: number; // timed: real duration; all-day: floating days * DAY_MS
  rules: RRule[];
  exrules: RRule[];
  rdates: number[];
  exdates: Set<number>;
  exdays: Set<string>; // EXDATE;VALUE=DATE on a timed series removes that whole local day
}

// Stored events are immutable, so a compiled series can be cached per event object (and calendar zone,
// which all-day and zone-less series depend on).
const compiled = new WeakMap<CalEvent, { calendarTz: string; series: CompiledSeries }>();

function floatingFromCompact(raw: string, params: Map<string, string>, series: { allDay: boolean; tz: string }): number | string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(raw.trim());
  if (!m) throw new RecurrenceError(`bad date ${raw}`);
  const w = { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: Number(m[4] ?? 0), mi: Number(m[5] ?? 0), s: Number(m[6] ?? 0) };
  if (m[4] === undefined) {
    // A DATE value: for an all-day series it is the occurrence itself; for a timed one it names a local day.
    return series.allDay ? wallToFloating(w) : formatDate(w);
  }
  if (series.allDay) return wallToFloating({ ...w, h: 0, mi: 0, s: 0 });
  if (m[7]) return wallToFloating(wallAt(wallToFloating(w), series.tz));
  const tzid = params.get('TZID');
  if (tzid && tzid !== series.tz) return wallToFloating(wallAt(wallToInstant(w, tzid), series.tz));
  return wallToFloating(w);
}

function parseRule(value: string, series: { allDay: boolean; tz: string; floatingStart: number }): RRule {
  let opts: Partial<Options>;
  try {
    opts = RRule.parseString(value);
  } catch (e) {
    throw new RecurrenceError((e as Error).message);
  }
  if (opts.freq === undefined) throw new RecurrenceError('FREQ missing');
  if (opts.until) {
    const untilRaw = /UNTIL=([0-9TZ]+)/i.exec(value)?.[1] ?? '';
    const u = opts.until.getTime();
    if (!series.allDay && untilRaw.endsWith('Z')) opts.until = new Date(wallToFloating(wallAt(u, series.tz)));
    else if (!series.allDay && !untilRaw.includes('T')) opts.until = new Date(u + DAY_MS - 1000);
  }
  try {
    return new RRule({ ...opts, dtstart: new Date(series.floatingStart), tzid: null });
  } catch (e) {
    throw new RecurrenceError((e as Error).message);
  }
}

/** Parses and validates a master's recurrence. Throws RecurrenceError for anything Google would reject. */
export function compileSeries(ev: CalEvent, calendarTz: string): CompiledSeries {
  const cached = compiled.get(ev);
  if (cached?.calendarTz === calendarTz) return cached.series;
  const start = ev.start ?? {};
  const end = ev.end ?? {};
  const allDay = start.date !== undefined;
  let tz: string;
  let floatingStart: number;
  let startMs: number;
  let durationMs: number;
  if (allDay) {
    tz = calendarTz;
    const d = parseDate(start.date ?? '');
    const e = parseDate(end.date ?? '');
    if (!d || !e) throw new RecurrenceError('bad all-day dates');
    floatingStart = wallToFloating({ ...d, h: 0, mi: 0, s: 0 });
    durationMs = wallToFloating({ ...e, h: 0, mi: 0, s: 0 }) - floatingStart;
    startMs = dateToInstant(start.date ?? '', tz) ?? 0;
  } else {
    tz = start.timeZone ?? calendarTz;
    const s = parseDateTime(start.dateTime ?? '', tz);
    const e = parseDateTime(end.dateTime ?? '', end.timeZone ?? tz);
    if (s === null || e === null) throw new RecurrenceError('bad start/end');
    startMs = s;
    durationMs = e - s;
    floatingStart = wallToFloating(wallAt(s, tz));
  }
  const series: CompiledSeries = {
    allDay, tz, endTz: end.timeZone ?? tz, keepStartTz: start.timeZone !== undefined, keepEndTz: end.timeZone !== undefined,
    floatingStart, startMs, durationMs, rules: [], exrules: [], rdates: [], exdates: new Set(), exdays: new Set(),
  };
  for (const line of ev.recurrence ?? []) {
    const colon = line.indexOf(':');
    if (colon < 0) throw new RecurrenceError(`bad line ${line}`);
    const [name = '', ...paramParts] = line.slice(0, colon).toUpperCase().split(';');
    const params = new Map(paramParts.map((p) => {
      const [k = '', v = ''] = p.split('=');
      return [k, v] as const;
    }));
    const value = line.slice(colon + 1);
    switch (name) {
      case 'RRULE': series.rules.push(parseRule(value, series)); break;
      case 'EXRULE': series.exrules.push(parseRule(value, series)); break;
      case 'RDATE':
      case 'EXDATE':
        for (const raw of value.split(',')) {
          const f = floatingFromCompact(raw, params, series);
          if (typeof f === 'string') {
            if (name === 'EXDATE') series.exdays.add(f);
          } else if (name === 'RDATE') series.rdates.push(f);
          else series.exdates.add(f);
        }
        break;
      default:
        throw new RecurrenceError(`unsupported line ${line}`);
    }
  }
  compiled.set(ev, { calendarTz, series });
  return series;
}

export function isRecurringMaster(ev: CalEvent): boolean {
  return Array.isArray(ev.recurrence) && ev.recurrence.length > 0 && ev.recurringEventId === undefined;
}

/**
 * Occurrences of a master overlapping [from, to) — end > from and start < to, the events.list
 * timeMin/timeMax semantics — ordered by start. Without `to`, open series stop at the horizon.
 */
export function expandSeries(ev: CalEvent, calendarTz: string, window: { from?: number; to?: number }, now = Date.now()): Occurrence[] {
  const s = compileSeries(ev, calendarTz);
  const to = window.to ?? Math.max(now, s.startMs) + OPEN_SERIES_HORIZON_MS;
  const fromF = window.from === undefined ? s.floatingStart : Math.max(s.floatingStart, window.from - s.durationMs - 2 * DAY_MS);
  const toF = to + 2 * DAY_MS;
  if (fromF > toF) return [];
  const set = new Set<number>();
  if (s.floatingStart >= fromF && s.floatingStart <= toF) set.add(s.floatingStart);
  const cap = (_d: Date, len: number): boolean => len < MAX_INSTANCES;
  for (const r of s.rules) for (const d of r.between(new Date(fromF), new Date(toF), true, cap)) set.add(d.getTime());
  for (const f of s.rdates) if (f >= fromF && f <= toF) set.add(f);
  for (const r of s.exrules) for (const d of r.between(new Date(fromF), new Date(toF), true, cap)) set.delete(d.getTime());
  for (const f of s.exdates) set.delete(f);
  const out: Occurrence[] = [];
  for (const f of [...set].sort((a, b) => a - b)) {
    if (out.length >= MAX_INSTANCES) break;
    const occ = toOccurrence(s, f);
    if (s.exdays.size > 0 && !s.allDay && s.exdays.has(formatDate(floatingToWall(f)))) continue;
    if (window.from !== undefined && occ.endMs <= window.from) continue;
    if (occ.startMs >= to) continue;
    out.push(occ);
  }
  return out;
}

function toOccurrence(s: CompiledSeries, f: number): Occurrence {
  if (s.allDay) {
    const startDate = formatDate(floatingToWall(f));
    const endDate = formatDate(floatingToWall(f + s.durationMs));
    const startMs = dateToInstant(startDate, s.tz) ?? f;
    const endMs = dateToInstant(endDate, s.tz) ?? f + s.durationMs;
    return {
      startMs, endMs, start: { date: startDate }, end: { date: endDate }, originalStartTime: { date: startDate },
      suffix: startDate.replaceAll('-', ''),
    };
  }
  const startMs = wallToInstant(floatingToWall(f), s.tz);
  const endMs = startMs + s.durationMs;
  const start: EventDateTime = { dateTime: formatInZone(startMs, s.tz) };
  if (s.keepStartTz) start.timeZone = s.tz;
  const end: EventDateTime = { dateTime: formatInZone(endMs, s.endTz) };
  if (s.keepEndTz) end.timeZone = s.endTz;
  return { startMs, endMs, start, end, originalStartTime: { ...start }, suffix: utcCompact(startMs) };
}

/** The instance-id suffix an originalStartTime designates, or null if it cannot be read. */
export function suffixForOriginalStart(ost: EventDateTime | undefined, calendarTz: string): string | null {
  if (!ost) return null;
  if (ost.date) return parseDate(ost.date) ? ost.date.replaceAll('-', '') : null;
  if (ost.dateTime) {
    const ms = parseDateTime(ost.dateTime, ost.timeZone ?? calendarTz);
    return ms === null ? null : utcCompact(ms);
  }
  return null;
}

/** Splits "<masterId>_<suffix>" into its parts when it looks like an instance id. */
export function splitInstanceId(id: string): { masterId: string; suffix: string } | null {
  const m = /^(.+)_(\d{8}(?:T\d{6}Z)?)$/.exec(id);
  return m ? { masterId: m[1] ?? '', suffix: m[2] ?? '' } : null;
}

/** Finds the occurrence of a master with the given suffix, if the series has one. */
export function findOccurrence(ev: CalEvent, calendarTz: string, suffix: string): Occurrence | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(suffix);
  if (!m) return null;
  const approx = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  let s: CompiledSeries;
  try {
    s = compileSeries(ev, calendarTz);
  } catch {
    return null;
  }
  const occs = expandSeries(ev, calendarTz, { from: approx - s.durationMs - 2 * DAY_MS, to: approx + 2 * DAY_MS });
  return occs.find((o) => o.suffix === suffix) ?? null;
}
