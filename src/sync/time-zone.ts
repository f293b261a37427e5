// Google's date and time fields to instants, on the shared time-zone arithmetic (src/time-zones).
// All-day events are placed from local midnight to local midnight, so a DST day lasts 23 or 25 h.
import { isValidTimeZone, offsetAt, wallToInstant, midnightIn } from '../time-zones/index.ts';

export { isValidTimeZone };

/** The zone's offset from UTC at this instant, in ms (positive east of Greenwich). */
export const zoneOffsetMs = (instantMs: number, timeZone: string): number => offsetAt(timeZone, instantMs);

/**
 * The instant at which the wall clock of `timeZone` shows this time. In a spring-forward gap the
 * wall time does not exist: the result is the first instant after the gap (what Google shows);
 * in a fall-back overlap the earlier instant is taken. An unknown zone reads the time as UTC.
 */
export function wallTimeToInstant(
  wall: { year: number; month: number; day: number; hour?: number; minute?: number; second?: number },
  timeZone: string,
): Date {
  const wallMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour ?? 0, wall.minute ?? 0, wall.second ?? 0);
  return new Date(isValidTimeZone(timeZone) ? wallToInstant(wallMs, timeZone) : wallMs);
}

/** `YYYY-MM-DD` at 00:00 in the zone. */
export function startOfDateInZone(date: string, timeZone: string): Date {
  const instant = midnightIn(date, isValidTimeZone(timeZone) ? timeZone : 'UTC');
  if (instant === null) throw new RangeError(`not a date: ${date}`);
  return new Date(instant);
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
