// Hostile recurrence rules, as a stranger's invitation can put them into a linked owner's calendar:
// FREQ=SECONDLY from 1970, BY* lists whose product is millions a year, DAILY from the year 1000 with
// no end, COUNT=10^9, a rule that can never match, 100,000 RDATEs. They are written in Google
// Calendar (the emulator's control API), reach the service (a child process, so its event loop
// is its own) through a real push and sync, and then availability.busy and events.list are asked
// for a year. Shown: the sync finishes, both answer within a few seconds with what
// docs/availability.md ("Hostile rules") says, ordinary series that merely start centuries ago are
// still expanded exactly (interval alignment, EXDATE, RDATE, DST), and GET /healthz keeps
// answering 200 within 1 s all along — while the sync expands the series and while the queries do.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { startServiceProcess, type ServiceProcess } from '../support/process.ts';
import { LOG_DIR, TEST_SERVICE_TOKEN, waitFor } from '../support/service.ts';
import { figures, linkOwners, waitChannels, type LinkedOwner } from './harness.ts';

setDefaultTimeout(90_000);

const DAY = 86_400_000;
const MIN = 60_000;
/** The structural bounds: /healthz while anything runs, and each year-long query. */
const HEALTHZ_MS = 1000;
const QUERY_MS = 5000;
/** What no warning may contain: the events' titles. */
const TITLE = 'Private title 7f3a: do not log';

// The year asked for: from tomorrow (UTC) for 365 days. The service materialises series 400 days
// ahead (AVAILABILITY_HORIZON_DAYS), so busy over the whole year sees them.
const FROM = Math.floor(Date.now() / DAY) * DAY + DAY;
const TO = FROM + 365 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
/** An RFC 5545 UTC date-time (YYYYMMDDTHHMMSSZ). */
const compact = (ms: number) => iso(ms).replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const compactLocal = (ms: number) => compact(ms).slice(0, -1);

const fig = figures('hostile-recurrence');
let emu: Emulator;
let ctl: EmulatorControl;
let database: TestDatabase & { url: string };
let sql: postgres.Sql;
let svc: ServiceProcess;
const owners: Record<string, LinkedOwner> = {};
const warnedIds = new Set<string>();
const NAME = 'reliability-hostile-recurrence';
/** Where this run's lines start in the service's log (earlier runs append to the same file). */
let logStart = 0;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 3, onnotice: () => {} });
  const logFile = join(LOG_DIR, `${NAME}.log`);
  logStart = existsSync(logFile) ? statSync(logFile).size : 0;
  svc = await startServiceProcess({
    name: NAME,
    databaseUrl: database.url,
    googleUrl: emu.url,
    env: { AVAILABILITY_HORIZON_DAYS: '400' },
  });
  const names = ['subdaily', 'products', 'ancient', 'counts', 'dates'];
  const linked = await linkOwners(svc.trpc, ctl, sql, names.map((n) => `${n}@example.com`));
  for (const [i, n] of names.entries()) owners[n] = linked[i]!;
  await waitChannels(sql, linked.map((o) => o.calendarRowId));
}, 90_000);

afterAll(async () => {
  fig.write();
  await ctl?.faults({ dropNotifications: 0 }).catch(() => {});
  // A service stuck in an expansion cannot stop gracefully: SIGKILL after 3 s.
  await svc?.stop(3000);
  await sql?.end({ timeout: 2 });
  await emu?.stop();
  await database?.drop();
}, 30_000);

// --- the probe: GET /healthz in a loop, each answer within HEALTHZ_MS, while `work` runs

async function probing<T>(what: string, work: () => Promise<T>): Promise<{ value: T; probes: number; worstMs: number }> {
  let stop = false;
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const latencies: number[] = [];
  const loop = (async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${svc.url}/healthz`, { signal: AbortSignal.timeout(HEALTHZ_MS) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        latencies.push(performance.now() - t0);
      } catch (err) {
        fail(new Error(`GET /healthz did not answer 200 within ${HEALTHZ_MS} ms while ${what} (${(err as Error).message})`));
        return;
      }
      await Bun.sleep(50);
    }
  })();
  try {
    const value = await Promise.race([work(), failed]);
    return { value, probes: latencies.length, worstMs: Math.round(Math.max(0, ...latencies)) };
  } finally {
    stop = true;
    await loop;
  }
}

/** A tRPC query with a deadline: the answer, or a failure naming how long it took. */
async function query<T>(path: string, input: unknown): Promise<{ data: T; ms: number }> {
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(`${svc.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}` },
      signal: AbortSignal.timeout(QUERY_MS),
    });
  } catch (err) {
    throw new Error(`${path} over a year did not answer within ${QUERY_MS} ms (${(err as Error).message})`);
  }
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${res.status} ${JSON.stringify(body.error)}`);
  return { data: body.result.data, ms: Math.round(performance.now() - t0) };
}

const mirrored = async (owner: LinkedOwner, ids: string[]) =>
  (await sql`select count(*)::int as n from calendar_events where calendar_id = ${owner.calendarRowId} and google_event_id in ${sql(ids)}`)[0]!.n as number;

const TRIGGER = 'trigger0000';
/** The one-off event whose push delivers the batch; it is in every owner's busy answer. */
const trigger = { summary: TITLE, start: { dateTime: iso(FROM + DAY + 14 * 60 * MIN) }, end: { dateTime: iso(FROM + DAY + 15 * 60 * MIN) } };
const triggerInterval = { start: iso(FROM + DAY + 14 * 60 * MIN), end: iso(FROM + DAY + 15 * 60 * MIN) };

/**
 * Writes the events in Google Calendar with push notifications held back (the emulator's own
 * parsing of them is not what is measured), then one ordinary event whose push makes the service
 * sync the whole batch, probing /healthz from that push until the batch is in the mirror: the
 * availability expansion runs in that sync's transaction, so it ran while the probe did.
 */
async function deliver(label: string, owner: LinkedOwner, events: Record<string, Record<string, unknown>>): Promise<void> {
  await ctl.faults({ dropNotifications: 1 });
  try {
    for (const [id, body] of Object.entries(events)) await ctl.putEvent(owner.calendarId, id, { summary: TITLE, ...body });
  } finally {
    await ctl.faults({ dropNotifications: 0 });
  }
  const ids = [...Object.keys(events), TRIGGER];
  expect(await mirrored(owner, ids)).toBe(0);
  const t0 = performance.now();
  const { probes, worstMs } = await probing(`the sync expanded the ${label} series`, async () => {
    await ctl.putEvent(owner.calendarId, TRIGGER, trigger);
    await waitFor(async () => (await mirrored(owner, ids)) === ids.length, { what: `the ${label} batch in the mirror`, timeoutMs: 30_000, intervalMs: 100 });
  });
  fig.set(`${label}.sync`, { ms: Math.round(performance.now() - t0), healthzProbes: probes, healthzWorstMs: worstMs });
  expect(probes).toBeGreaterThan(0);
}

interface Interval {
  start: string;
  end: string;
}
interface Listed {
  googleEventId: string;
  recurringEventId?: string;
  start: string;
  end: string;
}

/** availability.busy and events.list over the year, each probed; both within QUERY_MS. */
async function askTheYear(label: string, owner: LinkedOwner): Promise<{ busy: Interval[]; items: Listed[] }> {
  const input = { externalOwnerId: owner.externalOwnerId, from: iso(FROM), to: iso(TO) };
  const busy = await probing(`availability.busy ran over the ${label} owner's year`, () => query<{ intervals: Interval[] }>('availability.busy', input));
  const list = await probing(`events.list expanded the ${label} series over a year`, () => query<{ items: Listed[] }>('events.list', input));
  fig.set(`${label}.queries`, {
    busyMs: busy.value.ms,
    busyHealthzWorstMs: busy.worstMs,
    listMs: list.value.ms,
    listHealthzWorstMs: list.worstMs,
    listItems: list.value.data.items.length,
  });
  expect(busy.value.ms).toBeLessThan(QUERY_MS);
  expect(list.value.ms).toBeLessThan(QUERY_MS);
  return { busy: busy.value.data.intervals, items: list.value.data.items };
}

const series = (startMs: number, minutes: number, recurrence: string[], timeZone = 'UTC') => ({
  start: { dateTime: iso(startMs), timeZone },
  end: { dateTime: iso(startMs + minutes * MIN), timeZone },
  recurrence,
});
const listedOf = (items: Listed[], master: string) => items.filter((i) => i.recurringEventId === master).map((i) => i.start);
const list = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('rules finer than daily are not expanded: the series counts once, at its DTSTART', () => {
  const near = FROM + 3 * DAY + 10 * 60 * MIN;
  const epoch = Date.UTC(1970, 0, 1);
  test('FREQ=SECONDLY from 1970, MINUTELY with COUNT=10^9, an EXRULE of SECONDLY, HOURLY starting in the year asked', async () => {
    const o = owners.subdaily!;
    await deliver('subdaily', o, {
      sub0secs1970: series(epoch, 30, ['RRULE:FREQ=SECONDLY']),
      sub1mins1970: series(epoch + 60 * MIN, 30, ['RRULE:FREQ=MINUTELY;COUNT=1000000000']),
      sub2neg1970: series(epoch + 120 * MIN, 30, ['RRULE:FREQ=DAILY', 'EXRULE:FREQ=SECONDLY;INTERVAL=7']),
      sub3hours: series(near, 30, ['RRULE:FREQ=HOURLY']),
    });
    const { busy, items } = await askTheYear('subdaily', o);
    expect(busy).toEqual([triggerInterval, { start: iso(near), end: iso(near + 30 * MIN) }]);
    expect(items.filter((i) => i.recurringEventId).map((i) => [i.recurringEventId, i.start])).toEqual([['sub3hours', iso(near)]]);
    for (const id of ['sub0secs1970', 'sub1mins1970', 'sub2neg1970', 'sub3hours']) warnedIds.add(id);
  });
});

describe('BY* lists whose product is too large are not expanded', () => {
  const near = FROM + 5 * DAY + 10 * 60 * MIN;
  const hours = list(0, 24).join(',');
  const minutes = list(0, 60).join(',');
  test('86,400 a day from 1970 (BYHOUR x BYMINUTE x BYSECOND), a yearly rule with every BY* part, 10,080 a week from this year', async () => {
    const o = owners.products!;
    await deliver('products', o, {
      prod0secs1970: series(Date.UTC(1970, 0, 1), 30, [`RRULE:FREQ=DAILY;BYHOUR=${hours};BYMINUTE=${minutes};BYSECOND=${minutes}`]),
      prod1setpos: series(Date.UTC(2000, 0, 1, 8), 30, [
        `RRULE:FREQ=YEARLY;BYMONTH=${list(1, 12).join(',')};BYMONTHDAY=${list(1, 31).join(',')};BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=${hours};BYSETPOS=${list(1, 366).join(',')}`,
      ]),
      prod2near: series(near, 30, [`RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=${hours};BYMINUTE=${minutes}`]),
    });
    const { busy, items } = await askTheYear('products', o);
    expect(busy).toEqual([triggerInterval, { start: iso(near), end: iso(near + 30 * MIN) }]);
    expect(items.filter((i) => i.recurringEventId).map((i) => [i.recurringEventId, i.start])).toEqual([['prod2near', iso(near)]]);
    for (const id of ['prod0secs1970', 'prod1setpos', 'prod2near']) warnedIds.add(id);
  });
});

describe('series that start centuries ago, without an end, are expanded exactly from near the window', () => {
  // Europe/Paris wall clock: 09:00 is 08:00 UTC in winter, 07:00 UTC in summer.
  const parisHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' });
  const parisAt = (day: number, hour: number) => [1, 2].map((off) => day + (hour - off) * 60 * MIN).find((t) => Number(parisHour.format(t)) === hour)!;
  const mondayOf = (day: number) => day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
  const monthIndex = (day: number) => new Date(day).getUTCFullYear() * 12 + new Date(day).getUTCMonth();
  const exdateDay = FROM + 40 * DAY;
  const d1800 = Date.UTC(1800, 0, 1);
  // An RDATE on a day the every-other-day series skips.
  const rdateDay = FROM + (Math.round((FROM - d1800) / DAY) % 2 === 0 ? 1 : 0) * DAY + 30 * DAY;
  const d1601 = Date.UTC(1601, 0, 2); // a Tuesday (proleptic Gregorian calendar, as rrule and Google count)

  /** What each series must give in [FROM, TO), computed by hand (not by rrule). */
  function expected(): Record<string, number[]> {
    const out: Record<string, number[]> = { old0: [], old1paris: [], old2alt: [], old3tue: [], old4month: [], old5annual: [] };
    for (let d = FROM; d < TO; d += DAY) {
      const date = new Date(d);
      out.old0!.push(d + 6 * 60 * MIN);
      if (d !== exdateDay) out.old1paris!.push(parisAt(d, 9));
      if (Math.round((d - d1800) / DAY) % 2 === 0 || d === rdateDay) out.old2alt!.push(d + 12 * 60 * MIN);
      const weeks = Math.round((mondayOf(d) - mondayOf(d1601)) / (7 * DAY));
      if ([2, 4].includes(date.getUTCDay()) && weeks % 3 === 0) out.old3tue!.push(d + 15 * 60 * MIN);
      if (date.getUTCDate() === 31 && (monthIndex(d) - 1700 * 12) % 5 === 0) out.old4month!.push(d + 18 * 60 * MIN);
      if (date.getUTCMonth() === 5 && date.getUTCDate() === 15 && (date.getUTCFullYear() - 1601) % 3 === 0) out.old5annual!.push(d + 21 * 60 * MIN);
    }
    return out;
  }

  test('DAILY from 1000, DAILY 09:00 Paris from 1900 with an EXDATE, every other day from 1800 with an RDATE, every third week, every fifth month on the 31st, every third year', async () => {
    const o = owners.ancient!;
    await deliver('ancient', o, {
      old0: series(Date.UTC(1000, 0, 1, 6), 30, ['RRULE:FREQ=DAILY']),
      old1paris: {
        start: { dateTime: '1900-01-01T09:00:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '1900-01-01T09:30:00', timeZone: 'Europe/Paris' },
        recurrence: ['RRULE:FREQ=DAILY', `EXDATE;TZID=Europe/Paris:${compact(exdateDay).slice(0, 8)}T090000`],
      },
      old2alt: series(d1800 + 12 * 60 * MIN, 30, ['RRULE:FREQ=DAILY;INTERVAL=2', `RDATE:${compact(rdateDay + 12 * 60 * MIN)}`]),
      old3tue: series(d1601 + 15 * 60 * MIN, 30, ['RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,TH']),
      old4month: series(Date.UTC(1700, 0, 31, 18), 30, ['RRULE:FREQ=MONTHLY;INTERVAL=5']),
      old5annual: series(Date.UTC(1601, 5, 15, 21), 30, ['RRULE:FREQ=YEARLY;INTERVAL=3']),
    });
    const { busy, items } = await askTheYear('ancient', o);
    const want = expected();
    // The hand computation itself covers each kind of series.
    expect(want.old0!.length).toBe(365);
    expect(want.old1paris!.length).toBe(364);
    expect(want.old3tue!.length).toBeGreaterThan(30);
    expect(want.old4month!.length).toBeGreaterThan(0);
    expect(want.old5annual!.length).toBe(1);
    for (const [id, starts] of Object.entries(want)) expect({ id, starts: listedOf(items, id) }).toEqual({ id, starts: starts.map(iso) });
    const intervals = [...Object.values(want).flat().map((s) => ({ start: iso(s), end: iso(s + 30 * MIN) })), triggerInterval].sort((a, b) => a.start.localeCompare(b.start));
    expect(busy).toEqual(intervals);
  });
});

describe('COUNT=10^9 and rules that never match cost a bounded expansion', () => {
  test('DAILY;COUNT=10^9 from 1000, DAILY on February 30th from 2000, MONTHLY on April 31st with a COUNT', async () => {
    const o = owners.counts!;
    await deliver('counts', o, {
      cnt0count: series(Date.UTC(1000, 0, 1, 7), 30, ['RRULE:FREQ=DAILY;COUNT=1000000000']),
      cnt1never: series(Date.UTC(2000, 0, 1, 9), 30, ['RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30']),
      cnt2april: series(Date.UTC(2000, 0, 1, 11), 30, ['RRULE:FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31;COUNT=10']),
    });
    const { busy, items } = await askTheYear('counts', o);
    // COUNT above the limit: not expanded (counts once, in the year 1000); the others have nothing to give.
    expect(busy).toEqual([triggerInterval]);
    expect(items.filter((i) => i.recurringEventId)).toEqual([]);
    for (const id of ['cnt0count', 'cnt1never', 'cnt2april']) warnedIds.add(id);
  });
});

describe('RDATE and EXDATE lists beyond the limit are not read', () => {
  const rdateStart = FROM + 10 * DAY + 10 * 60 * MIN;
  const exdateStart = FROM + 20 * DAY + 11 * 60 * MIN;
  test('100,000 RDATEs (with a TZID) and 100,000 EXDATEs: each series counts once, at its DTSTART', async () => {
    const o = owners.dates!;
    // Every 5 hours from 1990 on, in New York wall time / in UTC.
    const values = (fmt: (ms: number) => string) => list(0, 100_000).map((i) => fmt(Date.UTC(1990, 0, 1) + i * 5 * 60 * MIN)).join(',');
    await deliver('dates', o, {
      dates0rdate: series(rdateStart, 30, [`RDATE;TZID=America/New_York:${values(compactLocal)}`]),
      dates1skip: series(exdateStart, 30, ['RRULE:FREQ=DAILY', `EXDATE:${values(compact)}`]),
    });
    const { busy, items } = await askTheYear('dates', o);
    expect(busy).toEqual([triggerInterval, { start: iso(rdateStart), end: iso(rdateStart + 30 * MIN) }, { start: iso(exdateStart), end: iso(exdateStart + 30 * MIN) }]);
    expect(items.filter((i) => i.recurringEventId).map((i) => [i.recurringEventId, i.start])).toEqual([
      ['dates0rdate', iso(rdateStart)],
      ['dates1skip', iso(exdateStart)],
    ]);
    for (const id of ['dates0rdate', 'dates1skip']) warnedIds.add(id);
  });
});

describe('the warnings', () => {
  test('every series beyond a limit is a warning naming its event id, never its title: at each sync, and once per process from events.list', async () => {
    expect(warnedIds.size).toBe(12);
    // A second year-long events.list of the same series adds no warning.
    await query('events.list', { externalOwnerId: owners.subdaily!.externalOwnerId, from: iso(FROM), to: iso(TO) });
    const lines = readFileSync(svc.logFile)
      .subarray(logStart)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; eventId?: string; msg: string });
    const warnings = lines.filter((l) => l.level === 40 && l.eventId && warnedIds.has(l.eventId));
    for (const id of warnedIds) {
      const mine = warnings.filter((w) => w.eventId === id);
      const fromList = mine.filter((w) => /events\.list/.test(w.msg)).length;
      expect({ id, fromSync: mine.length - fromList > 0, fromList }).toEqual({ id, fromSync: true, fromList: 1 });
    }
    for (const w of warnings) expect(JSON.stringify(w)).not.toContain(TITLE);
    fig.set('warnings', [...new Set(warnings.map((w) => w.msg))]);
  });
});
