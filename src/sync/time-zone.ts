// Wall-clock times in an IANA zone to instants, with Intl only (no tz database of our own).
// All-day events are placed from local midnight to local midnight, so a DST day lasts 23 or 25 h.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string | null | undefined): timeZone is string {
  if (!timeZone) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at this instant, in ms (positive east of Greenwich). */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(instantMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - (instantMs - (((instantMs % 1000) + 1000) % 1000));
}

/**
 * The instant at which the wall clock of `timeZone` shows this time. In a spring-forward gap the
 * wall time does not exist: the result is the first instant after the gap (what Google shows);
 * in a fall-back overlap the earlier instant is taken.
 */
export function wallTimeToInstant(
  wall: { year: number; month: number; day: number; hour?: number; minute?: number; second?: number },
  timeZone: string,
): Date {
  const wallMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour ?? 0, wall.minute ?? 0, wall.second ?? 0);
  if (!isValidTimeZone(timeZone)) return new Date(wallMs);
  // Offsets an hour either side cover every transition; take the earliest candidate that reads back
  // as the wanted wall time, else (a gap) the instant computed with the offset before the gap.
  const before = zoneOffsetMs(wallMs - 86_400_000, timeZone);
  const after = zoneOffsetMs(wallMs + 86_400_000, timeZone);
  const candidates = [...new Set([wallMs - before, wallMs - after, wallMs - zoneOffsetMs(wallMs, timeZone)])].sort((a, b) => a - b);
  for (const c of candidates) {
    if (c + zoneOffsetMs(c, timeZone) === wallMs) return new Date(c);
  }
  return new Date(wallMs - before);
}

/** `YYYY-MM-DD` at 00:00 in the zone. */
export function startOfDateInZone(date: string, timeZone: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  return wallTimeToInstant({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, timeZone);
}

/** Google's RFC 3339 `dateTime`; without an offset it is read in `timeZone` (Google allows that). */
export function parseGoogleDateTime(value: string, timeZone: string | null | undefined): Date | null {
  if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!m) return null;
  return wallTimeToInstant(
    { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: m[6] ? +m[6] : 0 },
    isValidTimeZone(timeZone) ? timeZone : 'UTC',
  );
}
