// Change sets the emulator cannot easily produce, dispatched through the sync's own dispatcher in a
// real transaction on a real linked calendar: an instance arriving before its master, Google's
// bare tombstone of an instance, the same events reported twice, a cancelled master taking its
// instances with it, and a change set that fails rolling back availability's writes with it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { dispatchEventChanges, inTransaction, type ChangeSet, type EventChange, type MirrorEvent } from '../../src/context/index.ts';
import { at, compactUtc, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

const TZ = '+09:00';
const EMAIL = 'ren@example.com';
const OWNER = 'owner-ren';
const S = 'seriesren001';
let h: AvailabilityHarness;
let owner: { ownerId: string; calendarRowId: string };

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-change-sets', { PUBLIC_URL: '' });
  owner = await h.linkOwner(EMAIL, OWNER, 'Asia/Tokyo');
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

type Raw = Record<string, any>;

/** The mirror row sync would hand over for this Google event (as src/sync/map-event.ts builds it). */
function mirror(raw: Raw): MirrorEvent {
  const start = raw.start ?? {};
  const end = raw.end ?? {};
  return {
    ownerId: owner.ownerId,
    externalOwnerId: OWNER,
    calendarRowId: owner.calendarRowId,
    calendarId: EMAIL,
    calendarTimeZone: 'Asia/Tokyo',
    googleEventId: raw.id,
    status: raw.status ?? 'confirmed',
    summary: raw.summary ?? null,
    startAt: start.dateTime ? new Date(start.dateTime) : null,
    endAt: end.dateTime ? new Date(end.dateTime) : null,
    startDate: start.date ?? null,
    endDate: end.date ?? null,
    timeZone: start.timeZone ?? null,
    allDay: !!start.date,
    transparency: raw.transparency ?? 'opaque',
    eventType: raw.eventType ?? 'default',
    recurrence: raw.recurrence ?? null,
    recurringEventId: raw.recurringEventId ?? null,
    originalStartTime: raw.originalStartTime?.dateTime ?? raw.originalStartTime?.date ?? null,
    organizerEmail: null,
    attendees: [],
    updated: null,
    etag: null,
    raw,
  };
}

async function dispatch(changes: EventChange[]): Promise<void> {
  const cs: ChangeSet = {
    ownerId: owner.ownerId,
    externalOwnerId: OWNER,
    calendarRowId: owner.calendarRowId,
    calendarId: EMAIL,
    calendarTimeZone: 'Asia/Tokyo',
    fullSync: false,
    syncedAt: new Date(),
    changes,
  };
  await h.t.service.ctx.db.transaction((tx) => dispatchEventChanges(inTransaction(h.t.service.ctx, tx), cs));
}

const created = (raw: Raw): EventChange => ({ kind: 'created', event: mirror(raw) });
const slot = (n: number, hhmm = '10:00') => ({ dateTime: at(n, hhmm, TZ), timeZone: 'Asia/Tokyo' });
const iv = (n: number, from: string, to: string) => ({ start: utc(at(n, from, TZ)), end: utc(at(n, to, TZ)) });
const RANGE = [`${day(0)}T00:00:00Z`, `${day(10)}T00:00:00Z`] as const;
const busy = () => h.busy(OWNER, RANGE[0], RANGE[1]);
const rows = async () => Number((await h.sql`select count(*)::int as n from blocked_times where owner_id = ${owner.ownerId}`)[0]!.n);

const master = { id: S, status: 'confirmed', summary: 'Series', start: slot(1), end: slot(1, '11:00'), recurrence: ['RRULE:FREQ=DAILY;COUNT=4'] };
const moved = {
  id: `${S}_${compactUtc(at(2, '10:00', TZ))}`,
  status: 'confirmed',
  summary: 'Moved',
  recurringEventId: S,
  originalStartTime: slot(2),
  start: slot(3, '14:00'),
  end: slot(3, '15:00'),
};

describe('series built from change sets in any order', () => {
  test('an instance before its master blocks on its own', async () => {
    await dispatch([created(moved)]);
    expect(await busy()).toEqual([iv(3, '14:00', '15:00')]);
  });

  test('the master arriving later expands around it (its slot replaced)', async () => {
    await dispatch([created(master)]);
    expect(await busy()).toEqual([iv(1, '10:00', '11:00'), iv(3, '10:00', '11:00'), iv(3, '14:00', '15:00'), iv(4, '10:00', '11:00')]);
    expect(await rows()).toBe(4);
  });

  test('the same events reported again (a resync) leave exactly the same rows', async () => {
    await dispatch([
      { kind: 'updated', event: mirror(master), previous: mirror(master) },
      { kind: 'updated', event: mirror(moved), previous: mirror(moved) },
    ]);
    expect(await rows()).toBe(4);
    expect(await busy()).toEqual([iv(1, '10:00', '11:00'), iv(3, '10:00', '11:00'), iv(3, '14:00', '15:00'), iv(4, '10:00', '11:00')]);
  });

  test("Google's bare tombstone of an instance ({id, status} only) removes that occurrence", async () => {
    const tombstone = { kind: 'calendar#event', etag: '"3279003328426000"', id: `${S}_${compactUtc(at(4, '10:00', TZ))}`, status: 'cancelled' };
    await dispatch([{ kind: 'cancelled', event: mirror(tombstone), previous: null }]);
    expect(await busy()).toEqual([iv(1, '10:00', '11:00'), iv(3, '10:00', '11:00'), iv(3, '14:00', '15:00')]);
  });

  test('a change set whose transaction fails leaves availability as it was', async () => {
    const before = await busy();
    const extra = { id: 'rollbackev01', status: 'confirmed', summary: 'x', start: slot(6), end: slot(6, '11:00') };
    const cs: ChangeSet = {
      ownerId: owner.ownerId,
      externalOwnerId: OWNER,
      calendarRowId: owner.calendarRowId,
      calendarId: EMAIL,
      calendarTimeZone: 'Asia/Tokyo',
      fullSync: false,
      syncedAt: new Date(),
      changes: [created(extra)],
    };
    const err = await h.t.service.ctx.db
      .transaction(async (tx) => {
        await dispatchEventChanges(inTransaction(h.t.service.ctx, tx), cs);
        throw new Error('the sync page failed after the handlers ran');
      })
      .catch((e: Error) => e);
    expect((err as Error).message).toContain('the sync page failed');
    expect(await busy()).toEqual(before);
  });

  test('an instance the sync removed without a tombstone (a full sync no longer lists it) gives its slot back to the master', async () => {
    // What the sync's sweep hands over: the last row it held, marked cancelled, its raw resource unchanged.
    await dispatch([{ kind: 'cancelled', event: { ...mirror(moved), status: 'cancelled' }, previous: mirror(moved) }]);
    expect(await busy()).toEqual([iv(1, '10:00', '11:00'), iv(2, '10:00', '11:00'), iv(3, '10:00', '11:00')]);
    expect(await h.sql`select 1 from availability_sources where google_event_id = ${moved.id}`).toHaveLength(0);
  });

  test('a one-off event the sync removed without a tombstone is gone', async () => {
    const one = { id: 'sweptevent01', status: 'confirmed', summary: 'Swept', start: slot(8), end: slot(8, '11:00') };
    await dispatch([created(one)]);
    expect(await busy()).toContainEqual(iv(8, '10:00', '11:00'));
    await dispatch([{ kind: 'cancelled', event: { ...mirror(one), status: 'cancelled' }, previous: mirror(one) }]);
    expect(await busy()).not.toContainEqual(iv(8, '10:00', '11:00'));
  });

  test('the master deleted: every occurrence and instance goes, sources included', async () => {
    await dispatch([{ kind: 'cancelled', event: mirror({ kind: 'calendar#event', id: S, status: 'cancelled' }), previous: mirror(master) }]);
    expect(await busy()).toEqual([]);
    const [n] = await h.sql`select count(*)::int as n from availability_sources where series_id = ${S}`;
    expect(n!.n).toBe(0);
    expect(await h.sql`select 1 from availability_series where series_id = ${S}`).toHaveLength(0);
  });

  test('a one-off event that becomes recurring, then one-off again', async () => {
    const one = { id: 'morphevent01', status: 'confirmed', summary: 'Morph', start: slot(5), end: slot(5, '10:30') };
    await dispatch([created(one)]);
    expect(await busy()).toEqual([iv(5, '10:00', '10:30')]);
    const rec = { ...one, recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] };
    await dispatch([{ kind: 'updated', event: mirror(rec), previous: mirror(one) }]);
    expect(await busy()).toEqual([iv(5, '10:00', '10:30'), iv(6, '10:00', '10:30'), iv(7, '10:00', '10:30')]);
    expect(await h.sql`select 1 from availability_series where series_id = 'morphevent01'`).toHaveLength(1);
    await dispatch([{ kind: 'updated', event: mirror(one), previous: mirror(rec) }]);
    expect(await busy()).toEqual([iv(5, '10:00', '10:30')]);
    // No longer a series: the horizon job leaves it alone (it would otherwise add it again).
    expect(await h.sql`select 1 from availability_series where series_id = 'morphevent01'`).toHaveLength(0);
  });
});
