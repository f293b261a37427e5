// POST /webhooks/google/calendar against the real service, the emulator and a real database: a change
// in Google reaches the mirror through a real push; and the errors and attacks: missing or malformed
// headers, forged or missing tokens, a resource that is not the channel's, replays, unknown channels,
// two service instances racing on one message. GOOGLE_WEBHOOK_TOKEN is set here, so the suite can
// speak as Google does (the per-channel random token is covered in lifecycle.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { drainSyncRequests, drainSyncRequestsJob } from '../../src/channels/index.ts';
import { runtimeFor } from '../../src/channels/runtime.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import { startChannelsHarness, timed, type ChannelsHarness } from './harness.ts';

const WEBHOOK_TOKEN = 'shared-webhook-token-for-tests-0123';
let h: ChannelsHarness;
let owner: Awaited<ReturnType<ChannelsHarness['linkOwner']>>;
let channel: any;

beforeAll(async () => {
  h = await startChannelsHarness('channels-webhook', { GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN });
  owner = await h.linkOwner('web@example.com');
  channel = await h.activeChannel(owner.ownerId, owner.primary.id);
}, 60_000);
afterAll(() => h?.stop(), 30_000);

/** Headers as Google sends them for our channel; override any (undefined removes it). */
const headers = (over: Record<string, string | undefined> = {}) => ({
  'X-Goog-Channel-ID': channel.id as string,
  'X-Goog-Channel-Token': WEBHOOK_TOKEN,
  'X-Goog-Channel-Expiration': 'Tue, 25 Jan 2030 19:22:58 GMT',
  'X-Goog-Resource-ID': channel.resource_id as string,
  'X-Goog-Resource-URI': channel.resource_uri as string,
  'X-Goog-Resource-State': 'exists',
  'X-Goog-Message-Number': '1',
  'User-Agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
  ...over,
});

const row = async () => (await h.sql`select * from channels where id = ${channel.id}`)[0]!;
const nextNumber = async () => String(Number((await row()).last_message_number) + 10);
async function metric(state: string, outcome: string): Promise<number> {
  const text = await (await fetch(`${h.t.url}/metrics`)).text();
  const m = text.match(new RegExp(`calwatch_notifications_total\\{state="${state}",outcome="${outcome}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}
/** The webhook's outbox handed to the sync (drained right after each note). */
const outboxDrained = () =>
  waitFor(async () => (await h.sql`select count(*)::int as n from channel_sync_requests`)[0]!.n === 0, { what: 'outbox drained' });
/** Waits until the primary calendar's sync jobs number `n`. */
const syncJobsReach = (n: number) => waitFor(async () => (await h.syncJobs(owner.primary.id)) === n, { what: `${n} sync jobs` });
/** Sync jobs queued or running for the primary calendar, waited to be none. */
const syncIdle = () =>
  waitFor(async () => {
    const [r] = await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${owner.primary.id} and state in ('created', 'retry', 'active')`;
    return r!.n === 0;
  }, { what: 'sync queue idle' });

describe('happy path', () => {
  test('the channel was created with our address, a token, the TTL, and only the token hash stored', async () => {
    const emu = (await h.emuChannels()).find((c) => c.id === channel.id)!;
    expect(emu).toBeDefined();
    expect(emu.address).toBe(`${h.t.url}/webhooks/google/calendar`);
    expect(emu.tokenSet).toBe(true);
    expect(emu.resource).toBe('events:web@example.com');
    expect(channel.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(channel.resource_id).toBe(emu.resourceId);
    expect(channel.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await h.sql`select * from channels`)).not.toContain(WEBHOOK_TOKEN);
    // Default TTL asked (604800 s): the emulator grants it.
    expect(new Date(channel.expires_at).getTime()).toBe(Number(emu.expiration));
    expect(Number(emu.expiration) - Date.now()).toBeGreaterThan(6 * 86400_000);
    // The owner's calendar list is watched too.
    const list = await h.activeChannel(owner.ownerId, null);
    expect((await h.emuChannels()).find((c) => c.id === list.id)?.resource).toBe('calendarList:web@example.com');
  });

  test("Google's sync message confirmed the channel", async () => {
    await waitFor(async () => (await row()).confirmed_at, { what: 'confirmed_at' });
  });

  test('a change in Google reaches the mirror through a real push, answered 204', async () => {
    const before = Number((await row()).notifications_count);
    await h.putEvent(owner.email, 'pushed0001', timed('Pushed', '2030-03-01T10:00:00Z', '2030-03-01T11:00:00Z'));
    const mirrored = await waitFor(() => h.mirrorRow(owner.primary.id, 'pushed0001'), { what: 'the pushed event in the mirror' });
    expect(mirrored.summary).toBe('Pushed');
    const r = await row();
    expect(Number(r.notifications_count)).toBeGreaterThan(before);
    expect(r.last_notified_at).toBeInstanceOf(Date);
    const delivered = (await h.emuJson(`notifications?channelId=${channel.id}`)).items.filter((n: any) => n.state === 'exists');
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((n: any) => n.outcome === 'delivered' && n.status === 204)).toBe(true);
  });

  test('a new message number enqueues one coalesced sync and advances the number', async () => {
    await syncIdle();
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const n = await nextNumber();
    const res = await h.post(headers({ 'X-Goog-Message-Number': n }));
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(Number((await row()).last_message_number)).toBe(Number(n));
    await syncJobsReach(jobs + 1);
    await outboxDrained();
  });

  test('`update` counts as `exists`; `not_exists` too', async () => {
    for (const state of ['update', 'not_exists']) {
      await syncIdle();
      const jobs = await h.settledSyncJobs(owner.primary.id);
      const res = await h.post(headers({ 'X-Goog-Resource-State': state, 'X-Goog-Message-Number': await nextNumber() }));
      expect(res.status).toBe(204);
      await syncJobsReach(jobs + 1);
    }
  });

  test('`sync` answers 204 and enqueues nothing', async () => {
    await syncIdle();
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const res = await h.post(headers({ 'X-Goog-Resource-State': 'sync', 'X-Goog-Message-Number': '1' }));
    expect(res.status).toBe(204);
    await outboxDrained();
    expect(await h.syncJobs(owner.primary.id)).toBe(jobs);
  });

  test('a burst of notifications on one calendar collapses into at most two syncs', async () => {
    await syncIdle();
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const base = Number((await row()).last_message_number);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => h.post(headers({ 'X-Goog-Message-Number': String(base + 1 + i) }))));
    expect(answers.every((a) => a.status === 204)).toBe(true);
    expect(Number((await row()).last_message_number)).toBe(base + 50);
    await outboxDrained();
    const added = (await h.syncJobs(owner.primary.id)) - jobs;
    expect(added).toBeGreaterThanOrEqual(1);
    expect(added).toBeLessThanOrEqual(2);
  });
});

describe('errors: 400 on missing or malformed headers', () => {
  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['no channel id', { 'X-Goog-Channel-ID': undefined }, /Missing X-Goog-Channel-ID/],
    ['no resource id', { 'X-Goog-Resource-ID': undefined }, /Missing X-Goog-Resource-ID/],
    ['no resource state', { 'X-Goog-Resource-State': undefined }, /Missing X-Goog-Resource-State/],
    ['an unknown resource state', { 'X-Goog-Resource-State': 'deleted' }, /Malformed X-Goog-Resource-State/],
    ['a message number that is not an integer', { 'X-Goog-Message-Number': '12abc' }, /Malformed X-Goog-Message-Number/],
    ['a negative message number', { 'X-Goog-Message-Number': '-3' }, /Malformed X-Goog-Message-Number/],
    ['a message number too large to be exact', { 'X-Goog-Message-Number': '99999999999999999999' }, /Malformed X-Goog-Message-Number/],
    ['a channel id with characters Google never uses', { 'X-Goog-Channel-ID': 'abc def' }, /Malformed X-Goog-Channel-ID/],
    ['a channel id longer than 64 characters', { 'X-Goog-Channel-ID': 'a'.repeat(65) }, /Malformed X-Goog-Channel-ID/],
    ['an empty resource id', { 'X-Goog-Resource-ID': '' }, /X-Goog-Resource-ID/],
    ['an oversized token', { 'X-Goog-Channel-Token': 'x'.repeat(300) }, /Malformed X-Goog-Channel-Token/],
  ];
  for (const [what, over, detail] of cases) {
    test(what, async () => {
      const jobs = await h.settledSyncJobs(owner.primary.id);
      const res = await h.post(headers({ ...over, 'X-Goog-Message-Number': over['X-Goog-Message-Number'] ?? (await nextNumber()) }));
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(detail);
      expect(await h.syncJobs(owner.primary.id)).toBe(jobs);
    });
  }
});

describe('attacks', () => {
  test('a forged token: 401 Invalid token, nothing noted, no sync', async () => {
    await outboxDrained();
    await syncIdle();
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const before = await row();
    const n = await nextNumber();
    const res = await h.post(headers({ 'X-Goog-Channel-Token': 'forged-token', 'X-Goog-Message-Number': n }));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Invalid token' });
    const after = await row();
    expect(after.last_message_number).toBe(before.last_message_number);
    expect(after.notifications_count).toBe(before.notifications_count);
    expect((await h.sql`select count(*)::int as n from channel_sync_requests`)[0]!.n).toBe(0);
    await outboxDrained();
    expect(await h.syncJobs(owner.primary.id)).toBe(jobs);
    // The real token still works with that very number: the forgery did not burn it.
    expect((await h.post(headers({ 'X-Goog-Message-Number': n }))).status).toBe(204);
  });

  test('a missing token: 401', async () => {
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const res = await h.post(headers({ 'X-Goog-Channel-Token': undefined, 'X-Goog-Message-Number': await nextNumber() }));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Invalid token' });
    expect(await h.syncJobs(owner.primary.id)).toBe(jobs);
  });

  test('a token that differs only in case or by a prefix: 401', async () => {
    for (const token of [WEBHOOK_TOKEN.toUpperCase(), WEBHOOK_TOKEN.slice(0, -1), `${WEBHOOK_TOKEN}x`, '']) {
      const res = await h.post(headers({ 'X-Goog-Channel-Token': token, 'X-Goog-Message-Number': await nextNumber() }));
      expect(res.status).toBe(401);
    }
  });

  test("the right token with another resource's id: 401, no sync", async () => {
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const res = await h.post(headers({ 'X-Goog-Resource-ID': 'someone-elses-resource', 'X-Goog-Message-Number': await nextNumber() }));
    expect(res.status).toBe(401);
    expect(await h.syncJobs(owner.primary.id)).toBe(jobs);
  });

  test('a replayed message number: 204 and nothing more', async () => {
    await syncIdle();
    const n = await nextNumber();
    expect((await h.post(headers({ 'X-Goog-Message-Number': n }))).status).toBe(204);
    await outboxDrained();
    await syncIdle();
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const before = await row();
    const dupes = await metric('exists', 'duplicate');
    for (const replay of [n, String(Number(n) - 1), '1']) {
      const res = await h.post(headers({ 'X-Goog-Message-Number': replay }));
      expect(res.status).toBe(204);
    }
    const after = await row();
    expect(after.last_message_number).toBe(before.last_message_number);
    expect(after.notifications_count).toBe(before.notifications_count);
    await outboxDrained();
    expect(await h.syncJobs(owner.primary.id)).toBe(jobs);
    expect(await metric('exists', 'duplicate')).toBe(dupes + 3);
  });

  test('an unknown channel: 204, counted, nothing enqueued', async () => {
    const unknown = await metric('exists', 'unknown');
    const jobsBefore = (await h.sql`select count(*)::int as n from pgboss.job where name like 'sync.%'`)[0]!.n;
    for (const id of [crypto.randomUUID(), 'not-one-of-ours', channel.id.toUpperCase().replace(/[0-9A-F]$/, (c: string) => (c === '0' ? '1' : '0'))]) {
      const res = await h.post(headers({ 'X-Goog-Channel-ID': id, 'X-Goog-Message-Number': await nextNumber() }));
      expect(res.status).toBe(204);
    }
    expect(await metric('exists', 'unknown')).toBe(unknown + 3);
    expect((await h.sql`select count(*)::int as n from pgboss.job where name like 'sync.%'`)[0]!.n).toBe(jobsBefore);
  });

  test('two service instances on one database never both accept the same message', async () => {
    const second: TestService = await startTestService({
      name: 'channels-webhook-second',
      emulatorUrl: h.emu.url,
      database: h.t.database as never,
      env: { GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN },
      skipStartHooks: true,
    });
    try {
      for (let round = 0; round < 5; round++) {
        const before = await row();
        const n = String(Number(before.last_message_number) + 7);
        const posts = Array.from({ length: 10 }, (_, i) =>
          fetch(`${i % 2 ? second.url : h.t.url}/webhooks/google/calendar`, { method: 'POST', headers: headers({ 'X-Goog-Message-Number': n }) }),
        );
        const statuses = (await Promise.all(posts)).map((r) => r.status);
        expect(statuses).toEqual(Array(10).fill(204));
        const after = await row();
        expect(Number(after.last_message_number)).toBe(Number(n));
        // Ten deliveries of one message, one accepted.
        expect(Number(after.notifications_count)).toBe(Number(before.notifications_count) + 1);
      }
    } finally {
      await second.service.stop();
    }
  });

  test('a sync request left in the outbox by a process that died before draining it is drained by the cron job', async () => {
    await outboxDrained();
    await syncIdle();
    const jobs = await h.settledSyncJobs(owner.primary.id);
    const at = new Date(Date.now() - 5000);
    await h.sql`insert into channel_sync_requests (resource_key, owner_id, calendar_id, kind, notified_at)
      values (${`events:${owner.primary.id}`}, ${owner.ownerId}, ${owner.primary.id}, 'events', ${at})`;
    await drainSyncRequestsJob.send(h.t.service.ctx, {});
    await outboxDrained();
    await syncJobsReach(jobs + 1);
    const [job] = await h.sql`select data from pgboss.job where name = 'sync.events' and singleton_key = ${owner.primary.id} order by created_on desc limit 1`;
    expect(job!.data).toMatchObject({ reason: 'notification', notifiedAt: at.toISOString() });
  });

  test('the note is the same statement inside a transaction (drizzle) as on the pool (prepared)', async () => {
    const { noteNotifications } = await import('../../src/channels/queries.ts');
    // As this service's webhook notes: the row is held by this process, which drains it.
    const holder = runtimeFor(h.t.service.ctx).holds.holder;
    const n = Number(await nextNumber());
    const at = new Date();
    const noted = await h.t.service.ctx.db.transaction((tx) => noteNotifications(tx, [{ id: channel.id, n, force: false, count: 1, at }], holder));
    expect(noted).toEqual([
      { id: channel.id, ownerId: owner.ownerId, calendarId: owner.primary.id, kind: 'events', resourceKey: `events:${owner.primary.id}`, lastMessageNumber: n, held: true, deferredMs: 0 },
    ]);
    // Not above the last number any more: nothing noted, on either path.
    expect(await h.t.service.ctx.db.transaction((tx) => noteNotifications(tx, [{ id: channel.id, n, force: false, count: 1, at }], holder))).toEqual([]);
    expect(await noteNotifications(h.t.service.ctx.db, [{ id: channel.id, n, force: false, count: 1, at }], holder)).toEqual([]);
    // Called directly, the note's outbox row waits for a drain (the webhook asks for one itself).
    expect((await h.sql`select count(*)::int as n from channel_sync_requests`)[0]!.n).toBe(1);
    expect(await drainSyncRequests(h.t.service.ctx)).toBe(1);
    await outboxDrained();
  });

  test('metrics count notifications by state and outcome', async () => {
    const text = await (await fetch(`${h.t.url}/metrics`)).text();
    expect(text).toMatch(/calwatch_notifications_total\{state="exists",outcome="accepted"\} [1-9]/);
    expect(text).toMatch(/calwatch_notifications_total\{state="sync",outcome="confirmed"\} [1-9]/);
    expect(text).toMatch(/calwatch_notifications_total\{state="exists",outcome="invalid_token"\} [1-9]/);
    expect(text).toMatch(/calwatch_notifications_total\{state="invalid",outcome="bad_request"\} [1-9]/);
  });
});
