// subscriptions.create / list / delete / test over tRPC with the service token: the happy paths,
// the validation errors, and the attacks (no token, URLs that must never be subscribed).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Webhook } from 'standardwebhooks';
import { startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;
let alice: { ownerId: string; email: string };

beforeAll(async () => {
  h = await startFanoutHarness('fanout-subscriptions');
  alice = await h.linkOwner('sub-alice');
}, 60_000);
afterAll(() => h?.stop(), 30_000);

type Created = { id: string; secret: string };
const create = (input: Record<string, unknown>, token?: string | null) => h.t.trpc<Created>('subscriptions.create', input, { token });

describe('subscriptions.create', () => {
  test('returns an id and a whsec_ secret, shown once and stored sealed', async () => {
    const r = await create({ url: h.rx.url('/a'), externalOwnerId: 'sub-alice', types: ['event.created', 'event.updated'] });
    expect(r.status).toBe(200);
    const { id, secret } = r.body.result!.data;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBe(32);
    // usable by the standard library as is
    expect(() => new Webhook(secret)).not.toThrow();
    const [row] = await h.sql`select * from subscriptions where id = ${id}`;
    expect(row!.owner_id).toBe(alice.ownerId);
    expect(row!.types).toEqual(['event.created', 'event.updated']);
    expect(row!.secret_enc).toMatch(/^v2\./);
    expect(row!.secret_enc).not.toContain(secret.slice(6, 30));
    const dump = JSON.stringify(await h.sql`select * from subscriptions`);
    expect(dump).not.toContain(secret.slice(6));
  });

  test("'primary' is accepted with an owner (matched against the owner's primary calendar later)", async () => {
    const r = await create({ url: h.rx.url('/p'), externalOwnerId: 'sub-alice', calendarId: 'primary' });
    expect(r.status).toBe(200);
    const [row] = await h.sql`select calendar_id, owner_id from subscriptions where id = ${r.body.result!.data.id}`;
    expect(row).toMatchObject({ calendar_id: 'primary', owner_id: alice.ownerId });
  });

  test('an unknown owner is NOT_FOUND', async () => {
    const r = await create({ url: h.rx.url('/x'), externalOwnerId: 'nobody' });
    expect(r.status).toBe(404);
  });

  test("'primary' without an owner is refused", async () => {
    const r = await create({ url: h.rx.url('/x'), calendarId: 'primary' });
    expect(r.status).toBe(400);
  });

  test('unknown types, empty type lists and missing urls are refused', async () => {
    expect((await create({ url: h.rx.url('/x'), types: ['event.exploded'] })).status).toBe(400);
    expect((await create({ url: h.rx.url('/x'), types: [] })).status).toBe(400);
    expect((await create({ url: h.rx.url('/x'), types: ['ping'] })).status).toBe(400);
    expect((await create({})).status).toBe(400);
  });

  test('bad URLs are refused at create', async () => {
    for (const url of [
      'not a url',
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://127.0.0.1:6379/_FLUSHALL',
      'http://user:pass@example.com/hook',
      `https://example.com/${'a'.repeat(2100)}`,
      '//example.com/hook',
    ]) {
      const r = await create({ url });
      expect({ url, status: r.status }).toEqual({ url, status: 400 });
    }
    const [n] = await h.sql`select count(*)::int as n from subscriptions where url not like ${h.rx.base + '%'}`;
    expect(n!.n).toBe(0);
  });

  test('401 without the service token, or with a wrong one', async () => {
    expect((await create({ url: h.rx.url('/x') }, null)).status).toBe(401);
    expect((await create({ url: h.rx.url('/x') }, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await h.t.trpc('subscriptions.list', undefined, { token: null })).status).toBe(401);
    expect((await h.t.trpc('subscriptions.delete', { id: crypto.randomUUID() }, { token: null })).status).toBe(401);
    expect((await h.t.trpc('subscriptions.test', { id: crypto.randomUUID() }, { token: null })).status).toBe(401);
  });
});

describe('subscriptions.list', () => {
  test('lists subscriptions without their secrets, filtered by owner', async () => {
    const other = await create({ url: h.rx.url('/global') });
    expect(other.status).toBe(200);
    const all = await h.t.trpc<{ items: any[] }>('subscriptions.list');
    expect(all.status).toBe(200);
    const ids = all.body.result!.data.items.map((s) => s.id);
    expect(ids).toContain(other.body.result!.data.id);
    expect(JSON.stringify(all.body)).not.toContain('whsec_');
    expect(JSON.stringify(all.body)).not.toContain('secret');
    const mine = await h.t.trpc<{ items: any[] }>('subscriptions.list', { externalOwnerId: 'sub-alice' });
    expect(mine.body.result!.data.items.length).toBeGreaterThan(0);
    expect(mine.body.result!.data.items.every((s) => s.externalOwnerId === 'sub-alice')).toBe(true);
    const item = all.body.result!.data.items.find((s) => s.id === other.body.result!.data.id)!;
    expect(item).toMatchObject({ url: h.rx.url('/global'), status: 'active', types: null, calendarId: null, externalOwnerId: null });
    expect(typeof item.createdAt).toBe('string');
  });
});

describe('subscriptions.test', () => {
  test('sends a signed ping the receiver verifies, and answers what the receiver said', async () => {
    const sub = await h.subscribe('/ping-ok', { externalOwnerId: 'sub-alice' });
    const r = await h.t.trpc<{ deliveryId: string; delivered: boolean; status: number; error: string | null }>('subscriptions.test', { id: sub.id });
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ delivered: true, status: 204, error: null });
    const [got] = h.rx.all('/ping-ok');
    expect(got!.verified).toBe(true);
    expect(got!.webhookId).toBe(r.body.result!.data.deliveryId);
    expect(got!.body).toMatchObject({ type: 'ping', ownerId: alice.ownerId, externalOwnerId: 'sub-alice', data: { subscriptionId: sub.id } });
    expect(got!.headers['content-type']).toBe('application/json');
    // The secret of another subscription does not verify it.
    const other = await create({ url: h.rx.url('/other') });
    expect(() => new Webhook(other.body.result!.data.secret).verify(got!.raw, got!.headers)).toThrow();
  });

  test("a failing receiver: delivered false with its status (never its body); recorded as a dead delivery", async () => {
    const sub = await h.subscribe('/ping-410');
    h.rx.respond('/ping-410', () => new Response('gone for good', { status: 410 }));
    const r = await h.t.trpc<{ deliveryId: string; delivered: boolean; status: number; error: string }>('subscriptions.test', { id: sub.id });
    expect(r.body.result!.data).toMatchObject({ delivered: false, status: 410, error: 'HTTP 410' });
    expect(JSON.stringify(r.body)).not.toContain('gone for good');
    const [d] = await h.deliveries(sub.id);
    // The admin API's view keeps the receiver's words.
    expect(d).toMatchObject({ type: 'ping', status: 'dead', last_status: 410, attempts: 1, last_error: 'HTTP 410: gone for good' });
  });

  test("attack: a secret copied from the attacker's subscription onto the victim's does not open there (no ping signed with a key the attacker knows)", async () => {
    const victim = await h.subscribe('/victim');
    const attacker = (await create({ url: h.rx.url('/attacker') })).body.result!.data;
    await h.sql`update subscriptions set secret_enc = (select secret_enc from subscriptions where id = ${attacker.id}) where id = ${victim.id}`;
    const r = await h.t.trpc('subscriptions.test', { id: victim.id });
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('whsec_');
    expect(h.rx.all('/victim')).toHaveLength(0);
  });

  test('an unknown id is NOT_FOUND; a malformed one is BAD_REQUEST', async () => {
    expect((await h.t.trpc('subscriptions.test', { id: crypto.randomUUID() })).status).toBe(404);
    expect((await h.t.trpc('subscriptions.test', { id: "1' or '1'='1" })).status).toBe(400);
  });
});

describe('subscriptions.delete', () => {
  test('deletes it with its deliveries; a second delete is NOT_FOUND', async () => {
    const sub = await h.subscribe('/del');
    await h.t.trpc('subscriptions.test', { id: sub.id });
    expect((await h.deliveries(sub.id)).length).toBe(1);
    const r = await h.t.trpc('subscriptions.delete', { id: sub.id });
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toEqual({ id: sub.id, deleted: true });
    expect((await h.deliveries(sub.id)).length).toBe(0);
    expect((await h.t.trpc('subscriptions.delete', { id: sub.id })).status).toBe(404);
    expect((await h.t.trpc('subscriptions.delete', { id: 'nope' })).status).toBe(400);
  });
});

describe('retention', () => {
  test('the daily prune drops delivered deliveries after a week and dead ones after a month', async () => {
    const { pruneDeliveries } = await import('../../src/fanout/prune.ts');
    const ctx = h.t.service.ctx;
    const sub = await h.subscribe('/prune');
    await h.t.trpc('subscriptions.test', { id: sub.id }); // delivered
    h.rx.respond('/prune', () => new Response(null, { status: 404 }));
    await h.t.trpc('subscriptions.test', { id: sub.id }); // dead
    expect((await h.deliveries(sub.id)).map((d) => d.status)).toEqual(['delivered', 'dead']);
    try {
      h.t.clock.advance(8 * 86400_000);
      await pruneDeliveries(ctx);
      expect((await h.deliveries(sub.id)).map((d) => d.status)).toEqual(['dead']);
      h.t.clock.advance(23 * 86400_000);
      await pruneDeliveries(ctx);
      expect(await h.deliveries(sub.id)).toEqual([]);
    } finally {
      h.t.clock.offsetMs = 0;
    }
  });
});
