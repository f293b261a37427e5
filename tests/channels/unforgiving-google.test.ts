// calwatch against push as unreliable as Google says it may be, and against
// watches Google refuses. The emulator's push modes (POST /_emulator/push, docs/emulator.md) drop the
// first push of each channel, never retry a failed delivery, make a change listable only some time
// after its push, and refuse watches with 403/404. Each test makes the change through the emulator
// and waits for the mirror; the safety net under test is the only way the change can get there.
//
// The first two tests prove the silent-channel sweep works on a deployment where no other channel
// talks (it used to need others talking). The threshold is long (the 5-minute cron cannot sweep a
// calendar in the middle of another test); they move the service's clock past it instead of waiting.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { syncSilentCalendars } from '../../src/channels/index.ts';
import { findCalendar } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startChannelsHarness, timed, type ChannelsHarness } from './harness.ts';

const THRESHOLD_SECONDS = 120;
const RECHECK_SECONDS = 12;
const WATCH_RETRY_SECONDS = 2;

let h: ChannelsHarness;
const ctx = () => h.t.service.ctx;

// Between Google and the webhook, so that a test can make the receiver fail (as calwatch does with a
// 503 while its database is down) without breaking the service.
let target = '';
let refuseDeliveries = false;
const proxy = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url);
    if (refuseDeliveries) return Response.json({ detail: 'Service unavailable, retry later' }, { status: 503 });
    return fetch(`${target}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body: await req.arrayBuffer() });
  },
});

beforeAll(async () => {
  h = await startChannelsHarness('channels-unforgiving-google', {
    PUBLIC_URL: `http://127.0.0.1:${proxy.port}`,
    SYNC_SILENT_THRESHOLD_SECONDS: String(THRESHOLD_SECONDS),
    CHANNEL_PUSH_RECHECK_SECONDS: String(RECHECK_SECONDS),
    CHANNEL_WATCH_RETRY_SECONDS: String(WATCH_RETRY_SECONDS),
  });
  target = h.t.url;
}, 60_000);

afterAll(async () => {
  await h?.stop();
  proxy.stop(true);
}, 30_000);

const mirrored = async (calendarRowId: string, eventId: string) => (await h.mirrorRow(calendarRowId, eventId)) !== undefined;
const notificationsOf = async (channelId: string): Promise<Array<{ state: string; outcome: string; attempts: number; status: number | null }>> =>
  (await h.emuJson(`notifications?channelId=${channelId}`)).items;
const linksGet = async (externalOwnerId: string) =>
  (await h.t.trpc<{ calendars: Array<{ calendarId: string; freshness: { mode: string; reason: string | null } | null }> }>('links.get', { externalOwnerId })).body.result!.data;
const freshnessOf = async (externalOwnerId: string, calendarId: string) => (await linksGet(externalOwnerId)).calendars.find((c) => c.calendarId === calendarId)?.freshness;
/** Everything so far becomes older than the threshold: the definition of "silent". */
const pastThreshold = () => h.t.clock.advance(THRESHOLD_SECONDS * 1000 + 1000);

describe('item 5: pushes are not instantly consistent', () => {
  test('the first push of a channel is dropped: the silent sweep mirrors the change, with a single channel', async () => {
    await h.emuJson('push', { dropFirstPush: true });
    const owner = await h.linkOwner('first-lost@example.com');
    const channel = await h.activeChannel(owner.ownerId, owner.primary.id);
    await h.settledSyncJobs(owner.primary.id);
    await h.putEvent(owner.email, 'firstlost01', timed('Never announced', '2031-02-03T10:00:00Z', '2031-02-03T11:00:00Z'));
    await waitFor(async () => (await notificationsOf(channel.id)).some((n) => n.state === 'exists' && n.outcome === 'dropped'), { what: 'the first push dropped' });
    await h.emuJson('push', { dropFirstPush: false });

    pastThreshold();
    // No channel of this deployment talked within the threshold: the sweep must not need one that did.
    const swept = await syncSilentCalendars(ctx());
    expect(swept.silent).toBeGreaterThanOrEqual(1);
    await waitFor(() => mirrored(owner.primary.id, 'firstlost01'), { what: 'the unannounced change mirrored by the silent sweep' });
    // Synced just now: not swept again before another threshold.
    expect((await syncSilentCalendars(ctx())).silent).toBe(0);
  }, 60_000);

  test('no retries: a push the receiver answered 503 is never sent again; the silent sweep mirrors the change', async () => {
    const owner = await h.linkOwner('no-retry@example.com');
    const channel = await h.activeChannel(owner.ownerId, owner.primary.id);
    await h.settledSyncJobs(owner.primary.id);
    await h.emuJson('push', { retries: 0 });
    refuseDeliveries = true;
    try {
      await h.putEvent(owner.email, 'noretry0001', timed('Refused push', '2031-02-04T10:00:00Z', '2031-02-04T11:00:00Z'));
      const failed = await waitFor(
        async () => (await notificationsOf(channel.id)).find((n) => n.state === 'exists' && n.outcome === 'failed'),
        { what: 'the push failed' },
      );
      expect(failed).toMatchObject({ attempts: 1, status: 503 });
    } finally {
      refuseDeliveries = false;
      await h.emuJson('push', { retries: 3 });
    }
    expect(await mirrored(owner.primary.id, 'noretry0001')).toBe(false);

    pastThreshold();
    expect((await syncSilentCalendars(ctx())).silent).toBeGreaterThanOrEqual(1);
    await waitFor(() => mirrored(owner.primary.id, 'noretry0001'), { what: 'the change whose push failed mirrored by the silent sweep' });
  }, 60_000);

  test('a change listable only after its push: the push recheck mirrors it, with no further push', async () => {
    const owner = await h.linkOwner('late-list@example.com');
    const channel = await h.activeChannel(owner.ownerId, owner.primary.id);
    await h.settledSyncJobs(owner.primary.id);
    // Listable well after the push-triggered sync (milliseconds), well before the recheck.
    await h.emuJson('push', { listableDelayMs: 8000 });
    try {
      await h.putEvent(owner.email, 'latelist001', timed('Listed late', '2031-02-05T10:00:00Z', '2031-02-05T11:00:00Z'));
    } finally {
      await h.emuJson('push', { listableDelayMs: 0 });
    }
    await waitFor(async () => (await notificationsOf(channel.id)).some((n) => n.state === 'exists' && n.outcome === 'delivered'), { what: 'the push delivered' });
    // No silent sweep here: only the recheck can bring it.
    await waitFor(() => mirrored(owner.primary.id, 'latelist001'), { what: 'the late change mirrored by the recheck', timeoutMs: 40_000 });
    const rechecks = await h.sql`select output from pgboss.job where name = 'channels.pushRecheck' and singleton_key = ${owner.primary.id} and state = 'completed'`;
    expect(rechecks.map((r) => r.output.outcome)).toContain('queued');
    const [sync] = await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${owner.primary.id} and data->>'reason' = 'pushRecheck'`;
    expect(sync!.n).toBe(1);
    expect((await notificationsOf(channel.id)).filter((n) => n.state === 'exists')).toHaveLength(1);
  }, 60_000);

  test('a push whose sync found the change costs no recheck sync', async () => {
    const owner = await h.linkOwner('on-time@example.com');
    await h.activeChannel(owner.ownerId, owner.primary.id);
    await h.settledSyncJobs(owner.primary.id);
    await h.putEvent(owner.email, 'ontime00001', timed('On time', '2031-02-06T10:00:00Z', '2031-02-06T11:00:00Z'));
    await waitFor(() => mirrored(owner.primary.id, 'ontime00001'), { what: 'the change mirrored through its push' });
    const recheck = await waitFor(async () => {
      const [r] = await h.sql`select output from pgboss.job where name = 'channels.pushRecheck' and singleton_key = ${owner.primary.id} and state = 'completed'`;
      return r;
    }, { what: 'the recheck ran', timeoutMs: 40_000 });
    expect(recheck.output.outcome).toBe('found');
    const [sync] = await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${owner.primary.id} and data->>'reason' = 'pushRecheck'`;
    expect(sync!.n).toBe(0);
  }, 60_000);
});

describe('item 6: the gap between the first full sync and the watch', () => {
  test('a change made after the first full sync and before the watch is mirrored by the sync that follows the watch', async () => {
    // The watch is held off with rate limits (retried by the client, then by pg-boss) while the
    // change is made; nobody will ever push it.
    await h.emuJson('faults', { status: 429, paths: '/events/watch', count: 1000 });
    let owner;
    try {
      owner = await h.linkOwner('gap@example.com', { waitChannel: false });
      await waitFor(async () => {
        const r = await h.emuJson('requests?path=/events/watch');
        return r.items.some((i: { status: number; path: string }) => i.status === 429 && decodeURIComponent(i.path).includes('gap@example.com'));
      }, { what: 'a watch refused after the first full sync' });
      // Everything else the link started is done (the calendar list's channel and syncs, which may
      // sync the calendar once more): from now on only the sync after the watch can list the change.
      await h.activeChannel(owner.ownerId, null);
      await waitFor(async () => {
        const [r] = await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.calendarList' and singleton_key = ${owner!.ownerId} and state in ('created', 'retry', 'active')`;
        return r!.n === 0;
      }, { what: 'calendar-list syncs settled' });
      await h.settledSyncJobs(owner.primary.id);
      await h.putEvent(owner.email, 'gapchange01', timed('In the gap', '2031-02-07T10:00:00Z', '2031-02-07T11:00:00Z'));
    } finally {
      await h.emuJson('faults', { count: 0 });
    }
    await waitFor(async () => (await h.channelRows({ calendarRowId: owner!.primary.id })).some((r) => r.status === 'active'), { what: 'the watch made at last', timeoutMs: 60_000 });
    await waitFor(() => mirrored(owner.primary.id, 'gapchange01'), { what: 'the change in the gap mirrored', timeoutMs: 30_000 });
    const [watched] = await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${owner.primary.id} and data->>'reason' = 'watched'`;
    expect(watched!.n).toBe(1);
  }, 90_000);
});

describe('item 7: a refused watch is not poll-only for good', () => {
  test('a watch refused with 403 is retried on a backoff, the calendar polled meanwhile; links.get says which', async () => {
    await h.emuJson('push', { refuseWatches: { status: 403, count: 1000, calendarId: 'refused@example.com' } });
    let owner;
    try {
      owner = await h.linkOwner('refused@example.com', { waitChannel: false });
      const refusals = async () =>
        ((await h.emuJson('requests?path=/events/watch')).items as Array<{ status: number; path: string }>)
          .filter((i) => i.status === 403 && decodeURIComponent(i.path).includes('refused@example.com'));
      await waitFor(async () => (await refusals()).length >= 1, { what: 'the first refusal' });
      // Not marked poll-only for good; polled as an unwatched calendar meanwhile.
      expect((await findCalendar(ctx(), owner.ownerId, 'primary'))!.pollOnly).toBe(false);
      expect(await freshnessOf(owner.externalOwnerId, owner.email)).toEqual({ mode: 'polling', reason: 'watchRefused' });
      // Tried again on its own.
      await waitFor(async () => (await refusals()).length >= 2, { what: 'the watch tried again', timeoutMs: 30_000 });
    } finally {
      await h.emuJson('push', { refuseWatches: null });
    }
    await waitFor(async () => (await freshnessOf(owner!.externalOwnerId, owner!.email))?.mode === 'push', { what: 'links.get showing push', timeoutMs: 60_000 });
    expect(await freshnessOf(owner.externalOwnerId, owner.email)).toEqual({ mode: 'push', reason: null });
  }, 90_000);

  test('a calendar Google never pushes stays polled, without a retry, and links.get says why', async () => {
    const owner = await h.linkOwner('holiday-owner@example.com');
    const calId = 'holidays-unforgiving@group.v.calendar.google.com';
    await h.emuJson('calendars', { owner: owner.email, id: calId, summary: 'Holidays', pushNotSupported: true });
    await waitFor(() => findCalendar(ctx(), owner.ownerId, calId), { what: 'the holiday calendar listed', timeoutMs: 30_000 }).catch(async () => {
      // The calendar list channel announces it; a manual list sync if that push is late.
      await h.t.trpc('calendars.resync', { externalOwnerId: owner.externalOwnerId });
      return waitFor(() => findCalendar(ctx(), owner.ownerId, calId), { what: 'the holiday calendar listed' });
    });
    expect((await h.t.trpc('calendars.setSelected', { externalOwnerId: owner.externalOwnerId, calendarId: calId, selected: true })).status).toBe(200);
    const cal = await waitFor(async () => {
      const c = await findCalendar(ctx(), owner.ownerId, calId);
      return c?.pollOnly ? c : undefined;
    }, { what: 'the calendar marked poll-only' });
    expect(await freshnessOf(owner.externalOwnerId, calId)).toEqual({ mode: 'polling', reason: 'pushNotSupported' });
    expect(await freshnessOf(owner.externalOwnerId, owner.email)).toEqual({ mode: 'push', reason: null });
    const jobs = await waitFor(async () => {
      const rows = await h.sql`select state, output from pgboss.job where name = 'channels.create' and singleton_key = ${`events:${cal.id}`}`;
      return rows.length > 0 && rows.every((j) => j.state === 'completed') ? rows : undefined;
    }, { what: 'the creation job finished, none queued' });
    expect(jobs.map((j) => j.output.outcome)).toEqual(['poll-only']);
  }, 60_000);
});
