// The bounds on recurrence expansion (docs/availability.md, "Hostile rules"), pure: availability's
// expandRecurrence and the sync's expandSeries (events.list).
// - Equivalence: rules without COUNT are started near the window instead of at DTSTART; for 350
//   seeded random rules (every FREQ from daily up, INTERVAL, WKST, BY* parts, UNTIL) both
//   give exactly what plain rrule gives walking from DTSTART.
// - Limits: each refusal is a RecurrenceLimitError (availability: the master then counts once) or a
//   single occurrence at DTSTART with one report (events.list), and comes back quickly.
import { describe, expect, test } from 'bun:test';
import { RRule } from 'rrule';
import { blockedTimesFor, DEFAULT_PREFERENCES } from '../../src/availability/blocked-times.ts';
import { expandRecurrence, RECURRENCE_LIMITS, RecurrenceError, RecurrenceLimitError } from '../../src/availability/recurrence.ts';
import type { SourceEvent } from '../../src/availability/source-event.ts';
import { expandSeries, SERIES_LIMITS, type SeriesMaster } from '../../src/sync/expand-series.ts';

const DAY = 86_400_000;

/** mulberry32, fixed seed: the same rules every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const some = <T>(xs: readonly T[], max: number) => [...new Set(Array.from({ length: 1 + int(max) }, () => xs[int(xs.length)]!))];
  return { next, int, some };
}

const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

/**
 * A random rule daily or coarser, without COUNT (the ones that are started near the window), and one
 * rrule can match (it ANDs plain and ordinal BYDAY values, for instance: such rules walk to the year
 * 9999 and are the budget's business, tested below).
 */
function randomRule(r: ReturnType<typeof rng>): string {
  const freq = (['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const)[r.int(4)]!;
  const parts = [`FREQ=${freq}`];
  // (Not 7 days: DAILY;INTERVAL=7;BYDAY=<not DTSTART's weekday> never matches.)
  if (r.next() < 0.6) parts.push(`INTERVAL=${[1, 2, 3, 4, 5, 6, 8, 9][r.int(freq === 'YEARLY' ? 4 : 8)]}`);
  if (r.next() < 0.3) parts.push(`WKST=${DAYS[r.int(7)]}`);
  const pick = r.next();
  if (freq === 'DAILY') {
    if (pick < 0.3) parts.push(`BYDAY=${r.some(DAYS, 5).join(',')}`);
    if (r.next() < 0.15) parts.push(`BYMONTH=${r.some([1, 2, 7, 11], 2).join(',')}`);
  } else if (freq === 'WEEKLY') {
    if (pick < 0.6) {
      const days = r.some(DAYS, 4);
      parts.push(`BYDAY=${days.join(',')}`);
      if (days.length > 1 && r.next() < 0.3) parts.push(`BYSETPOS=${r.some([1, -1], 2).join(',')}`);
    }
  } else if (freq === 'MONTHLY') {
    if (pick < 0.35) parts.push(`BYMONTHDAY=${r.some([1, 2, 15, 28, 29, 30, 31, -1, -2], 3).join(',')}`);
    else if (pick < 0.6) parts.push(`BYDAY=${r.some(['1MO', '2TU', '-1FR', '3WE', '4TH'], 2).join(',')}`);
    else if (pick < 0.8) parts.push(`BYDAY=${r.some(['MO', 'FR', 'SU'], 2).join(',')};BYSETPOS=${r.some([1, -1, 2], 2).join(',')}`);
  } else {
    if (pick < 0.25) parts.push(`BYMONTH=${r.some([1, 2, 3, 6, 10, 12], 3).join(',')}`);
    else if (pick < 0.45) parts.push(`BYMONTH=${r.some([1, 3, 6, 12], 2).join(',')};BYMONTHDAY=${r.some([1, 15, 31, -1], 2).join(',')}`);
    else if (pick < 0.65) parts.push(`BYMONTH=${r.some([2, 5, 9, 11], 2).join(',')};BYDAY=${r.some(['1MO', '-1FR', '2SU'], 2).join(',')}`);
    else if (pick < 0.75) parts.push(`BYWEEKNO=${r.some([1, 10, 20, 52], 2).join(',')};BYDAY=${r.some(DAYS, 2).join(',')}`);
    else if (pick < 0.85) parts.push(`BYYEARDAY=${r.some([1, 100, 200, 365, -1], 3).join(',')}`);
  }
  if (r.next() < 0.2) parts.push(`BYHOUR=${r.some([0, 7, 9, 13, 23], 3).join(',')}`);
  if (r.next() < 0.1) parts.push(`BYMINUTE=${r.some([0, 15, 30, 59], 2).join(',')}`);
  if (r.next() < 0.2) parts.push(`UNTIL=${2024 + r.int(4)}0${1 + r.int(9)}15T000000`);
  return parts.join(';');
}

/** Plain rrule from DTSTART (floating wall times), as the code did before the limits, plus DTSTART. */
function plain(rule: string, dtstart: number, lo: number, hi: number): number[] {
  const rr = new RRule({ ...RRule.parseString(rule), dtstart: new Date(dtstart), tzid: null }, true);
  const out = new Set(rr.between(new Date(Math.max(lo, dtstart)), new Date(hi), true).map((d) => d.getTime()));
  if (dtstart >= lo && dtstart <= hi) out.add(dtstart);
  return [...out].sort((a, b) => a - b);
}

describe('started near the window, a rule gives what rrule gives from DTSTART', () => {
  test('250 random rules, DTSTART between 1950 and 2025, windows of 1 to 400 days between 2024 and 2028', () => {
    const r = rng(20261203);
    let nonEmpty = 0;
    for (let i = 0; i < 250; i++) {
      const rule = randomRule(r);
      const dtstart = Date.UTC(1950 + r.int(76), r.int(12), 1 + r.int(28), r.int(24), r.int(4) * 15, r.int(2) * 30);
      const lo = Date.UTC(2024, 0, 1) + r.int(4 * 365) * DAY + r.int(24) * 3_600_000;
      const hi = lo + (1 + r.int(400)) * DAY;
      const want = plain(rule, dtstart, lo, hi);
      const got = expandRecurrence([`RRULE:${rule}`], { allDay: false, timeZone: 'UTC', dtstartWall: dtstart }, lo, hi);
      if (want.length > 0) nonEmpty++;
      expect({ rule, dtstart: new Date(dtstart).toISOString(), got: got.length, first: got[0], last: got.at(-1) }).toEqual({
        rule,
        dtstart: new Date(dtstart).toISOString(),
        got: want.length,
        first: want[0],
        last: want.at(-1),
      });
      expect(got).toEqual(want);
    }
    expect(nonEmpty).toBeGreaterThan(180);
  }, 60_000);

  test('events.list (sync) gives the same occurrences as rrule from DTSTART for the same rules', () => {
    const r = rng(7);
    for (let i = 0; i < 100; i++) {
      const rule = randomRule(r);
      const dtstart = Date.UTC(1950 + r.int(76), r.int(12), 1 + r.int(28), r.int(24), r.int(4) * 15);
      const from = Date.UTC(2024, 0, 1) + r.int(4 * 365) * DAY;
      const to = from + (1 + r.int(400)) * DAY;
      const master: SeriesMaster = {
        googleEventId: `equiv${i}`,
        recurrence: [`RRULE:${rule}`],
        allDay: false,
        startAt: new Date(dtstart),
        endAt: new Date(dtstart + 45 * 60_000),
        startDate: null,
        endDate: null,
        timeZone: 'UTC',
      };
      const rr = new RRule({ ...RRule.parseString(rule), dtstart: new Date(dtstart) }, true);
      const want = rr
        .between(new Date(from - 45 * 60_000 - 2 * DAY), new Date(to + 2 * DAY), true)
        .filter((d) => d.getTime() < to && d.getTime() + 45 * 60_000 > from)
        .sort((a, b) => a.getTime() - b.getTime());
      const got = expandSeries(master, new Date(from), new Date(to));
      expect({ rule, starts: got.map((o) => o.start.toISOString()) }).toEqual({ rule, starts: want.map((d) => d.toISOString()) });
    }
  }, 60_000);

  test('a daily 09:00 Paris series from 1950 stays at 09:00 Paris across both DST changes of 2027; EXDATE and RDATE still apply', () => {
    const master: SeriesMaster = {
      googleEventId: 'paris1950',
      recurrence: ['RRULE:FREQ=DAILY', 'EXDATE;TZID=Europe/Paris:20270329T090000', 'RDATE:20270330T120000Z'],
      allDay: false,
      startAt: new Date('1950-01-01T08:00:00Z'), // 09:00 CET
      endAt: new Date('1950-01-01T08:30:00Z'),
      startDate: null,
      endDate: null,
      timeZone: 'Europe/Paris',
    };
    const got = expandSeries(master, new Date('2027-03-27T00:00:00Z'), new Date('2027-03-31T00:00:00Z')).map((o) => o.start.toISOString());
    expect(got).toEqual(['2027-03-27T08:00:00.000Z', '2027-03-28T07:00:00.000Z', '2027-03-30T07:00:00.000Z', '2027-03-30T12:00:00.000Z']);
    const walls = expandRecurrence(
      ['RRULE:FREQ=DAILY', 'EXDATE;TZID=Europe/Paris:20271031T090000'],
      { allDay: false, timeZone: 'Europe/Paris', dtstartWall: Date.UTC(1950, 0, 1, 9) },
      Date.UTC(2027, 9, 30),
      Date.UTC(2027, 10, 2),
    );
    expect(walls.map((w) => new Date(w).toISOString())).toEqual(['2027-10-30T09:00:00.000Z', '2027-11-01T09:00:00.000Z']);
  });

  test('COUNT rules are still walked from DTSTART: DAILY;COUNT=1000 from 2000-01-01 ends on its 1,000th day', () => {
    const clock = { allDay: false, timeZone: 'UTC', dtstartWall: Date.UTC(2000, 0, 1, 9) };
    const last = Date.UTC(2000, 0, 1, 9) + (RECURRENCE_LIMITS.count - 1) * DAY;
    expect(new Date(last).toISOString()).toBe('2002-09-26T09:00:00.000Z');
    const walls = expandRecurrence([`RRULE:FREQ=DAILY;COUNT=${RECURRENCE_LIMITS.count}`], clock, Date.UTC(2002, 8, 1), Date.UTC(2002, 9, 1));
    expect(walls).toHaveLength(26);
    expect(walls.at(-1)).toBe(last);
  });
});

// --- the limits

const FROM = Date.UTC(2027, 0, 1);
const UNTIL = FROM + 211 * DAY;
const hours = Array.from({ length: 24 }, (_, i) => i).join(',');
const minutes = Array.from({ length: 60 }, (_, i) => i).join(',');

const REFUSED: Array<[string, string[], RegExp]> = [
  ['FREQ=SECONDLY from 1970', ['RRULE:FREQ=SECONDLY'], /finer than daily/],
  ['FREQ=MINUTELY with COUNT=10^9', ['RRULE:FREQ=MINUTELY;COUNT=1000000000'], /finer than daily/],
  ['FREQ=HOURLY', ['RRULE:FREQ=HOURLY;INTERVAL=12'], /finer than daily/],
  ['an EXRULE of SECONDLY', ['RRULE:FREQ=DAILY', 'EXRULE:FREQ=SECONDLY'], /finer than daily/],
  ['BYHOUR x BYMINUTE x BYSECOND = 86,400', [`RRULE:FREQ=DAILY;BYHOUR=${hours};BYMINUTE=${minutes};BYSECOND=${minutes}`], /combinations/],
  ['BYDAY x BYHOUR x BYMINUTE = 10,080', [`RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=${hours};BYMINUTE=${minutes}`], /combinations/],
  ['COUNT=10^9 from 1000', ['RRULE:FREQ=DAILY;COUNT=1000000000'], /COUNT/],
  ['11 rules', Array.from({ length: 11 }, (_, i) => `RRULE:FREQ=WEEKLY;BYDAY=${DAYS[i % 7]}`), /RRULE\/EXRULE lines/],
  ['10,001 RDATEs', [`RDATE:${Array.from({ length: 10_001 }, (_, i) => new Date(Date.UTC(1990, 0, 1) + i * 3_600_000).toISOString().replace(/[-:]|\.\d{3}/g, '')).join(',')}`], /RDATE\/EXDATE values/],
  ['a rule that never matches (February 30th), no end', ['RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30'], /budget/],
  ['a rule that never matches, with a COUNT (walked from DTSTART)', ['RRULE:FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31;COUNT=10'], /budget/],
  ['120 occurrences a day (25,320 in the window)', [`RRULE:FREQ=DAILY;BYHOUR=${hours};BYMINUTE=0,10,20,30,40`], /occurrences/],
];

describe('availability: a series beyond a limit is refused, quickly', () => {
  for (const [what, lines, reason] of REFUSED) {
    test(what, () => {
      const dtstart = /COUNT=1000000000/.test(lines[0]!) && !/MINUTELY/.test(lines[0]!) ? Date.UTC(1000, 0, 1, 7) : Date.UTC(1970, 0, 1);
      const t0 = performance.now();
      let err: unknown;
      try {
        expandRecurrence(lines, { allDay: false, timeZone: 'UTC', dtstartWall: dtstart }, FROM, UNTIL);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RecurrenceLimitError);
      expect(err).toBeInstanceOf(RecurrenceError);
      expect((err as Error).message).toMatch(reason);
      expect((err as Error).message.length).toBeLessThan(120);
      // Generous for a loaded machine: unbounded, most of these take minutes to hours.
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  }

  test('the exact limits still expand: BY* product 1,000, COUNT 1,000, 10 rules, 10,000 dates, 10,000 occurrences', () => {
    const clock = { allDay: false, timeZone: 'UTC', dtstartWall: Date.UTC(2026, 11, 1, 0) };
    // 10 x 10 x 10 combinations a day, over 10 days: exactly 10,000 occurrences.
    const ten = (n: number) => Array.from({ length: 10 }, (_, i) => i * n).join(',');
    const rule = `RRULE:FREQ=DAILY;BYHOUR=${ten(2)};BYMINUTE=${ten(5)};BYSECOND=${ten(5)};COUNT=1000`;
    expect(expandRecurrence([rule], clock, clock.dtstartWall, clock.dtstartWall + 10 * DAY)).toHaveLength(1000);
    // A weekly COUNT=1000 from 2008 is walked from DTSTART (1,000 periods): within the budget.
    const weekly = expandRecurrence(['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=1000'], { ...clock, dtstartWall: Date.UTC(2008, 0, 7, 9) }, FROM, UNTIL);
    expect(weekly.at(-1)).toBe(Date.UTC(2008, 0, 7, 9) + 999 * 7 * DAY); // its 1,000th Monday
    expect(new Date(weekly.at(-1)!).toISOString().slice(0, 10)).toBe('2027-03-01');
    const full = `RRULE:FREQ=DAILY;BYHOUR=${ten(2)};BYMINUTE=${ten(5)};BYSECOND=${ten(5)}`;
    expect(expandRecurrence([full], clock, clock.dtstartWall, clock.dtstartWall + 10 * DAY - 1)).toHaveLength(10_000);
    const rules = Array.from({ length: 10 }, (_, i) => `RRULE:FREQ=DAILY;BYHOUR=${i}`);
    expect(expandRecurrence(rules, clock, FROM, FROM + DAY - 1)).toHaveLength(10);
    const dates = Array.from({ length: 10_000 }, (_, i) => new Date(Date.UTC(1990, 0, 1) + i * DAY).toISOString().replace(/[-:]|\.\d{3}/g, ''));
    const old = { allDay: false, timeZone: 'UTC', dtstartWall: Date.UTC(1990, 0, 1, 12) };
    expect(expandRecurrence([`RDATE:${dates.join(',')}`], old, Date.UTC(2000, 0, 1), Date.UTC(2000, 0, 10, 23))).toHaveLength(10);
  });

  test('blocked times: a refused series counts once (its own interval), reported through onRecurrenceError with the event id', () => {
    const master: SourceEvent = {
      eventId: 'hostile1',
      seriesId: 'hostile1',
      status: 'confirmed',
      transparency: 'opaque',
      eventType: 'default',
      selfResponse: null,
      start: { dateTime: '2027-01-05T10:00:00Z', timeZone: 'UTC' },
      end: { dateTime: '2027-01-05T10:30:00Z', timeZone: 'UTC' },
      originalStart: null,
      endTimeUnspecified: false,
      recurrence: ['RRULE:FREQ=SECONDLY'],
    } as SourceEvent;
    const errors: Array<[string, string]> = [];
    const times = blockedTimesFor(master, 'UTC', DEFAULT_PREFERENCES, { from: FROM, until: UNTIL }, { onRecurrenceError: (id, e) => errors.push([id, e.name]) });
    expect(times.map((t) => [new Date(t.start).toISOString(), new Date(t.end).toISOString(), t.originalStart])).toEqual([
      ['2027-01-05T10:00:00.000Z', '2027-01-05T10:30:00.000Z', null],
    ]);
    expect(errors).toEqual([['hostile1', 'RecurrenceLimitError']]);
  });
});

describe('events.list: a series beyond a limit counts once, at its DTSTART, reported once per series', () => {
  const master = (id: string, recurrence: string[], start = '1970-01-01T00:00:00Z'): SeriesMaster => ({
    googleEventId: id,
    recurrence,
    allDay: false,
    startAt: new Date(start),
    endAt: new Date(new Date(start).getTime() + 30 * 60_000),
    startDate: null,
    endDate: null,
    timeZone: 'UTC',
  });
  for (const [what, lines, reason] of REFUSED) {
    test(what, () => {
      const reports: string[] = [];
      const t0 = performance.now();
      const got = expandSeries(master(`list ${what}`, lines), new Date(FROM), new Date(FROM + 365 * DAY), { onLimit: (r) => reports.push(r) });
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(got).toEqual([]);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatch(reason);
    });
  }

  test('the DTSTART occurrence is listed when it is in the range; a second expansion reports nothing new', () => {
    const reports: string[] = [];
    const m = master('hourly2027', ['RRULE:FREQ=HOURLY'], '2027-01-05T10:00:00Z');
    for (let i = 0; i < 2; i++) {
      const got = expandSeries(m, new Date(FROM), new Date(FROM + 365 * DAY), { onLimit: (r) => reports.push(r), limitKey: 'cal hourly2027' });
      expect(got.map((o) => [o.instanceId, o.start.toISOString(), o.end.toISOString()])).toEqual([
        ['hourly2027_20270105T100000Z', '2027-01-05T10:00:00.000Z', '2027-01-05T10:30:00.000Z'],
      ]);
    }
    expect(reports).toEqual(['FREQ=HOURLY is finer than daily: not expanded']);
  });

  test('the limits are the same as availability’s (but occurrences: 5,000 per range)', () => {
    expect({ ...SERIES_LIMITS, occurrences: 0 }).toEqual({ ...RECURRENCE_LIMITS, occurrences: 0 });
  });
});
