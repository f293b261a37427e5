// Date and time-zone helpers. Google Calendar mixes three notions of time: RFC 3339 instants with an offset,
// wall-clock times in an IANA zone (recurrence is evaluated in the event's zone, so a daily 08:00 meeting
// stays at 08:00 across DST), and all-day dates. Only the built-in Intl API is used, so the emulator needs no
// time-zone database package.

export interface Wall {
  y: number;
  mo: number; // 1-12
  d: number;
  h: number;
  mi: number;
  s: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `tz` at instant `ms`. */
export function wallAt(ms: number, tz: string): Wall {
  const w: Wall = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0 };
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    const v = Number(p.value);
    switch (p.type) {
      case 'year': w.y = v; break;
      case 'month': w.mo = v; break;
      case 'day': w.d = v; break;
      case 'hour': w.h = v === 24 ? 0 : v; break;
      case 'minute': w.mi = v; break;
      case 'second': w.s = v; break;
      default: break;
    }
  }
  return w;
}

/** A wall clock as a "floating" UTC millisecond value (the representation rrule works in). */
export function wallToFloating(w: Wall): number {
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
}

export function floatingToWall(f: number): Wall {
  const d = new Date(f);
  return {
    y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(),
    h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(),
  };
}

/** Offset of `tz` from UTC at instant `ms`, in minutes (east positive). */
export function offsetMinutes(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return Math.round((wallToFloating(wallAt(whole, tz)) - whole) / 60000);
}

/** The instant at which the wall clock in `tz` shows `w` (the later reading is used in a DST gap). */
export function wallToInstant(w: Wall, tz: string): number {
  const guess = wallToFloating(w);
  const first = guess - offsetMinutes(guess, tz) * 60000;
  const second = guess - offsetMinutes(first, tz) * 60000;
  return second;
}

function pad(n: number, len = 2): string {
  return String(n).padStart(len, '0');
}

function offsetString(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** RFC 3339 with the zone's offset at that instant, as Google renders event times ("2025-03-26T07:30:00-05:00"). */
export function formatInZone(ms: number, tz: string): string {
  const w = wallAt(ms, tz);
  return `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}${offsetString(offsetMinutes(ms, tz))}`;
}

export function formatDate(w: Pick<Wall, 'y' | 'mo' | 'd'>): string {
  return `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)}`;
}

/** "20250325T130000Z": the UTC form used in recurring-instance ids. */
export function utcCompact(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** RFC 1123, as in X-Goog-Channel-Expiration ("Tue, 19 Nov 2013 01:13:52 GMT"). */
export function rfc1123(ms: number): string {
  return new Date(ms).toUTCString();
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses an RFC 3339 date-time. Without an offset the wall time is read in `zone` when one is given
 * (Google: "A time zone offset is required unless a time zone is explicitly specified in timeZone"),
 * otherwise the value is rejected (null).
 */
export function parseDateTime(s: string, zone?: string): number | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const w: Wall = {
    y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: Number(m[4]), mi: Number(m[5]), s: Number(m[6]),
  };
  if (w.mo < 1 || w.mo > 12 || w.d < 1 || w.d > 31 || w.h > 23 || w.mi > 59 || w.s > 60) return null;
  const frac = m[7] ? Math.round(Number(`0${m[7]}`) * 1000) : 0;
  const off = m[8];
  if (!off) {
    if (!zone) return null;
    return wallToInstant(w, zone) + frac;
  }
  const base = wallToFloating(w) + frac;
  if (off === 'Z' || off === 'z') return base;
  const sign = off.startsWith('-') ? -1 : 1;
  const digits = off.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return base - sign * minutes * 60000;
}

export function parseDate(s: string): Pick<Wall, 'y' | 'mo' | 'd'> | null {
  const m = DATE_ONLY.exec(s);
  if (!m) return null;
  const w = { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]) };
  if (w.mo < 1 || w.mo > 12 || w.d < 1 || w.d > 31) return null;
  return w;
}

/** Midnight of an all-day date in `tz` (Google bounds all-day events by the calendar's zone). */
export function dateToInstant(s: string, tz: string): number | null {
  const d = parseDate(s);
  if (!d) return null;
  return wallToInstant({ ...d, h: 0, mi: 0, s: 0 }, tz);
}

export const DAY_MS = 86_400_000;
