// Interval arithmetic on instants (ms, end exclusive): merging busy times and finding free slots.
import { DAY_MS, instantToWall, MINUTE_MS, wallToInstant } from '../time-zones/index.ts';

export interface Interval {
  start: number;
  end: number;
}

/** Sorted, overlapping or touching intervals merged, empty ones dropped. */
export function mergeIntervals(intervals: Iterable<Interval>): Interval[] {
  const sorted = [...intervals].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) {
      if (i.end > last.end) last.end = i.end;
    } else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** Each interval cut to [from, to); those outside dropped. */
export function clipIntervals(intervals: Interval[], from: number, to: number): Interval[] {
  const out: Interval[] = [];
  for (const i of intervals) {
    const start = Math.max(i.start, from);
    const end = Math.min(i.end, to);
    if (end > start) out.push({ start, end });
  }
  return out;
}

export interface WorkingHours {
  /** IANA zone the hours are read in. */
  timeZone: string;
  /** ISO weekdays (1 = Monday ... 7 = Sunday). */
  days: number[];
  /** 'HH:MM' local start, 'HH:MM' local end (up to '24:00'), end after start. */
  start: string;
  end: string;
}

export function parseClock(value: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  if (mi > 59 || h > 24 || (h === 24 && mi !== 0)) return null;
  return (h * 60 + mi) * MINUTE_MS;
}

/** The working-hours windows within [from, to), in instants, merged where they touch. */
export function workingWindows(hours: WorkingHours, from: number, to: number): Interval[] {
  const startOfDay = parseClock(hours.start);
  const endOfDay = parseClock(hours.end);
  if (startOfDay === null || endOfDay === null || endOfDay <= startOfDay) return [];
  const days = new Set(hours.days);
  const windows: Interval[] = [];
  const firstDay = Math.floor(instantToWall(from, hours.timeZone) / DAY_MS) * DAY_MS - DAY_MS;
  const lastDay = Math.floor(instantToWall(to, hours.timeZone) / DAY_MS) * DAY_MS + DAY_MS;
  for (let day = firstDay; day <= lastDay; day += DAY_MS) {
    const weekday = new Date(day).getUTCDay() || 7;
    if (!days.has(weekday)) continue;
    windows.push({ start: wallToInstant(day + startOfDay, hours.timeZone), end: wallToInstant(day + endOfDay, hours.timeZone) });
  }
  return mergeIntervals(clipIntervals(windows, from, to));
}

/**
 * Free slots: the maximal stretches of [from, to) (within working hours when given) not covered by
 * `busy`, at least `minDurationMs` long. `busy` may be unsorted and overlapping.
 */
export function freeSlots(busy: Interval[], from: number, to: number, minDurationMs: number, hours?: WorkingHours): Interval[] {
  const windows = hours ? workingWindows(hours, from, to) : to > from ? [{ start: from, end: to }] : [];
  const blocked = mergeIntervals(busy);
  const out: Interval[] = [];
  let b = 0;
  for (const w of windows) {
    let cursor = w.start;
    while (b < blocked.length && blocked[b]!.end <= w.start) b++;
    let k = b;
    while (k < blocked.length && blocked[k]!.start < w.end) {
      const iv = blocked[k]!;
      if (iv.start > cursor && iv.start - cursor >= minDurationMs) out.push({ start: cursor, end: iv.start });
      cursor = Math.max(cursor, iv.end);
      k++;
    }
    if (w.end > cursor && w.end - cursor >= minDurationMs) out.push({ start: cursor, end: w.end });
  }
  return out;
}
