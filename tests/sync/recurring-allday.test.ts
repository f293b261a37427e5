// Recurring series stored as Google returns them with singleEvents=false (the master with its
// rules, a modified and a cancelled instance as their own rows), expanded by events.list; and
// all-day events placed from local midnight to local midnight, 23 h and 25 h on DST days.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule, ChangeSet } from '../../src/context/index.ts';
import { enqueueEventSync } from '../../src/sync/index.ts';
import { startSyncHarness, timed, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const EMAIL = 'rec-bob@example.com';
const OWNER = 'rec-owner';
let ownerId: string;
let calRowId: string;
const sets: ChangeSet[] = [];

type Item = { googleEventId: string; start: string; end: string; allDay: boolean; startDate?: string; endDate?: string; recurringEventId?: string; summary: string; status: string };
async function list(from: string, to: string, extra: Record<string, unknown> = {}): Promise<Item[]> {
  const r = await h.t.trpc<{ items: Item[] }>('events.list', { externalOwnerId: OWNER, from, to, ...extra });
  if (!r.body.result) throw new Error(JSON.stringify(r.body));
  return r.body.result.data.items;
}
async function syncNow(): Promise<void> {
  const before = await h.calendar(ownerId, EMAIL);
  await enqueueEventSync(h.t.service.ctx, calRowId, { reason: 'notification' });
  await h.syncedAfter(calRowId, before.lastSyncedAt);
}

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-recurring',
  reactions: {
    eventChanges: async (_ctx, cs) => {
      if (cs.calendarId === EMAIL) sets.push(cs);
    },
  },
};

beforeAll(async () => {
  h = await startSyncHarness('sync-recurring', { extraModules: [probe] });
  await h.emuJson('users', { email: EMAIL, timeZone: 'America/New_York' });
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER));
  calRowId = (await h.calendar(ownerId, 'primary')).id;
}, 60_000);
afterAll(() => h?.stop(), 30_000);

describe('a weekly series across the March DST change, with a modified and a cancelled occurrence', () => {
  // Tuesdays 09:00 New York from 2031-03-04 (EST, 14:00Z); DST starts on Sunday 2031-03-09.
  const MASTER = 'weekly0001';
  test('mirror rows: the master with its rule, the modified instance, the cancelled instance', async () => {
    await h.putEvent(EMAIL, MASTER, {
      summary: 'standup',
      start: { dateTime: '2031-03-04T09:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2031-03-04T09:30:00', timeZone: 'America/New_York' },
      recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6'],
    });
    await syncNow();
    sets.length = 0;
    // Occurrence ids carry the original start in UTC (Google: <masterId>_<YYYYMMDDTHHMMSSZ>).
    await h.putEvent(EMAIL, `${MASTER}_20310318T130000Z`, {
      summary: 'standup (moved)',
      start: { dateTime: '2031-03-18T10:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2031-03-18T10:30:00', timeZone: 'America/New_York' },
    });
    await h.deleteEvent(EMAIL, `${MASTER}_20310325T130000Z`);
    await syncNow();

    const mirror = await h.mirror(calRowId);
    const master = mirror.get(MASTER)!;
    expect(master.recurrence).toEqual(['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6']);
    expect(master.start_at).toEqual(new Date('2031-03-04T14:00:00Z'));
    expect(master.time_zone).toBe('America/New_York');
    const moved = mirror.get(`${MASTER}_20310318T130000Z`)!;
    expect(moved).toMatchObject({ status: 'confirmed', recurring_event_id: MASTER, summary: 'standup (moved)' });
    expect(new Date(moved.original_start_time).toISOString()).toBe('2031-03-18T13:00:00.000Z');
    expect(moved.start_at).toEqual(new Date('2031-03-18T14:00:00Z'));
    const cancelled = mirror.get(`${MASTER}_20310325T130000Z`)!;
    expect(cancelled).toMatchObject({ status: 'cancelled', recurring_event_id: MASTER });
    expect(new Date(cancelled.original_start_time).toISOString()).toBe('2031-03-25T13:00:00.000Z');

    const changes = sets.flatMap((s) => s.changes);
    expect(changes.map((c) => [c.kind, c.event.googleEventId]).sort()).toEqual([
      ['cancelled', `${MASTER}_20310325T130000Z`],
      ['created', `${MASTER}_20310318T130000Z`],
    ]);
    const created = changes.find((c) => c.kind === 'created')!;
    expect(created.event.recurringEventId).toBe(MASTER);
    expect(created.event.originalStartTime).toBeTruthy();
  });

  test('events.list places each occurrence at 09:00 local on both sides of DST, the moved one moved, the cancelled one absent', async () => {
    const items = (await list('2031-03-01T00:00:00Z', '2031-05-01T00:00:00Z')).filter((i) => i.recurringEventId === MASTER);
    expect(items.map((i) => [i.googleEventId, i.start, i.end])).toEqual([
      [`${MASTER}_20310304T140000Z`, '2031-03-04T14:00:00.000Z', '2031-03-04T14:30:00.000Z'],
      [`${MASTER}_20310311T130000Z`, '2031-03-11T13:00:00.000Z', '2031-03-11T13:30:00.000Z'],
      [`${MASTER}_20310318T130000Z`, '2031-03-18T14:00:00.000Z', '2031-03-18T14:30:00.000Z'],
      [`${MASTER}_20310401T130000Z`, '2031-04-01T13:00:00.000Z', '2031-04-01T13:30:00.000Z'],
      [`${MASTER}_20310408T130000Z`, '2031-04-08T13:00:00.000Z', '2031-04-08T13:30:00.000Z'],
    ]);
    expect(items[2]!.summary).toBe('standup (moved)');
    expect(items[0]!.summary).toBe('standup');
    // A range inside one occurrence finds it; a range after the series' end finds nothing.
    expect((await list('2031-04-01T13:10:00Z', '2031-04-01T13:20:00Z')).map((i) => i.googleEventId)).toEqual([`${MASTER}_20310401T130000Z`]);
    expect(await list('2031-04-09T00:00:00Z', '2031-06-01T00:00:00Z')).toEqual([]);
  });

  test('deleting the series removes the master and its stored instances, each reported cancelled once', async () => {
    sets.length = 0;
    await h.deleteEvent(EMAIL, MASTER);
    await syncNow();
    const mirror = await h.mirror(calRowId);
    expect([...mirror.keys()].filter((k) => k.startsWith(MASTER))).toEqual([]);
    const changes = sets.flatMap((s) => s.changes);
    const ids = changes.map((c) => `${c.kind} ${c.event.googleEventId}`).sort();
    expect(ids).toEqual([`cancelled ${MASTER}`, `cancelled ${MASTER}_20310318T130000Z`]);
    const master = changes.find((c) => c.event.googleEventId === MASTER)!;
    expect(master.kind === 'cancelled' && master.previous?.recurrence).toEqual(['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6']);
    expect(await list('2031-03-01T00:00:00Z', '2031-05-01T00:00:00Z')).toEqual([]);
  });
});

describe('all-day events across DST in America/New_York', () => {
  test('the spring-forward day lasts 23 h, the fall-back day 25 h, from local midnight to local midnight', async () => {
    await h.putEvent(EMAIL, 'allday0spring', { summary: 'spring', start: { date: '2031-03-09' }, end: { date: '2031-03-10' } });
    await h.putEvent(EMAIL, 'allday0fall', { summary: 'fall', start: { date: '2031-11-02' }, end: { date: '2031-11-03' } });
    await h.putEvent(EMAIL, 'allday0trip', { summary: 'trip', start: { date: '2031-03-08' }, end: { date: '2031-03-11' }, transparency: 'transparent' });
    await syncNow();
    const mirror = await h.mirror(calRowId);
    const spring = mirror.get('allday0spring')!;
    expect(spring).toMatchObject({ all_day: true, start_date: '2031-03-09', end_date: '2031-03-10' });
    expect(spring.start_at).toEqual(new Date('2031-03-09T05:00:00Z'));
    expect(spring.end_at).toEqual(new Date('2031-03-10T04:00:00Z'));
    expect((spring.end_at - spring.start_at) / 3_600_000).toBe(23);
    const fall = mirror.get('allday0fall')!;
    expect(fall.start_at).toEqual(new Date('2031-11-02T04:00:00Z'));
    expect(fall.end_at).toEqual(new Date('2031-11-03T05:00:00Z'));
    expect((fall.end_at - fall.start_at) / 3_600_000).toBe(25);
    const trip = mirror.get('allday0trip')!;
    expect(trip.start_at).toEqual(new Date('2031-03-08T05:00:00Z'));
    expect(trip.end_at).toEqual(new Date('2031-03-11T04:00:00Z'));
    expect(trip.transparency).toBe('transparent');
  });

  test('events.list places all-day events by local days: in at 23:59 local, out at 00:00 local the next day', async () => {
    const ids = async (from: string, to: string) => (await list(from, to)).map((i) => i.googleEventId).sort();
    // 23:30-24:00 EDT on 9 March: inside the spring day (and the trip).
    expect(await ids('2031-03-10T03:30:00Z', '2031-03-10T04:00:00Z')).toEqual(['allday0spring', 'allday0trip']);
    // 00:00-00:30 EDT on 10 March: the spring day is over, the trip goes on.
    expect(await ids('2031-03-10T04:00:00Z', '2031-03-10T04:30:00Z')).toEqual(['allday0trip']);
    // 23:30-24:00 EST on 8 March (04:30Z-05:00Z on the 9th): before the spring day starts.
    expect(await ids('2031-03-09T04:30:00Z', '2031-03-09T05:00:00Z')).toEqual(['allday0trip']);
    // The 25th hour of 2 November (00:00-01:00 EST on the 3rd is 05:00Z-06:00Z): outside.
    expect(await ids('2031-11-03T04:30:00Z', '2031-11-03T05:00:00Z')).toEqual(['allday0fall']);
    expect(await ids('2031-11-03T05:00:00Z', '2031-11-03T06:00:00Z')).toEqual([]);
    const [spring] = await list('2031-03-09T12:00:00Z', '2031-03-09T13:00:00Z', { calendarId: EMAIL }).then((items) => items.filter((i) => i.googleEventId === 'allday0spring'));
    expect(spring).toMatchObject({ allDay: true, startDate: '2031-03-09', endDate: '2031-03-10', start: '2031-03-09T05:00:00.000Z', end: '2031-03-10T04:00:00.000Z', calendarId: EMAIL, status: 'confirmed', transparency: 'opaque', eventType: 'default' });
  });

  test('a weekly all-day series keeps its local days across DST', async () => {
    await h.putEvent(EMAIL, 'allday0weekly', {
      summary: 'gym day',
      start: { date: '2031-03-02' },
      end: { date: '2031-03-03' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
    });
    await syncNow();
    const items = (await list('2031-03-01T00:00:00Z', '2031-04-01T00:00:00Z')).filter((i) => i.recurringEventId === 'allday0weekly');
    expect(items.map((i) => [i.googleEventId, i.startDate, i.start, i.end])).toEqual([
      ['allday0weekly_20310302', '2031-03-02', '2031-03-02T05:00:00.000Z', '2031-03-03T05:00:00.000Z'],
      ['allday0weekly_20310309', '2031-03-09', '2031-03-09T05:00:00.000Z', '2031-03-10T04:00:00.000Z'],
      ['allday0weekly_20310316', '2031-03-16', '2031-03-16T04:00:00.000Z', '2031-03-17T04:00:00.000Z'],
    ]);
  });
});

describe('events.list errors and attacks', () => {
  test('rejects bad ranges, unknown owners and calendars, missing or wrong tokens', async () => {
    const q = (input: unknown, token?: string | null) => h.t.trpc('events.list', input, { token });
    expect((await q({ externalOwnerId: OWNER, from: '2031-03-02T00:00:00Z', to: '2031-03-01T00:00:00Z' })).body.error?.data.code).toBe('BAD_REQUEST');
    expect((await q({ externalOwnerId: OWNER, from: '2031-01-01T00:00:00Z', to: '2033-01-01T00:00:00Z' })).body.error?.data.code).toBe('BAD_REQUEST');
    expect((await q({ externalOwnerId: OWNER, from: 'yesterday', to: '2031-03-01T00:00:00Z' })).body.error?.data.code).toBe('BAD_REQUEST');
    // Without an offset a time is ambiguous (Google requires one too).
    expect((await q({ externalOwnerId: OWNER, from: '2031-03-01T00:00:00', to: '2031-03-02T00:00:00' })).body.error?.data.code).toBe('BAD_REQUEST');
    expect((await q({ externalOwnerId: 'nobody', from: '2031-03-01T00:00:00Z', to: '2031-03-02T00:00:00Z' })).body.error?.data.code).toBe('NOT_FOUND');
    expect((await q({ externalOwnerId: OWNER, calendarId: 'someone-else@example.com', from: '2031-03-01T00:00:00Z', to: '2031-03-02T00:00:00Z' })).body.error?.data.code).toBe('NOT_FOUND');
    expect((await q({ externalOwnerId: OWNER, from: '2031-03-01T00:00:00Z', to: '2031-03-02T00:00:00Z' }, null)).status).toBe(401);
    // SQL-looking input is just a string that matches nothing.
    expect((await q({ externalOwnerId: "x' or '1'='1", from: '2031-03-01T00:00:00Z', to: '2031-03-02T00:00:00Z' })).body.error?.data.code).toBe('NOT_FOUND');
  });

  test("one owner never sees another owner's calendar, even by its id", async () => {
    const other = 'rec-carol@example.com';
    await h.emuJson('users', { email: other });
    await h.linkOwner(other, 'rec-other-owner');
    await h.putEvent(other, 'carolevt01', timed('private', '2031-03-05T10:00:00Z', '2031-03-05T11:00:00Z'));
    const r = await h.t.trpc('events.list', { externalOwnerId: OWNER, calendarId: other, from: '2031-03-01T00:00:00Z', to: '2031-04-01T00:00:00Z' });
    expect(r.body.error?.data.code).toBe('NOT_FOUND');
  });
});
