// The rolling horizon: an open-ended series is materialised up to today + AVAILABILITY_HORIZON_DAYS
// (30 here); the daily job moves it as the clock moves, without duplicating a row, and drops what
// ended before the horizon's start. A one-off event far ahead is kept whatever the horizon.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { extendHorizonJob } from '../../src/availability/index.ts';
import { waitFor } from '../support/service.ts';
import { at, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

const TZ = '+09:00';
const DAY = 86_400_000;
const EMAIL = 'hana@example.com';
const OWNER = 'owner-hana';
const SERIES = 'dailyhana001';
let h: AvailabilityHarness;
let ownerId: string;

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-horizon', { AVAILABILITY_HORIZON_DAYS: '30' });
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER, 'Asia/Tokyo'));
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

const startOfUtcDay = (ms: number) => Math.floor(ms / DAY) * DAY;
/** The daily 10:00 JST (01:00 UTC) occurrences from day(0) whose start is in [from, until) and that end after `endAfter`. */
function dailyOccurrences(until: number, endAfter = 0, minute = '00'): Array<{ start: string; end: string }> {
  const out = [];
  for (let n = 0; ; n++) {
    const start = Date.parse(`${day(n)}T01:${minute}:00Z`);
    if (start >= until) break;
    if (start + 30 * 60_000 <= endAfter) continue;
    out.push({ start: new Date(start).toISOString(), end: new Date(start + 30 * 60_000).toISOString() });
  }
  return out;
}
const seriesRows = async () => Number((await h.sql`select count(*)::int as n from blocked_times where owner_id = ${ownerId} and series_id = ${SERIES}`)[0]!.n);
const runHorizonJob = async () => {
  await extendHorizonJob.send(h.t.service.ctx, {});
  extendHorizonJob.wake(h.t.service.ctx);
};

describe('rolling horizon', () => {
  test('the daily job is scheduled', async () => {
    const schedules = await h.t.service.ctx.jobs.boss.getSchedules('availability.extendHorizon');
    expect(schedules.map((s) => s.cron)).toEqual(['7 0 * * *']);
  });

  test('an open-ended series stops at today + horizonDays; a one-off event far ahead is there anyway', async () => {
    await h.putEvent(EMAIL, SERIES, {
      summary: 'Daily',
      start: { dateTime: at(0, '10:00', TZ), timeZone: 'Asia/Tokyo' },
      end: { dateTime: at(0, '10:30', TZ), timeZone: 'Asia/Tokyo' },
      recurrence: ['RRULE:FREQ=DAILY'],
    });
    await h.putEvent(EMAIL, 'farahead0001', { summary: 'Far', start: { dateTime: at(200, '10:00', TZ) }, end: { dateTime: at(200, '12:00', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    const until = startOfUtcDay(h.t.clock.now().getTime()) + 30 * DAY;
    const expected = dailyOccurrences(until);
    expect(expected.length).toBeGreaterThan(5);
    await h.busyBecomes(OWNER, `${day(0)}T00:00:00Z`, `${day(100)}T00:00:00Z`, expected, 'the series up to the horizon');
    expect(await seriesRows()).toBe(expected.length);
    expect(await h.busy(OWNER, `${day(199)}T00:00:00Z`, `${day(201)}T00:00:00Z`)).toEqual([{ start: utc(at(200, '10:00', TZ)), end: utc(at(200, '12:00', TZ)) }]);
  });

  test('twenty days later the job adds the next twenty days, once', async () => {
    h.t.clock.advance(20 * DAY);
    const until = startOfUtcDay(h.t.clock.now().getTime()) + 30 * DAY;
    const expected = dailyOccurrences(until);
    await runHorizonJob();
    await h.busyBecomes(OWNER, `${day(0)}T00:00:00Z`, `${day(100)}T00:00:00Z`, expected, 'the series up to the moved horizon');
    expect(await seriesRows()).toBe(expected.length);
    const [s] = await h.sql`select expanded_until from availability_series where series_id = ${SERIES}`;
    expect((s!.expanded_until as Date).getTime()).toBe(until);
    // Again the same day: nothing more.
    await runHorizonJob();
    await waitFor(async () => {
      const [r] = await h.sql`select count(*)::int as n from pgboss.job where name = 'availability.extendHorizon' and state in ('created', 'retry', 'active')`;
      return r!.n === 0;
    }, { what: 'the horizon job to finish' });
    expect(await seriesRows()).toBe(expected.length);
  });

  test('a change to the series re-expands it over the whole current horizon, without gaps or duplicates', async () => {
    await h.putEvent(EMAIL, SERIES, {
      summary: 'Daily, later',
      start: { dateTime: at(0, '10:15', TZ), timeZone: 'Asia/Tokyo' },
      end: { dateTime: at(0, '10:45', TZ), timeZone: 'Asia/Tokyo' },
      recurrence: ['RRULE:FREQ=DAILY'],
    });
    await h.syncNow(ownerId, EMAIL);
    const now = h.t.clock.now().getTime();
    const horizonFrom = startOfUtcDay(now) - 31 * DAY;
    const until = startOfUtcDay(now) + 30 * DAY;
    const expected = dailyOccurrences(until, horizonFrom, '15');
    await h.busyBecomes(OWNER, `${day(0)}T00:00:00Z`, `${day(100)}T00:00:00Z`, expected, 'the series at 10:15');
    expect(await seriesRows()).toBe(expected.length);
  });

  test('eighty days later what ended before the horizon start (today - 31 days) is gone', async () => {
    h.t.clock.advance(60 * DAY);
    const now = h.t.clock.now().getTime();
    const horizonFrom = startOfUtcDay(now) - 31 * DAY;
    const until = startOfUtcDay(now) + 30 * DAY;
    const expected = dailyOccurrences(until, horizonFrom, '15');
    await runHorizonJob();
    await h.busyBecomes(OWNER, `${day(0)}T00:00:00Z`, `${day(150)}T00:00:00Z`, expected, 'the series, its old days pruned');
    expect(await seriesRows()).toBe(expected.length);
    const [old] = await h.sql`select count(*)::int as n from blocked_times where end_at <= ${new Date(horizonFrom)}`;
    expect(old!.n).toBe(0);
  });
});
