// Bad input, authorisation, the face function bookings uses, and the owner lifecycle: UNLINKED
// with and without keepBlockedTimes, then LINKED again.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { busyIntervals } from '../../src/availability/index.ts';
import { isAppError } from '../../src/errors/index.ts';
import { at, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

const TZ = '+09:00';
let h: AvailabilityHarness;
let mika: { ownerId: string; calendarRowId: string };

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-lifecycle');
  mika = await h.linkOwner('mika@example.com', 'owner-mika', 'Asia/Tokyo');
  await h.putEvent('mika@example.com', 'mikaevent001', { summary: 'Call', start: { dateTime: at(1, '10:00', TZ) }, end: { dateTime: at(1, '11:00', TZ) } });
  await h.syncNow(mika.ownerId, 'mika@example.com');
  await h.busyBecomes('owner-mika', `${day(0)}T00:00:00Z`, `${day(3)}T00:00:00Z`, [{ start: utc(at(1, '10:00', TZ)), end: utc(at(1, '11:00', TZ)) }], 'mika busy');
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

type Err = { message: string; data: { code: string; appCode?: string; httpStatus: number } };
const busyCall = (input: unknown, token?: string | null) => h.t.trpc<unknown>('availability.busy', input, { token });
const errorOf = (r: { body: { error?: unknown } }) => r.body.error as Err;

describe('availability.busy: bad input', () => {
  const from = `${day(0)}T00:00:00Z`;
  test('`to` before `from` -> 400 VALIDATION', async () => {
    const r = await busyCall({ externalOwnerId: 'owner-mika', from, to: `${day(-1)}T00:00:00Z` });
    expect(r.status).toBe(400);
    expect(errorOf(r).data.appCode).toBe('VALIDATION');
    expect(errorOf(r).message).toContain('`to` must be after `from`');
  });

  test('`to` equal to `from` -> 400', async () => {
    expect((await busyCall({ externalOwnerId: 'owner-mika', from, to: from })).status).toBe(400);
  });

  test('a range over one year -> 400; exactly 366 days is accepted', async () => {
    const start = Date.parse(from);
    const over = await busyCall({ externalOwnerId: 'owner-mika', from, to: new Date(start + 366 * 86_400_000 + 1000).toISOString() });
    expect(over.status).toBe(400);
    expect(errorOf(over).message).toContain('1 year');
    const year = await busyCall({ externalOwnerId: 'owner-mika', from, to: new Date(start + 366 * 86_400_000).toISOString() });
    expect(year.status).toBe(200);
  });

  test('unknown owner -> 404', async () => {
    const r = await busyCall({ externalOwnerId: 'owner-nobody', from, to: `${day(1)}T00:00:00Z` });
    expect(r.status).toBe(404);
    expect(errorOf(r).data.appCode).toBe('NOT_FOUND');
  });

  test('dates without an offset, garbage dates, missing fields, too many calendar ids -> 400', async () => {
    for (const input of [
      { externalOwnerId: 'owner-mika', from: '2030-01-01T00:00:00', to: '2030-01-02T00:00:00Z' },
      { externalOwnerId: 'owner-mika', from: 'yesterday', to: '2030-01-02T00:00:00Z' },
      { externalOwnerId: 'owner-mika', from },
      { externalOwnerId: '', from, to: `${day(1)}T00:00:00Z` },
      { externalOwnerId: 'owner-mika', from, to: `${day(1)}T00:00:00Z`, calendarIds: 'primary' },
      { externalOwnerId: 'owner-mika', from, to: `${day(1)}T00:00:00Z`, calendarIds: Array.from({ length: 101 }, (_, i) => `c${i}`) },
    ]) {
      const r = await busyCall(input);
      expect(r.status).toBe(400);
    }
  });

  test('no token or a wrong token -> 401', async () => {
    const input = { externalOwnerId: 'owner-mika', from, to: `${day(1)}T00:00:00Z` };
    expect((await busyCall(input, null)).status).toBe(401);
    expect((await busyCall(input, 'not-the-service-token-at-all')).status).toBe(401);
    expect((await h.t.trpc('availability.preferences.set', { externalOwnerId: 'owner-mika', tentativeBlocks: true }, { token: null })).status).toBe(401);
  });

  test('calendar ids are data, never SQL', async () => {
    const r = await busyCall({ externalOwnerId: 'owner-mika', from, to: `${day(3)}T00:00:00Z`, calendarIds: ["x') or true --", "' union select 1,2 --"] });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ result: { data: { intervals: [] } } });
  });
});

describe('availability.free and preferences: bad input', () => {
  const base = { externalOwnerId: 'owner-mika', from: `${day(0)}T00:00:00Z`, to: `${day(7)}T00:00:00Z`, durationMinutes: 30 };
  test('working hours ending before they start, an unknown zone, bad days, bad clock -> 400', async () => {
    const wh = { timeZone: 'Asia/Tokyo', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    for (const workingHours of [
      { ...wh, start: '17:00', end: '09:00' },
      { ...wh, timeZone: 'Mars/Olympus_Mons' },
      { ...wh, days: [0] },
      { ...wh, days: [] },
      { ...wh, start: '9am' },
      { ...wh, end: '24:30' },
    ]) {
      const r = await h.t.trpc('availability.free', { ...base, workingHours });
      expect(r.status).toBe(400);
    }
    expect((await h.t.trpc('availability.free', { ...base, durationMinutes: 0 })).status).toBe(400);
    expect((await h.t.trpc('availability.free', { ...base, workingHours: { ...wh, end: '24:00' } })).status).toBe(200);
  });

  test('free over the same bad ranges as busy', async () => {
    expect((await h.t.trpc('availability.free', { ...base, to: base.from })).status).toBe(400);
    expect((await h.t.trpc('availability.free', { ...base, externalOwnerId: 'owner-nobody' })).status).toBe(404);
  });

  test('preferences of an unknown owner -> 404; a bad body -> 400', async () => {
    expect((await h.t.trpc('availability.preferences.get', { externalOwnerId: 'owner-nobody' })).status).toBe(404);
    expect((await h.t.trpc('availability.preferences.set', { externalOwnerId: 'owner-nobody', tentativeBlocks: true })).status).toBe(404);
    expect((await h.t.trpc('availability.preferences.set', { externalOwnerId: 'owner-mika', tentativeBlocks: 'yes' })).status).toBe(400);
  });
});

describe('busyIntervals (the face function bookings calls)', () => {
  test('by owner id, as Dates, merged and sorted', async () => {
    const got = await busyIntervals(h.t.service.ctx, { ownerId: mika.ownerId, from: new Date(`${day(0)}T00:00:00Z`), to: new Date(`${day(3)}T00:00:00Z`) });
    expect(got).toEqual([{ start: new Date(at(1, '10:00', TZ)), end: new Date(at(1, '11:00', TZ)) }]);
  });

  test('unknown owner id and bad ranges throw AppErrors', async () => {
    const from = new Date(`${day(0)}T00:00:00Z`);
    const to = new Date(`${day(3)}T00:00:00Z`);
    for (const [input, code] of [
      [{ ownerId: '00000000-0000-4000-8000-000000000000', from, to }, 'NOT_FOUND'],
      [{ ownerId: 'not-a-uuid', from, to }, 'NOT_FOUND'],
      [{ ownerId: mika.ownerId, from: to, to: from }, 'VALIDATION'],
      [{ ownerId: mika.ownerId, from, to: new Date(Number.NaN) }, 'VALIDATION'],
    ] as const) {
      const err = await busyIntervals(h.t.service.ctx, input).then(() => undefined, (e: unknown) => e);
      expect(isAppError(err) && err.code).toBe(code);
    }
  });
});

async function availabilityRows(ownerId: string, externalOwnerId: string) {
  const [r] = await h.sql`select
    (select count(*)::int from blocked_times where owner_id = ${ownerId}) as blocked,
    (select count(*)::int from availability_sources where owner_id = ${ownerId}) as sources,
    (select count(*)::int from availability_series where owner_id = ${ownerId}) as series,
    (select count(*)::int from availability_preferences where owner_id = ${ownerId}) as prefs,
    (select count(*)::int from frozen_blocked_times where external_owner_id = ${externalOwnerId}) as frozen`;
  return r!;
}

describe('UNLINKED', () => {
  test('without keepBlockedTimes: every blocked time goes; busy answers nothing for the unlinked owner', async () => {
    const u = await h.linkOwner('noah@example.com', 'owner-noah', 'Asia/Tokyo');
    await h.putEvent('noah@example.com', 'noahevent001', {
      summary: 'Daily',
      start: { dateTime: at(1, '08:00', TZ), timeZone: 'Asia/Tokyo' },
      end: { dateTime: at(1, '08:30', TZ), timeZone: 'Asia/Tokyo' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
    });
    await h.syncNow(u.ownerId, 'noah@example.com');
    const [from, to] = [`${day(0)}T00:00:00Z`, `${day(10)}T00:00:00Z`];
    await h.busyBecomes(
      'owner-noah',
      from,
      to,
      [1, 2, 3, 4, 5].map((n) => ({ start: utc(at(n, '08:00', TZ)), end: utc(at(n, '08:30', TZ)) })),
      'noah daily',
    );
    await h.t.trpc('availability.preferences.set', { externalOwnerId: 'owner-noah', tentativeBlocks: true });
    expect(await availabilityRows(u.ownerId, 'owner-noah')).toEqual({ blocked: 5, sources: 1, series: 1, prefs: 1, frozen: 0 });

    const r = await h.t.trpc('links.event', { type: 'UNLINKED', externalOwnerId: 'owner-noah' });
    expect(r.status).toBe(200);
    expect(await availabilityRows(u.ownerId, 'owner-noah')).toEqual({ blocked: 0, sources: 0, series: 0, prefs: 0, frozen: 0 });
    expect(await h.busy('owner-noah', from, to)).toEqual([]);
    expect((await h.t.trpc('availability.preferences.get', { externalOwnerId: 'owner-noah' })).status).toBe(404);
  });

  test('with keepBlockedTimes: frozen rows answer busy, no longer sync, and give way to live ones on LINKED again', async () => {
    const u = await h.linkOwner('olga@example.com', 'owner-olga', 'Asia/Tokyo');
    await h.putEvent('olga@example.com', 'olgaevent001', { summary: 'A', start: { dateTime: at(2, '09:00', TZ) }, end: { dateTime: at(2, '10:00', TZ) } });
    await h.putEvent('olga@example.com', 'olgaevent002', { summary: 'B', start: { dateTime: at(3, '09:00', TZ) }, end: { dateTime: at(3, '10:00', TZ) } });
    await h.syncNow(u.ownerId, 'olga@example.com');
    const [from, to] = [`${day(0)}T00:00:00Z`, `${day(10)}T00:00:00Z`];
    const a = { start: utc(at(2, '09:00', TZ)), end: utc(at(2, '10:00', TZ)) };
    const b = { start: utc(at(3, '09:00', TZ)), end: utc(at(3, '10:00', TZ)) };
    await h.busyBecomes('owner-olga', from, to, [a, b], 'olga busy');

    const r = await h.t.trpc('links.event', { type: 'UNLINKED', externalOwnerId: 'owner-olga', keepBlockedTimes: true });
    expect(r.status).toBe(200);
    expect(await availabilityRows(u.ownerId, 'owner-olga')).toEqual({ blocked: 0, sources: 0, series: 0, prefs: 0, frozen: 2 });
    const frozen = await h.sql`select * from frozen_blocked_times where external_owner_id = 'owner-olga' order by start_at`;
    expect(Object.keys(frozen[0]!).sort()).toEqual(['calendar_id', 'end_at', 'external_owner_id', 'former_owner_id', 'frozen_at', 'id', 'source_event_id', 'start_at']);
    expect(frozen.map((f) => f.former_owner_id)).toEqual([u.ownerId, u.ownerId]);

    expect(await h.busy('owner-olga', from, to)).toEqual([a, b]);
    expect(await h.busy('owner-olga', from, to, ['olga@example.com'])).toEqual([a, b]);
    expect(await h.busy('owner-olga', from, to, ['someone-else@example.com'])).toEqual([]);
    // bookings asks by the former owner id
    expect(await busyIntervals(h.t.service.ctx, { ownerId: u.ownerId, from: new Date(from), to: new Date(to) })).toHaveLength(2);

    // Google changes nothing here any more: the frozen rows stay as they were.
    await h.deleteEvent('olga@example.com', 'olgaevent002');
    expect(await h.busy('owner-olga', from, to)).toEqual([a, b]);

    // Linked again: live rows from a fresh full sync; the frozen ones are gone.
    const user = await h.emuJson('users', { email: 'olga@example.com', timeZone: 'Asia/Tokyo' });
    const relinked = await h.t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'owner-olga', refreshToken: user.refreshToken });
    expect(relinked.status).toBe(200);
    expect((await h.sql`select count(*)::int as n from frozen_blocked_times where external_owner_id = 'owner-olga'`)[0]!.n).toBe(0);
    await h.busyBecomes('owner-olga', from, to, [a], 'olga live again, without the deleted event');
  });
});
