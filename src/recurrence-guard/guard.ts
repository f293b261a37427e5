// The bounds on expanding a stranger's recurrence rule with the `rrule` library, used by the one
// reading of recurrence (expand.ts) that availability and events.list share.
//
// The lines come from anyone who can send the owner an invitation, so an expansion is bounded
// (docs/availability.md, "Hostile rules"): rules finer than daily, BY* lists whose product is too
// large, a COUNT above the limit (checkShape), and an expansion that walks too many rule periods,
// examines too many days or runs too long (Meter, metered) are refused with the caller's own error
// (`fail`), after which the caller counts the series once, at its DTSTART. A rule without COUNT is
// started at the rule period just before the window, not at a DTSTART decades ago (startNear).
import { Frequency, RRule, Weekday, type Options } from 'rrule';

const DAY_MS = 86_400_000;

/** What one series may cost in one expansion, but for its occurrences (each caller sets its own); beyond any of these it is not expanded. */
export const RECURRENCE_GUARD_LIMITS = {
  /** Product of the sizes of one rule's BY* lists (BYMONTH x BYWEEKNO x BYYEARDAY x BYMONTHDAY x BYDAY x BYHOUR x BYMINUTE x BYSECOND x BYSETPOS). */
  byProduct: 1_000,
  /** COUNT of a rule (a COUNT rule is walked from its DTSTART: the count needs every earlier occurrence; Outlook stops at 999). */
  count: 1_000,
  /** RRULE and EXRULE lines of one series. */
  rules: 10,
  /** RDATE and EXDATE values of one series. */
  dates: 10_000,
  /** Rule periods (days, weeks, months or years) rrule may walk in one expansion, all rules together (~10 µs each). */
  periods: 2_500,
  /** Days rrule may examine in those periods (a yearly period examines 365; ~0.2 µs each). */
  days: 100_000,
  /** Wall-clock time of one expansion (a backstop: the limits above keep every rule far below it). */
  ms: 1000,
} as const;

/** The limits the guard itself enforces. */
export interface GuardLimits {
  readonly byProduct: number;
  readonly count: number;
  readonly periods: number;
  readonly days: number;
  readonly ms: number;
}

/** How a caller is guarded: its limits and the error it throws beyond one of them. */
export interface Guard {
  limits: GuardLimits;
  /** The caller's error for a series beyond a limit (the message names the limit, never the rule's text). */
  fail: (message: string) => Error;
  /** Appended to the message of a rule finer than daily (e.g. ': not expanded'). */
  finerThanDailyNote?: string;
}

// --- the budget. rrule (2.8) reads `options.interval` twice per rule period (the loop's end test and
// the step to the next period) and `options.byeaster` once per day it examines (its day filter) and
// once per period, whether or not anything matches: getters there meter the walk even of a rule that
// never matches, which rrule would otherwise walk up to the year 9999. A yearly period examines 365
// days and costs ten times a daily one, hence both counts.

/** The budget of one expansion, all its rules together. */
export class Meter {
  /** Reads of `interval`: two a period. */
  private intervalReads = 0;
  /** Reads of `byeaster`: one a day examined, one a period. */
  private days = 0;
  private readonly limits: GuardLimits;
  private readonly fail: (message: string) => Error;
  private readonly deadline: number;

  constructor(guard: Guard) {
    this.limits = guard.limits;
    this.fail = guard.fail;
    this.deadline = performance.now() + guard.limits.ms;
  }

  period(): void {
    if (++this.intervalReads > 2 * this.limits.periods) throw this.fail(`expansion budget exceeded: over ${this.limits.periods} rule periods`);
    if ((this.intervalReads & 63) === 0) this.clock();
  }

  day(): void {
    if (++this.days > this.limits.days) throw this.fail(`expansion budget exceeded: over ${this.limits.days} days examined`);
    if ((this.days & 1023) === 0) this.clock();
  }

  private clock(): void {
    if (performance.now() > this.deadline) throw this.fail(`expansion budget exceeded: over ${this.limits.ms} ms`);
  }
}

/** The rule with its options metered (see Meter): the values read are unchanged. */
export function metered(rule: RRule, meter: Meter): RRule {
  const options = rule.options as { interval: number; byeaster: number | null };
  const { interval, byeaster } = options;
  Object.defineProperty(options, 'interval', { configurable: true, enumerable: true, get: () => (meter.period(), interval) });
  Object.defineProperty(options, 'byeaster', { configurable: true, enumerable: true, get: () => (meter.day(), byeaster) });
  return rule;
}

const BY_PARTS = ['bymonth', 'byweekno', 'byyearday', 'bymonthday', 'byweekday', 'byhour', 'byminute', 'bysecond', 'bysetpos'] as const;

/** Refuses, before any expansion, a rule whose shape alone makes it too costly (no FREQ: rrule's default, YEARLY). */
export function checkShape(opts: Partial<Options>, guard: Guard): void {
  const { limits, fail } = guard;
  const freq = opts.freq ?? Frequency.YEARLY;
  if (freq > Frequency.DAILY) throw fail(`FREQ=${Frequency[freq] ?? freq} is finer than daily${guard.finerThanDailyNote ?? ''}`);
  let product = 1;
  for (const part of BY_PARTS) {
    const v = opts[part] as unknown;
    if (Array.isArray(v) && v.length > 1) product *= v.length;
  }
  if (product > limits.byProduct) throw fail(`BY* lists give ${product} combinations per period (limit ${limits.byProduct})`);
  if (typeof opts.count === 'number' && opts.count > limits.count) throw fail(`COUNT=${opts.count} is above ${limits.count}`);
}

function utcMonthStart(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 1); // not Date.UTC: it reads years 0-99 as 1900-1999
  return d.getTime();
}

/**
 * The start (00:00) of the last period of the rule's own grid (days, weeks from WKST, months, years,
 * every INTERVAL from DTSTART's) that begins at or before `lo`; null when that is DTSTART's own period.
 */
function periodBefore(p: RRule['options'], lo: number): number | null {
  const dt = p.dtstart.getTime();
  const interval = p.interval;
  if (!(interval >= 1) || lo <= dt) return null;
  const d0 = Math.floor(dt / DAY_MS) * DAY_MS;
  const a = new Date(dt);
  const b = new Date(lo);
  switch (p.freq) {
    case Frequency.DAILY: {
      const k = Math.floor((lo - d0) / (interval * DAY_MS));
      return k >= 1 ? d0 + k * interval * DAY_MS : null;
    }
    case Frequency.WEEKLY: {
      const weekday = (a.getUTCDay() + 6) % 7; // rrule's weekdays: MO = 0
      const w0 = d0 - ((weekday - p.wkst + 7) % 7) * DAY_MS;
      const k = Math.floor((lo - w0) / (interval * 7 * DAY_MS));
      return k >= 1 ? w0 + k * interval * 7 * DAY_MS : null;
    }
    case Frequency.MONTHLY: {
      const m0 = a.getUTCFullYear() * 12 + a.getUTCMonth();
      const k = Math.floor((b.getUTCFullYear() * 12 + b.getUTCMonth() - m0) / interval);
      if (k < 1) return null;
      const m = m0 + k * interval;
      return utcMonthStart(Math.floor(m / 12), m % 12);
    }
    case Frequency.YEARLY: {
      const k = Math.floor((b.getUTCFullYear() - a.getUTCFullYear()) / interval);
      return k >= 1 ? utcMonthStart(a.getUTCFullYear() + k * interval, 0) : null;
    }
    default:
      return null;
  }
}

/**
 * The same rule started at the period before `lo`: every BY* value rrule derived from DTSTART
 * (time of day; the weekday of a WEEKLY rule; the day, and month, of a MONTHLY or YEARLY one) is
 * given explicitly, and the new start lies on the rule's own period grid, so from there on it yields
 * exactly the original's occurrences. A COUNT rule is left alone (its count runs from DTSTART).
 * The rule keeps its TZID (availability's rules have none: they run on floating times).
 */
export function startNear(rule: RRule, lo: number): RRule {
  const p = rule.options;
  if (p.count !== null && p.count !== undefined) return rule;
  if (p.dtstart.getTime() % 1000 !== 0) return rule; // rrule keeps DTSTART's milliseconds in every occurrence
  const start = periodBefore(p, lo);
  if (start === null) return rule;
  const monthdays = [...(p.bymonthday ?? []), ...(p.bynmonthday ?? [])];
  const weekdays = [...(p.byweekday ?? []).map((d) => new Weekday(d)), ...(p.bynweekday ?? []).map(([d, n]) => new Weekday(d!, n))];
  const opts: Partial<Options> = {
    freq: p.freq,
    interval: p.interval,
    wkst: p.wkst,
    until: p.until,
    tzid: p.tzid,
    dtstart: new Date(start),
    bysetpos: p.bysetpos,
    bymonth: p.bymonth,
    byweekno: p.byweekno,
    byyearday: p.byyearday,
    byhour: p.byhour,
    byminute: p.byminute,
    bysecond: p.bysecond,
    byeaster: p.byeaster,
    ...(monthdays.length > 0 ? { bymonthday: monthdays } : {}),
    ...(weekdays.length > 0 ? { byweekday: weekdays } : {}),
  };
  return new RRule(opts, true);
}
