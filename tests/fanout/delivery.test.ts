// Deliveries of mirror changes, with change sets handed to fan-out inside a transaction as sync
// does: signed bodies the receiver verifies, retries (receiver down, 5xx, 429 Retry-After,
// timeouts), order per calendar, dead at once on 4xx, no redirects, replay through the admin API.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;
let bob: { ownerId: string; externalOwnerId: string; email: string };

beforeAll(async () => {
  h = await startFanoutHarness('fanout-delivery');
  const o = await h.linkOwner('dl-bob');
  bob = { ...o, externalOwnerId: 'dl-bob' };
}, 60_000);
afterAll(() => h?.stop(), 30_000);

const statusOf = async (id: string) => (await h.sql`select * from deliveries where id = ${id}`)[0]!;
const settled = (subId: string, n: number) =>
  waitFor(async () => {
    const rows = await h.deliveries(subId);
    return rows.length === n && rows.every((r) => r.status !== 'pending') ? rows : undefined;
  }, { what: `${n} settled deliveries`, timeoutMs: 20_000 });

describe('a delivery', () => {
  test('carries the type, owner, calendar, the mirror row and the changed fields, signed per Standard Webhooks', async () => {
    const sub = await h.subscribe('/shape', { externalOwnerId: 'dl-bob' });
    const before = mirrorEvent(bob, 'cal-shape@example.com', { summary: 'Standup' });
    const after = {
      ...before,
      summary: 'Standup (moved)',
      startAt: new Date(before.startAt!.getTime() + 3600_000),
      endAt: new Date(before.endAt!.getTime() + 3600_000),
      etag: '"x2"',
      updated: new Date(),
    };
    const cancelled = { ...after, status: 'cancelled' };
    await h.applyChanges(
      changeSet(bob, 'cal-shape@example.com', [
        { kind: 'created', event: before },
        { kind: 'updated', event: after, previous: before },
        { kind: 'cancelled', event: cancelled, previous: after },
      ]),
    );
    await waitFor(() => h.rx.ok('/shape').length === 3, { what: 'three deliveries' });
    const got = h.rx.ok('/shape');
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got.map((r) => r.body.type)).toEqual(['event.created', 'event.updated', 'event.cancelled']);
    const [created, updated] = got;
    expect(created!.body).toMatchObject({
      type: 'event.created',
      ownerId: bob.ownerId,
      externalOwnerId: 'dl-bob',
      calendarId: 'cal-shape@example.com',
      data: {
        googleEventId: before.googleEventId,
        calendarId: 'cal-shape@example.com',
        status: 'confirmed',
        summary: 'Standup',
        start: before.startAt!.toISOString(),
        end: before.endAt!.toISOString(),
        allDay: false,
        attendees: [{ email: 'boss@example.com', responseStatus: 'accepted', organizer: true }],
      },
    });
    expect(created!.body.changed).toBeUndefined();
    expect(created!.body.data.raw).toBeUndefined();
    expect(Date.parse(created!.body.occurredAt)).toBeGreaterThan(0);
    expect(updated!.body.changed).toEqual(['summary', 'start', 'end']);
    expect(updated!.body.data.summary).toBe('Standup (moved)');
    const rows = await settled(sub.id, 3);
    expect(rows.map((r) => r.id)).toEqual(got.map((r) => r.webhookId));
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    expect(Math.abs(Number(created!.timestamp) * 1000 - created!.at)).toBeLessThan(5000);
    const metrics = await (await fetch(`${h.t.url}/metrics`)).text();
    expect(metrics).toMatch(/calwatch_fanout_attempts_total\{outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(/calwatch_fanout_delivery_lag_seconds_count [1-9]/);
  });

  test('only to matching subscriptions: owner, calendar and type filters', async () => {
    const carol = { ...(await h.linkOwner('dl-carol')), externalOwnerId: 'dl-carol' };
    await h.subscribe('/f-carol', { externalOwnerId: 'dl-carol' });
    await h.subscribe('/f-cal', { externalOwnerId: 'dl-carol', calendarId: 'cal-b@example.com' });
    await h.subscribe('/f-type', { types: ['event.cancelled'] });
    const ev = mirrorEvent(carol, 'cal-a@example.com');
    await h.applyChanges(changeSet(carol, 'cal-a@example.com', [{ kind: 'created', event: ev }]));
    await h.applyChanges(changeSet(carol, 'cal-b@example.com', [{ kind: 'cancelled', event: { ...ev, calendarId: 'cal-b@example.com', status: 'cancelled' }, previous: null }]));
    await waitFor(() => h.rx.ok('/f-carol').length === 2 && h.rx.ok('/f-cal').length === 1 && h.rx.ok('/f-type').length >= 1, { what: 'filtered deliveries' });
    expect(h.rx.ok('/f-cal')[0]!.body.type).toBe('event.cancelled');
    // no owner filter: every owner's cancellations, also bob's from the first test? only those after it subscribed
    expect(h.rx.ok('/f-type').every((r) => r.body.type === 'event.cancelled')).toBe(true);
    // bob's subscription saw nothing of carol
    expect(h.rx.ok('/shape').some((r) => r.body.ownerId === carol.ownerId)).toBe(false);
  });

  test('nothing is enqueued when the transaction rolls back', async () => {
    const sub = await h.subscribe('/rollback', { externalOwnerId: 'dl-bob' });
    const { enqueueMessages } = await import('../../src/fanout/publish.ts');
    const { messagesFromChangeSet } = await import('../../src/fanout/messages.ts');
    const ctx = h.t.service.ctx;
    await expect(
      ctx.db.transaction(async (tx) => {
        await enqueueMessages(tx, ctx, messagesFromChangeSet(changeSet(bob, 'cal-rb', [{ kind: 'created', event: mirrorEvent(bob, 'cal-rb') }])));
        throw new Error('sync failed after the fan-out handler');
      }),
    ).rejects.toThrow('sync failed');
    expect(await h.deliveries(sub.id)).toEqual([]);
    const [jobs] = await h.sql`select count(*)::int as n from pgboss.job where name = 'fanout.deliver' and data->>'deliveryId' not in (select id::text from deliveries)`;
    expect(jobs!.n).toBe(0);
  });
});

describe('retries and order', () => {
  test('receiver down then up: every delivery arrives, in order per calendar, the same webhook-id on each attempt', async () => {
    const sub = await h.subscribe('/down', { externalOwnerId: 'dl-bob' });
    await h.rx.down();
    const upAgain = setTimeout(() => h.rx.up(), 8000); // never leave it down for the tests after this one
    const cals = ['cal-1@example.com', 'cal-2@example.com'];
    const sent: Record<string, string[]> = { [cals[0]!]: [], [cals[1]!]: [] };
    for (let batch = 0; batch < 4; batch++) {
      for (const cal of cals) {
        const changes = Array.from({ length: 5 }, () => {
          const e = mirrorEvent(bob, cal);
          sent[cal]!.push(e.googleEventId);
          return { kind: 'created' as const, event: e };
        });
        await h.applyChanges(changeSet(bob, cal, changes));
      }
    }
    // The head of each calendar's stream fails while the receiver is down.
    await waitFor(async () => (await h.deliveries(sub.id)).filter((d) => d.attempts >= 1).length >= 2, { what: 'failed first attempts' });
    const failing = (await h.deliveries(sub.id)).filter((d) => d.attempts >= 1);
    expect(failing.every((d) => d.status === 'pending' && d.last_error && d.next_attempt_at)).toBe(true);
    // Nothing behind a failing head has been tried: one attempted delivery per calendar, its first.
    h.rx.up();
    expect(failing.length).toBe(2);
    expect(failing.map((d) => JSON.parse(d.body).data.googleEventId).sort()).toEqual([sent[cals[0]!]![0], sent[cals[1]!]![0]].sort());
    await waitFor(() => h.rx.ok('/down').length >= 40, { what: '40 deliveries', timeoutMs: 20_000 });
    const got = h.rx.ok('/down');
    expect(got.every((r) => r.verified)).toBe(true);
    expect(new Set(got.map((r) => r.webhookId)).size).toBe(40);
    for (const cal of cals) {
      expect(got.filter((r) => r.body.calendarId === cal).map((r) => r.body.data.googleEventId)).toEqual(sent[cal]!);
    }
    const rows = await settled(sub.id, 40);
    expect(rows.every((r) => r.status === 'delivered')).toBe(true);
    const sub0 = (await h.sql`select * from subscriptions where id = ${sub.id}`)[0]!;
    expect(sub0.failing_since).toBeNull();
    expect(sub0.last_success_at).toBeInstanceOf(Date);
    clearTimeout(upAgain);
  }, 30_000);

  test('5xx then success: retried with the same webhook-id and body; later ones wait their turn', async () => {
    const sub = await h.subscribe('/flaky', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/flaky', (_r, n) => new Response('busy', { status: n <= 2 ? 503 : 200 }));
    const a = mirrorEvent(bob, 'cal-flaky');
    const b = mirrorEvent(bob, 'cal-flaky');
    await h.applyChanges(changeSet(bob, 'cal-flaky', [{ kind: 'created', event: a }]));
    await h.applyChanges(changeSet(bob, 'cal-flaky', [{ kind: 'created', event: b }]));
    await waitFor(() => h.rx.ok('/flaky').length === 2, { what: 'two deliveries' });
    const all = h.rx.all('/flaky');
    expect(all.map((r) => r.status)).toEqual([503, 503, 200, 200]);
    expect(all[0]!.webhookId).toBe(all[2]!.webhookId);
    expect(all[0]!.raw).toBe(all[2]!.raw);
    expect(all.map((r) => r.body.data.googleEventId)).toEqual([a.googleEventId, a.googleEventId, a.googleEventId, b.googleEventId]);
    const [first] = await settled(sub.id, 2);
    expect(first).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200 });
  }, 20_000);

  test('429 with Retry-After: the next attempt waits at least that long', async () => {
    await h.subscribe('/429', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/429', (_r, n) => (n === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '2' } }) : new Response(null, { status: 204 })));
    await h.applyChanges(changeSet(bob, 'cal-429', [{ kind: 'created', event: mirrorEvent(bob, 'cal-429') }]));
    await waitFor(() => h.rx.ok('/429').length === 1, { what: 'the retried delivery', timeoutMs: 10_000 });
    const [first, second] = h.rx.all('/429');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
  }, 15_000);

  test('a receiver slower than the timeout counts as a failure and is retried', async () => {
    await h.subscribe('/slow', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/slow', async (_r, n) => {
      if (n === 1) await Bun.sleep(2500); // FANOUT_TIMEOUT_MS is 1500 here
      return new Response(null, { status: 200 });
    });
    const started = Date.now();
    await h.applyChanges(changeSet(bob, 'cal-slow', [{ kind: 'created', event: mirrorEvent(bob, 'cal-slow') }]));
    await waitFor(() => h.rx.all('/slow').length === 2, { what: 'the retry after the timeout', timeoutMs: 10_000 });
    const [d] = await h.sql`select d.* from deliveries d join subscriptions s on s.id = d.subscription_id where s.url = ${h.rx.url('/slow')}`;
    await waitFor(async () => (await statusOf(d!.id)).status === 'delivered', { what: 'delivered' });
    expect((await statusOf(d!.id)).attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThan(1400);
  }, 15_000);
});

describe('dead at once', () => {
  test.each([410, 400])('%i: one attempt, dead, and the next delivery of the calendar still arrives', async (status) => {
    const path = `/dead-${status}`;
    const sub = await h.subscribe(path, { externalOwnerId: 'dl-bob' });
    h.rx.respond(path, (r) => (r.body.data.summary === 'refused' ? new Response('no', { status }) : new Response(null, { status: 204 })));
    await h.applyChanges(
      changeSet(bob, `cal-${status}`, [
        { kind: 'created', event: mirrorEvent(bob, `cal-${status}`, { summary: 'refused' }) },
        { kind: 'created', event: mirrorEvent(bob, `cal-${status}`, { summary: 'accepted' }) },
      ]),
    );
    const rows = await settled(sub.id, 2);
    expect(rows[0]).toMatchObject({ status: 'dead', attempts: 1, last_status: status });
    expect(rows[1]).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(h.rx.all(path).length).toBe(2);
  });

  test('refused while a predecessor drains the stream: its own job tries again, then it is dead', async () => {
    const sub = await h.subscribe('/drain-410', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/drain-410', (r) => (r.body.data.summary === 'refused' ? new Response('no', { status: 410 }) : new Response(null, { status: 204 })));
    await h.applyChanges(
      changeSet(bob, 'cal-d410', [
        { kind: 'created', event: mirrorEvent(bob, 'cal-d410', { summary: 'accepted' }) },
        { kind: 'created', event: mirrorEvent(bob, 'cal-d410', { summary: 'refused' }) },
        { kind: 'created', event: mirrorEvent(bob, 'cal-d410', { summary: 'accepted too' }) },
      ]),
    );
    const rows = await settled(sub.id, 3);
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'dead', 'delivered']);
    expect(rows[1]).toMatchObject({ attempts: 1, last_status: 410 });
    expect(h.rx.all('/drain-410').map((r) => r.body.data.summary)).toEqual(['accepted', 'refused', 'refused', 'accepted too']);
  });

  test('a redirect is not followed: dead, and its target never called', async () => {
    const sub = await h.subscribe('/redirect', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/redirect', () => new Response(null, { status: 307, headers: { location: h.rx.url('/redirect-target') } }));
    await h.applyChanges(changeSet(bob, 'cal-307', [{ kind: 'created', event: mirrorEvent(bob, 'cal-307') }]));
    const [row] = await settled(sub.id, 1);
    expect(row).toMatchObject({ status: 'dead', last_status: 307 });
    expect(row!.last_error).toContain('not followed');
    expect(h.rx.all('/redirect-target')).toEqual([]);
  });

  test('a huge response body is not read whole', async () => {
    const sub = await h.subscribe('/huge', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/huge', () => new Response('x'.repeat(20 * 1024 * 1024), { status: 400 }));
    await h.applyChanges(changeSet(bob, 'cal-huge', [{ kind: 'created', event: mirrorEvent(bob, 'cal-huge') }]));
    const [row] = await settled(sub.id, 1);
    expect(row).toMatchObject({ status: 'dead', last_status: 400 });
    expect(row!.last_error.length).toBeLessThan(300);
  });
});

describe('admin: dead deliveries and replay', () => {
  const SUBS = `query($st: WebhookSubscriptionStatus) { subscriptions(status: $st, first: 100) { edges { node {
      id url status disabledReason failingSince
      deadDeliveries { id type status attempts lastStatus lastError deadAt }
      recentDeliveries(first: 5) { id status } } } } }`;
  const REPLAY = `mutation($id: ID!) { replayDelivery(id: $id) { id status attempts replays } }`;

  test('a dead delivery is listed with its error, and replayed with the same webhook-id', async () => {
    const sub = await h.subscribe('/replay', { externalOwnerId: 'dl-bob' });
    let accept = false;
    h.rx.respond('/replay', () => new Response(accept ? null : 'gone', { status: accept ? 204 : 410 }));
    await h.applyChanges(changeSet(bob, 'cal-replay', [{ kind: 'created', event: mirrorEvent(bob, 'cal-replay') }]));
    const [dead] = await settled(sub.id, 1);
    expect(dead!.status).toBe('dead');

    const q = await h.t.graphql<any>(SUBS, {});
    expect(q.status).toBe(200);
    expect(q.body.errors).toBeUndefined();
    const node = q.body.data.subscriptions.edges.map((e: any) => e.node).find((n: any) => n.id === sub.id);
    expect(node.deadDeliveries).toEqual([
      { id: dead!.id, type: 'event.created', status: 'DEAD', attempts: 1, lastStatus: 410, lastError: 'HTTP 410: gone', deadAt: expect.any(String) },
    ]);
    expect(node.recentDeliveries[0].id).toBe(dead!.id);

    accept = true;
    const r = await h.t.graphql<any>(REPLAY, { id: dead!.id });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.replayDelivery).toEqual({ id: dead!.id, status: 'PENDING', attempts: 0, replays: 1 });
    await waitFor(() => h.rx.ok('/replay').length === 1, { what: 'the replayed delivery' });
    const [first, again] = h.rx.all('/replay');
    expect(again!.verified).toBe(true);
    expect(again!.webhookId).toBe(first!.webhookId);
    expect(again!.raw).toBe(first!.raw);
    await waitFor(async () => (await statusOf(dead!.id)).status === 'delivered', { what: 'delivered after replay' });
  });

  test('a job left failed in pg-boss blocks its stream until the sweep removes it', async () => {
    const { streamKey } = await import('../../src/fanout/publish.ts');
    const { unblockStreams } = await import('../../src/fanout/unblock.ts');
    const ctx = h.t.service.ctx;
    const sub = await h.subscribe('/blocked', { externalOwnerId: 'dl-bob' });
    const key = streamKey(sub.id, bob.ownerId, 'cal-blocked');
    // A malformed payload on the stream's key: refused for good by the worker, left failed.
    await ctx.jobs.boss.send('fanout.deliver', { deliveryId: 'not-a-uuid' }, { singletonKey: key });
    await waitFor(async () => (await ctx.jobs.boss.getBlockedKeys('fanout.deliver')).includes(key), { what: 'the blocked key' });
    await h.applyChanges(changeSet(bob, 'cal-blocked', [{ kind: 'created', event: mirrorEvent(bob, 'cal-blocked') }]));
    // Held back behind the failed job (a negative: give the worker time it would have needed).
    await Bun.sleep(1500);
    expect(h.rx.all('/blocked')).toEqual([]);
    expect((await h.deliveries(sub.id))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await unblockStreams(ctx)).toEqual({ keys: 1, jobs: 1 });
    await waitFor(() => h.rx.ok('/blocked').length === 1, { what: 'the stream flowing again' });
    expect(await ctx.jobs.boss.getBlockedKeys('fanout.deliver')).toEqual([]);
  });

  test('replaying a pending or unknown delivery, or a malformed id, fails with a code; no token is 401', async () => {
    const sub = await h.subscribe('/replay-pending', { externalOwnerId: 'dl-bob' });
    h.rx.respond('/replay-pending', () => new Response(null, { status: 503 }));
    await h.applyChanges(changeSet(bob, 'cal-rp', [{ kind: 'created', event: mirrorEvent(bob, 'cal-rp') }]));
    const [pending] = await h.deliveries(sub.id);
    const conflict = await h.t.graphql<any>(REPLAY, { id: pending!.id });
    expect(conflict.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const missing = await h.t.graphql<any>(REPLAY, { id: crypto.randomUUID() });
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const malformed = await h.t.graphql<any>(REPLAY, { id: 'x' });
    expect(malformed.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    const anon = await h.t.graphql<any>(REPLAY, { id: pending!.id }, { token: null });
    expect(anon.status).toBe(401);
    const anonQuery = await h.t.graphql<any>(SUBS, {}, { token: null });
    expect(anonQuery.status).toBe(401);
    await h.t.trpc('subscriptions.delete', { id: sub.id });
  });
});
