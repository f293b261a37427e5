// Occurrences of a recurring master (RRULE / EXRULE / RDATE / EXDATE lines, RFC 5545) in a range.
// The rules are expanded on the wall clock of the event's time zone ("floating" times) and each
// occurrence is then placed in that zone, so a 09:00 weekly meeting stays at 09:00 across DST.
import { RRule, RRuleSet } from 'rrule';
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

/** Expanding stops here per master and query, whatever the rule says. */
const MAX_OCCURRENCES = 5000;

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

function buildSet(master: SeriesMaster, dtstart: Date): RRuleSet {
  const set = new RRuleSet();
  for (const line of master.recurrence) {
    const idx = line.indexOf(':');
    if (idx < 0) continue;
    const head = line.slice(0, idx).toUpperCase();
    const name = head.split(';')[0];
    const body = line.slice(idx + 1);
    if (name === 'RRULE' || name === 'EXRULE') {
      let options;
      try {
        options = RRule.parseString(body);
      } catch {
        continue;
      }
      // UNTIL in UTC (Google writes e.g. UNTIL=20250327T045959Z) is moved to the floating clock.
      const untilRaw = /UNTIL=([0-9TZ]+)/i.exec(body)?.[1];
      if (untilRaw) options.until = parseIcalValue(untilRaw, '', master.timeZone);
      const rule = new RRule({ ...options, dtstart });
      if (name === 'RRULE') set.rrule(rule);
      else set.exrule(rule);
    } else if (name === 'RDATE' || name === 'EXDATE') {
      for (const v of body.split(',')) {
        const d = parseIcalValue(v, head, master.timeZone);
        if (!d) continue;
        if (name === 'RDATE') set.rdate(d);
        else set.exdate(d);
      }
    }
  }
  return set;
}

/** Occurrences overlapping [from, to) (a zero-length one counts when it starts inside). */
export function expandSeries(master: SeriesMaster, from: Date, to: Date): Occurrence[] {
  const tz = isValidTimeZone(master.timeZone) ? master.timeZone : 'UTC';
  const durationMs = master.endAt.getTime() - master.startAt.getTime();
  const dtstart = master.allDay ? new Date(`${master.startDate}T00:00:00Z`) : toFloating(master.startAt, tz);
  const dayCount = master.allDay && master.startDate && master.endDate ? Math.round((Date.parse(master.endDate) - Date.parse(master.startDate)) / 86_400_000) : 0;
  const set = buildSet(master, dtstart);
  // A window wide enough on the floating clock (offsets are within ±1 day), filtered exactly below.
  const windowStart = new Date(toFloating(from, tz).getTime() - Math.max(durationMs, dayCount * 86_400_000) - 2 * 86_400_000);
  const windowEnd = new Date(toFloating(to, tz).getTime() + 2 * 86_400_000);
  const out: Occurrence[] = [];
  for (const floating of set.between(windowStart, windowEnd, true, (_d, i) => i < MAX_OCCURRENCES)) {
    let occ: Occurrence;
    if (master.allDay) {
      const startDate = ymd(floating);
      const endDate = ymd(new Date(floating.getTime() + dayCount * 86_400_000));
      occ = {
        instanceId: `${master.googleEventId}_${startDate.replace(/-/g, '')}`,
        originalKey: startDate,
        start: wallTimeToInstant({ year: floating.getUTCFullYear(), month: floating.getUTCMonth() + 1, day: floating.getUTCDate() }, tz),
        end: wallTimeToInstant({ year: +endDate.slice(0, 4), month: +endDate.slice(5, 7), day: +endDate.slice(8, 10) }, tz),
        startDate,
        endDate,
      };
    } else {
      const start = fromFloating(floating, tz);
      occ = {
        instanceId: `${master.googleEventId}_${compactUtc(start)}`,
        originalKey: String(start.getTime()),
        start,
        end: new Date(start.getTime() + durationMs),
        startDate: null,
        endDate: null,
      };
    }
    const overlaps = occ.start < to && (occ.end > from || (occ.end.getTime() === occ.start.getTime() && occ.start >= from));
    if (overlaps) out.push(occ);
  }
  return out;
}

/** The key an instance's originalStartTime (`dateTime` or `date`) gives its occurrence. */
export function originalKeyOf(originalStartTime: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(originalStartTime)) return originalStartTime;
  const t = Date.parse(originalStartTime);
  return Number.isNaN(t) ? originalStartTime : String(t);
}
