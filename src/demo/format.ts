// Wall-clock arithmetic and short, readable lines for the demo's output, in one time zone.

/** Milliseconds the zone is ahead of UTC at `at`. */
function offsetMs(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

export interface Day {
  y: number;
  m: number;
  d: number;
}

/** The calendar day `plusDays` after today in the zone. */
export function dayIn(timeZone: string, now: Date, plusDays: number): Day {
  const local = new Date(now.getTime() + offsetMs(now, timeZone));
  const t = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + plusDays));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** The instant of a wall-clock time in the zone (the offset read twice, so DST days come out right). */
export function at(day: Day, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(day.y, day.m - 1, day.d, hour, minute);
  let t = wall - offsetMs(new Date(wall), timeZone);
  t = wall - offsetMs(new Date(t), timeZone);
  return new Date(t);
}

export class Formatter {
  private readonly dayFmt: Intl.DateTimeFormat;
  private readonly timeFmt: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    this.dayFmt = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' });
    this.timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }

  /** "Tue 24 Nov 09:00" */
  when(iso: string | Date): string {
    const d = new Date(iso);
    return `${this.dayFmt.format(d).replace(',', '')} ${this.timeFmt.format(d)}`;
  }

  /** "Tue 24 Nov 09:00–09:15", or both ends in full when they fall on different days. */
  range(start: string | Date, end: string | Date): string {
    const s = new Date(start);
    const e = new Date(end);
    return this.dayFmt.format(s) === this.dayFmt.format(e) ? `${this.when(s)}–${this.timeFmt.format(e)}` : `${this.when(s)} → ${this.when(e)}`;
  }
}

/** Seconds since `t0`, for "after 1.2 s". */
export const since = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/** A short, readable id: the first 8 characters. */
export const short = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);
