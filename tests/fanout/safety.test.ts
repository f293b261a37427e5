// A subscription failing for a day is disabled with its reason (and can be enabled again); private
// addresses are refused in production mode (FANOUT_ALLOW_PRIVATE=false): at create, and at delivery
// time against the resolved address, for a subscription made while they were allowed.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';
import { enqueueMessages } from '../../src/fanout/publish.ts';
import { messagesFromChangeSet } from '../../src/fanout/messages.ts';

let db: TestDatabase & { url: string };
let h: FanoutHarness;
let dana: { ownerId: string; externalOwnerId: string };

beforeAll(async () => {
  db = await createTestDatabase();
  // The "development" service: private addresses allowed (the receiver is on 127.0.0.1).
  h = await startFanoutHarness('fanout-safety', {}, db);
  dana = { ...(await h.linkOwner('sf-dana')), externalOwnerId: 'sf-dana' };
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await db?.drop();
}, 30_000);

const SUB = `query { subscriptions(first: 100) { edges { node { id status disabledReason disabledAt failingSince lastError } } } }`;
const ENABLE = `mutation($id: ID!) { enableSubscription(id: $id) { id status disabledReason } }`;

describe('a day of failures', () => {
  test('disables the subscription with the reason; what waits behind is dead; enabling brings it back', async () => {
    const sub = await h.subscribe('/failing', { externalOwnerId: 'sf-dana' });
    // The first attempt asks for 3 s: time to move the clock a day on before the second one.
    h.rx.respond('/failing', (_r, n) => (n === 1 ? new Response(null, { status: 429, headers: { 'retry-after': '3' } }) : new Response('down', { status: 500 })));
    await h.applyChanges(
      changeSet(dana, 'cal-fail', [
        { kind: 'created', event: mirrorEvent(dana, 'cal-fail') },
        { kind: 'created', event: mirrorEvent(dana, 'cal-fail') },
      ]),
    );
    // Recorded (not only received): the failure's time must be before the clock moves.
    await waitFor(async () => (await h.deliveries(sub.id))[0]?.attempts === 1, { what: 'the first attempt recorded' });
    h.t.clock.advance(25 * 3600_000);
    const rows = await waitFor(async () => {
      const r = await h.deliveries(sub.id);
      return r.every((d) => d.status === 'dead') ? r : undefined;
    }, { what: 'both deliveries dead', timeoutMs: 10_000 });
    expect(rows[0]!.attempts).toBe(2);
    expect(rows[0]!.last_error).toContain('subscription disabled');
    expect(rows[1]).toMatchObject({ attempts: 0, status: 'dead' });
    expect(rows[1]!.last_error).toContain('subscription disabled');
    expect(h.rx.all('/failing').length).toBe(2);

    const q = await h.t.graphql<any>(SUB);
    const node = q.body.data.subscriptions.edges.map((e: any) => e.node).find((n: any) => n.id === sub.id);
    expect(node.status).toBe('DISABLED');
    expect(node.disabledReason).toMatch(/^every delivery failed since .* \(25 h\); last error: HTTP 500: down$/);
    expect(node.disabledAt).toEqual(expect.any(String));
    const listed = await h.t.trpc<{ items: any[] }>('subscriptions.list', { externalOwnerId: 'sf-dana' });
    expect(listed.body.result!.data.items.find((s) => s.id === sub.id)).toMatchObject({ status: 'disabled', disabledReason: node.disabledReason });

    // Disabled: changes are not enqueued for it; replay is refused until it is enabled.
    await h.applyChanges(changeSet(dana, 'cal-fail', [{ kind: 'created', event: mirrorEvent(dana, 'cal-fail') }]));
    expect((await h.deliveries(sub.id)).length).toBe(2);
    const refused = await h.t.graphql<any>(`mutation($id: ID!) { replayDelivery(id: $id) { id } }`, { id: rows[0]!.id });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    h.t.clock.offsetMs = 0;
    h.rx.respond('/failing', () => new Response(null, { status: 200 }));
    const enabled = await h.t.graphql<any>(ENABLE, { id: sub.id });
    expect(enabled.body.data.enableSubscription).toEqual({ id: sub.id, status: 'ACTIVE', disabledReason: null });
    await h.applyChanges(changeSet(dana, 'cal-fail', [{ kind: 'created', event: mirrorEvent(dana, 'cal-fail') }]));
    await waitFor(() => h.rx.ok('/failing').length === 1, { what: 'a delivery after enabling' });
    expect(h.rx.ok('/failing')[0]!.verified).toBe(true);
  }, 20_000);
});

describe('production mode (FANOUT_ALLOW_PRIVATE=false)', () => {
  let prod: TestService;
  let subId: string;

  beforeAll(async () => {
    // Made while private addresses were allowed; then the service restarts with them refused.
    subId = (await h.subscribe('/private', { externalOwnerId: 'sf-dana' })).id;
    await h.t.service.stop();
    prod = await startTestService({ name: 'fanout-safety-prod', emulatorUrl: h.emu.url, database: db, env: { FANOUT_ALLOW_PRIVATE: 'false', LOG_LEVEL: 'info' } });
  }, 30_000);
  afterAll(() => prod?.service.stop(), 30_000);

  test('private, loopback and link-local URLs are refused at create', async () => {
    for (const url of [
      h.rx.url('/x'),
      'http://localhost:8080/hook',
      'http://[::1]/hook',
      'http://10.0.0.8/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:127.0.0.1]/hook',
      'http://2130706433/hook',
      'https://192.168.1.1/hook',
    ]) {
      const r = await prod.trpc('subscriptions.create', { url });
      expect({ url, status: r.status }).toEqual({ url, status: 400 });
      expect(r.body.error!.message).toMatch(/not a global unicast address \((private|loopback|link-local|IPv4-mapped)/);
    }
  });

  test('at delivery time, the resolved address is checked: dead, refused, nothing sent', async () => {
    const before = h.rx.all('/private').length;
    const ctx = prod.service.ctx;
    await ctx.db.transaction((tx) =>
      enqueueMessages(tx, ctx, messagesFromChangeSet(changeSet(dana, 'cal-private', [{ kind: 'created', event: mirrorEvent(dana, 'cal-private') }]))),
    );
    const row = await waitFor(async () => {
      const [d] = await h.sql`select * from deliveries where subscription_id = ${subId}`;
      return d && d.status !== 'pending' ? d : undefined;
    }, { what: 'the refused delivery' });
    expect(row).toMatchObject({ status: 'dead', attempts: 1, last_status: null });
    expect(row.last_error).toBe('refused: 127.0.0.1 resolves to 127.0.0.1, not a global unicast address (loopback (RFC 1122), 127.0.0.0/8)');
    expect(h.rx.all('/private').length).toBe(before);
    // A ping is refused the same way.
    const ping = await prod.trpc<any>('subscriptions.test', { id: subId });
    expect(ping.body.result!.data).toMatchObject({ delivered: false, status: null });
    expect(h.rx.all('/private').length).toBe(before);
  });
});
