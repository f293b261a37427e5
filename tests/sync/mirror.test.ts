// The mirror against the emulator and a real database: a multi-page first sync equals Google's live
// state row by row; incremental creates, updates and deletes; 410 recovery (with events deleted
// meanwhile) by mark and sweep; and the change sets handed to reactors.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule, CalendarChange, ChangeSet } from '../../src/context/index.ts';
import { enqueueEventSync } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { eventId, startSyncHarness, timed, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const sets: ChangeSet[] = [];
const calendarChanges: CalendarChange[] = [];
const EMAIL = 'mirror-alice@example.com';
let owner: { ownerId: string; externalOwnerId: string };
let calRowId: string;

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-mirror',
  reactions: {
    eventChanges: async (_ctx, cs) => {
      if (cs.calendarId === EMAIL) sets.push(cs);
    },
    calendarChanges: async (_ctx, c) => {
      if (c.calendarId === EMAIL) calendarChanges.push(c);
    },
  },
};

beforeAll(async () => {
  h = await startSyncHarness('sync-mirror', { extraModules: [probe], env: { SYNC_PAGE_SIZE: '7' } });
  await h.emuJson('users', { email: EMAIL, timeZone: 'Europe/Paris' });
  // 30 events before linking: the first sync needs 5 pages of 7.
  for (let i = 0; i < 30; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    await h.putEvent(EMAIL, eventId('evm', i), timed(`event ${i}`, `2031-03-${day}T09:00:00+01:00`, `2031-03-${day}T10:00:00+01:00`, {
      attendees: [{ email: EMAIL, responseStatus: 'accepted' }, { email: `guest${i}@example.com` }],
    }));
  }
  owner = await h.linkOwner(EMAIL, 'mirror-owner');
  calRowId = (await h.calendar(owner.ownerId, 'primary')).id;
}, 60_000);
afterAll(() => h?.stop(), 30_000);

async function expectMirrorEqualsLive(): Promise<void> {
  const live = await h.liveEvents(EMAIL);
  const mirror = await h.mirror(calRowId);
  const mirrorLive = [...mirror.values()].filter((r) => r.status !== 'cancelled');
  expect(mirrorLive.map((r) => r.google_event_id).sort()).toEqual([...live.keys()].sort());
  for (const [id, ev] of live) {
    const row = mirror.get(id)!;
    expect({ id, etag: row.etag, status: row.status, summary: row.summary }).toEqual({ id, etag: ev.etag, status: ev.status ?? 'confirmed', summary: ev.summary ?? null });
    expect(row.start_at.getTime()).toBe(new Date(ev.start.dateTime).getTime());
    expect(row.end_at.getTime()).toBe(new Date(ev.end.dateTime).getTime());
    expect(row.updated.getTime()).toBe(new Date(ev.updated).getTime());
    expect(row.raw.id).toBe(id);
  }
}

describe('first sync', () => {
  test('a full sync over every page mirrors the live calendar row by row', async () => {
    await expectMirrorEqualsLive();
    const listCalls = await h.requests(0, `/calendars/${encodeURIComponent(EMAIL)}/events`);
    const full = listCalls.filter((r) => r.method === 'GET' && !r.query.syncToken);
    expect(full.length).toBe(5);
    expect(full.filter((r) => r.query.pageToken).length).toBe(4);
    expect(full.every((r) => r.query.maxResults === '7' && r.query.singleEvents === 'false')).toBe(true);
    const c = await h.calendar(owner.ownerId, EMAIL);
    expect(c.hasSyncToken).toBe(true);
    expect(c.lastFullSyncAt).not.toBeNull();
    expect(c.selected && c.primary).toBe(true);
    expect(c.timeZone).toBe('Europe/Paris');
  });

  test('its change sets (one per page) report every event created, with attendees, and the calendar fullSynced', async () => {
    const full = sets.filter((s) => s.fullSync);
    expect(full.length).toBe(5);
    const created = full.flatMap((s) => s.changes);
    expect(created.length).toBe(30);
    expect(created.every((c) => c.kind === 'created')).toBe(true);
    const first = created.find((c) => c.event.googleEventId === eventId('evm', 0))!;
    expect(first.event).toMatchObject({
      externalOwnerId: 'mirror-owner',
      calendarId: EMAIL,
      calendarRowId: calRowId,
      calendarTimeZone: 'Europe/Paris',
      summary: 'event 0',
      status: 'confirmed',
      allDay: false,
      transparency: 'opaque',
      startAt: new Date('2031-03-01T08:00:00Z'),
    });
    expect(first.event.attendees).toContainEqual({ email: EMAIL, responseStatus: 'accepted', self: true, organizer: true });
    expect(first.event.attendees).toContainEqual({ email: 'guest0@example.com', responseStatus: 'needsAction' });
    expect(calendarChanges.map((c) => c.kind)).toEqual(['added', 'selected', 'fullSynced']);
  });
});

describe('incremental sync', () => {
  test('creates, updates and deletes arrive with the stored sync token, and the token moves on', async () => {
    const before = await h.calendar(owner.ownerId, EMAIL);
    const tokenBefore = (await h.sql`select sync_token from calendars where id = ${calRowId}`)[0]!.sync_token;
    sets.length = 0;
    const mark = await h.requestMark();
    await h.putEvent(EMAIL, 'evnew0001', timed('new one', '2031-04-01T12:00:00Z', '2031-04-01T13:00:00Z'));
    await h.putEvent(EMAIL, eventId('evm', 1), timed('event 1 moved', '2031-03-02T15:00:00+01:00', '2031-03-02T16:00:00+01:00'));
    await h.deleteEvent(EMAIL, eventId('evm', 2));
    await enqueueEventSync(h.t.service.ctx, calRowId, { reason: 'notification', notifiedAt: new Date() });
    await h.syncedAfter(calRowId, before.lastSyncedAt);
    await expectMirrorEqualsLive();

    const calls = (await h.requests(mark, '/events')).filter((r) => r.method === 'GET');
    expect(calls.length).toBe(1);
    expect(calls[0]!.query.syncToken).toBe(tokenBefore);
    const tokenAfter = (await h.sql`select sync_token from calendars where id = ${calRowId}`)[0]!.sync_token;
    expect(tokenAfter).not.toBe(tokenBefore);

    expect(sets.length).toBe(1);
    const cs = sets[0]!;
    expect(cs.fullSync).toBe(false);
    const byId = new Map(cs.changes.map((c) => [c.event.googleEventId, c]));
    expect(byId.size).toBe(3);
    expect(byId.get('evnew0001')).toMatchObject({ kind: 'created', event: { summary: 'new one' } });
    const updated = byId.get(eventId('evm', 1))!;
    expect(updated.kind).toBe('updated');
    if (updated.kind !== 'updated') throw new Error('unreachable');
    expect(updated.previous.summary).toBe('event 1');
    expect(updated.event.summary).toBe('event 1 moved');
    expect(updated.event.startAt).toEqual(new Date('2031-03-02T14:00:00Z'));
    const cancelled = byId.get(eventId('evm', 2))!;
    expect(cancelled.kind).toBe('cancelled');
    if (cancelled.kind !== 'cancelled') throw new Error('unreachable');
    expect(cancelled.previous?.summary).toBe('event 2');
    expect(cancelled.event.status).toBe('cancelled');
    expect((await h.mirror(calRowId)).has(eventId('evm', 2))).toBe(false);
    const metric = await h.t.service.ctx.metrics.registry.getSingleMetricAsString('calwatch_notification_to_sync_seconds');
    expect(metric).toMatch(/calwatch_notification_to_sync_seconds_count [1-9]/);
  });

  test('a sync with nothing new writes nothing and hands no change set', async () => {
    const before = await h.calendar(owner.ownerId, EMAIL);
    sets.length = 0;
    await enqueueEventSync(h.t.service.ctx, calRowId, { reason: 'notification' });
    await h.syncedAfter(calRowId, before.lastSyncedAt);
    expect(sets.length).toBe(0);
  });

  test('a deletion of an event the mirror never held is still reported, with previous null', async () => {
    const before = await h.calendar(owner.ownerId, EMAIL);
    sets.length = 0;
    await h.putEvent(EMAIL, 'evshort01', timed('short-lived', '2031-05-01T12:00:00Z', '2031-05-01T13:00:00Z'));
    await h.deleteEvent(EMAIL, 'evshort01');
    await enqueueEventSync(h.t.service.ctx, calRowId, { reason: 'notification' });
    await h.syncedAfter(calRowId, before.lastSyncedAt);
    const changes = sets.flatMap((s) => s.changes);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: 'cancelled', previous: null, event: { googleEventId: 'evshort01', status: 'cancelled' } });
  });
});

describe('410: the sync token is gone', () => {
  test('a full resync replaces the mirror; events deleted meanwhile are swept in the last transaction, never before', async () => {
    const before = await h.calendar(owner.ownerId, EMAIL);
    const generationBefore = Number((await h.sql`select sync_generation from calendars where id = ${calRowId}`)[0]!.sync_generation);
    await h.deleteEvent(EMAIL, eventId('evm', 3));
    await h.deleteEvent(EMAIL, eventId('evm', 4));
    await h.putEvent(EMAIL, eventId('evm', 5), timed('event 5 renamed', '2031-03-06T09:00:00+01:00', '2031-03-06T10:00:00+01:00'));
    await h.emuJson(`calendars/${encodeURIComponent(EMAIL)}/invalidate-sync-tokens`, {});
    const liveCount = (await h.liveEvents(EMAIL)).size;
    const mirrorCount = async () => Number((await h.sql`select count(*)::int as n from calendar_events where calendar_id = ${calRowId} and status <> 'cancelled'`)[0]!.n);
    expect(await mirrorCount()).toBe(liveCount + 2);
    sets.length = 0;
    calendarChanges.length = 0;
    const mark = await h.requestMark();

    // Readers sample the mirror while the recovery runs over several pages.
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await mirrorCount());
        await Bun.sleep(2);
      }
    })();
    await enqueueEventSync(h.t.service.ctx, calRowId, { reason: 'notification' });
    await h.syncedAfter(calRowId, before.lastSyncedAt);
    sampling = false;
    await sampler;

    await expectMirrorEqualsLive();
    // Never a half-emptied calendar: the count goes from before to after in one step.
    expect(samples.every((n) => n === liveCount + 2 || n === liveCount)).toBe(true);

    const calls = (await h.requests(mark, '/events')).filter((r) => r.method === 'GET');
    expect(calls[0]!.query.syncToken).toBeDefined();
    expect(calls[0]!.status).toBe(410);
    expect(calls.slice(1).every((r) => !r.query.syncToken)).toBe(true);
    expect(calls.length).toBe(1 + Math.ceil(liveCount / 7));

    const changes = sets.flatMap((s) => s.changes);
    expect(sets.every((s) => s.fullSync)).toBe(true);
    expect(changes.filter((c) => c.kind === 'cancelled').map((c) => c.event.googleEventId).sort()).toEqual([eventId('evm', 3), eventId('evm', 4)]);
    expect(changes.filter((c) => c.kind === 'updated').map((c) => c.event.googleEventId)).toEqual([eventId('evm', 5)]);
    // Unchanged events are re-marked, not reported.
    expect(changes.length).toBe(3);
    expect(calendarChanges.map((c) => c.kind)).toEqual(['fullSynced']);
    const after = await h.sql`select sync_generation from calendars where id = ${calRowId}`;
    expect(Number(after[0]!.sync_generation)).toBeGreaterThan(generationBefore);
    const stale = await h.sql`select count(*)::int as n from calendar_events where calendar_id = ${calRowId} and sync_generation <> ${after[0]!.sync_generation}`;
    expect(stale[0]!.n).toBe(0);
  });
});

describe('calendars.resync', () => {
  test('forgets the token: the next sync is a full one, and an unchanged calendar yields no event change', async () => {
    const before = await h.calendar(owner.ownerId, EMAIL);
    sets.length = 0;
    calendarChanges.length = 0;
    const mark = await h.requestMark();
    const r = await h.t.trpc('calendars.resync', { externalOwnerId: 'mirror-owner', calendarId: EMAIL });
    expect(r.status).toBe(200);
    expect(r.body.result?.data).toEqual({ queued: 1 });
    const after = await waitFor(async () => {
      const c = await h.calendar(owner.ownerId, EMAIL);
      return c.lastFullSyncAt && before.lastFullSyncAt && c.lastFullSyncAt > before.lastFullSyncAt ? c : undefined;
    }, { what: 'the full resync' });
    expect(after.hasSyncToken).toBe(true);
    const calls = (await h.requests(mark, '/events')).filter((r) => r.method === 'GET');
    expect(calls.every((c) => !c.query.syncToken)).toBe(true);
    expect(sets.flatMap((s) => s.changes)).toHaveLength(0);
    expect(calendarChanges.map((c) => c.kind)).toEqual(['fullSynced']);
    await expectMirrorEqualsLive();
  });

  test('errors: unknown owner, unknown calendar, bad input, no token', async () => {
    const noOwner = await h.t.trpc('calendars.resync', { externalOwnerId: 'nobody' });
    expect(noOwner.body.error?.data.code).toBe('NOT_FOUND');
    const noCal = await h.t.trpc('calendars.resync', { externalOwnerId: 'mirror-owner', calendarId: 'nope@example.com' });
    expect(noCal.body.error?.data.code).toBe('NOT_FOUND');
    const bad = await h.t.trpc('calendars.resync', { externalOwnerId: '' });
    expect(bad.body.error?.data.code).toBe('BAD_REQUEST');
    const anon = await h.t.trpc('calendars.resync', { externalOwnerId: 'mirror-owner' }, { token: null });
    expect(anon.status).toBe(401);
    const wrong = await h.t.trpc('calendars.resync', { externalOwnerId: 'mirror-owner' }, { token: 'not-the-service-token-000' });
    expect(wrong.status).toBe(401);
  });
});
