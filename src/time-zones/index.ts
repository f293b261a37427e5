// Wall clock <-> instant in an IANA zone, with Intl only (no tz database of our own): shared by the
// sync (all-day events, series in events.list) and availability (blocked times).
//
// A "wall" time is a local date and time encoded as milliseconds as if it were UTC (what rrule calls
// "floating" time): arithmetic on days and weekdays is then plain arithmetic, and a wall time becomes
// a real instant only through `wallToInstant` in a given zone.
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const validity = new Map<string, boolean>();

/** Whether Intl knows this IANA zone name. */
export function isValidTimeZone(timeZone: string | null | undefined): timeZone is string {
  if (!timeZone) return false;
  let ok = validity.get(timeZone);
  if (ok === undefined) {
    try {
      formatterFor(timeZone);
      ok = true;
    } catch {
      ok = false;
    }
    validity.set(timeZone, ok);
  }
  return ok;
}

/** The first valid zone of the list, else UTC. */
export function pickTimeZone(...candidates: Array<string | null | undefined>): string {
  for (const c of candidates) if (isValidTimeZone(c)) return c;
  return 'UTC';
}

// Offsets only change on whole minutes in every zone in use since 1970 (transitions fall on 15-minute
// UTC boundaries), so one lookup per zone and minute is exact; the cache keeps expansion cheap.
const offsetCache = new Map<string, Map<number, number>>();
const OFFSET_CACHE_LIMIT = 200_000;

/** UTC offset of `timeZone` at `instantMs`, in ms (east positive: +01:00 -> 3_600_000). */
export function offsetAt(timeZone: string, instantMs: number): number {
  const minute = Math.floor(instantMs / MINUTE_MS);
  let zone = offsetCache.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsetCache.set(timeZone, zone);
  }
  const cached = zone.get(minute);
  if (cached !== undefined) return cached;
  const parts = formatterFor(timeZone).formatToParts(new Date(minute * MINUTE_MS));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value); break;
      case 'minute': mi = Number(p.value); break;
      case 'second': s = Number(p.value); break;
    }
  }
  const offset = Date.UTC(y, mo - 1, d, h, mi, s) - minute * MINUTE_MS;
  if (zone.size >= OFFSET_CACHE_LIMIT) zone.clear();
  zone.set(minute, offset);
  return offset;
}

/** The wall clock (floating ms) an instant shows in a zone. */
export function instantToWall(instantMs: number, timeZone: string): number {
  return instantMs + offsetAt(timeZone, instantMs);
}

/**
 * The instant a wall clock time designates in a zone. RFC 5545 §3.3.5: a time that occurs twice
 * (clocks going back) is the first occurrence; a time that does not exist (clocks going forward) is
 * read with the offset in force before the gap, so 02:30 on a spring-forward night becomes 03:30.
 */
export function wallToInstant(wallMs: number, timeZone: string): number {
  const before = offsetAt(timeZone, wallMs - DAY_MS);
  const after = offsetAt(timeZone, wallMs + DAY_MS);
  let best: number | undefined;
  for (const o of before === after ? [before] : [before, after]) {
    const t = wallMs - o;
    if (offsetAt(timeZone, t) === o && (best === undefined || t < best)) best = t;
  }
  if (best !== undefined) return best;
  // Neither offset fits: a transition closer than a day away from either probe. Try the offset at the guess.
  const guess = wallMs - offsetAt(timeZone, wallMs - before);
  if (instantToWall(guess, timeZone) === wallMs) return guess;
  return wallMs - before;
}

/** 'YYYY-MM-DD' -> wall ms of that day's midnight, or null when malformed. */
export function parseDateOnly(value: string | null | undefined): number | null {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatDateOnly(ms) === value ? ms : null;
}

/** wall ms -> 'YYYY-MM-DD' */
export function formatDateOnly(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 10);
}

/** RFC 3339 date-time with an offset (Google always sends one) -> instant ms, or null. */
export function parseDateTime(value: string | null | undefined): number | null {
  if (!value) return null;
  // An offset is mandatory in Google's dateTime; a bare local time is not an instant.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Midnight starting `date` in `timeZone`, as an instant. */
export function midnightIn(date: string, timeZone: string): number | null {
  const wall = parseDateOnly(date);
  return wall === null ? null : wallToInstant(wall, timeZone);
}

/** Start of the UTC day containing `ms`. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
