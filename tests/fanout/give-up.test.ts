// Giving up: after FANOUT_MAX_ATTEMPTS (3 here) failed attempts a delivery is dead, kept, and the
// deliveries behind it in its calendar's stream go on.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;
let bob: { ownerId: string; externalOwnerId: string; email: string };

beforeAll(async () => {
  h = await startFanoutHarness('fanout-give-up', { FANOUT_MAX_ATTEMPTS: '3' });
  const o = await h.linkOwner('gu-bob');
  bob = { ...o, externalOwnerId: 'gu-bob' };
}, 60_000);
afterAll(() => h?.stop(), 30_000);

test('after FANOUT_MAX_ATTEMPTS failures it is dead, and what follows it is delivered', async () => {
  const sub = await h.subscribe('/always-500', { externalOwnerId: 'gu-bob' });
  let failNext = true;
  h.rx.respond('/always-500', (r) => (failNext && r.body.data.summary === 'doomed' ? new Response('boom', { status: 500 }) : new Response(null, { status: 204 })));
  await h.applyChanges(
    changeSet(bob, 'cal-500', [
      { kind: 'created', event: mirrorEvent(bob, 'cal-500', { summary: 'doomed' }) },
      { kind: 'created', event: mirrorEvent(bob, 'cal-500', { summary: 'fine' }) },
    ]),
  );
  const rows = await waitFor(async () => {
    const r = await h.deliveries(sub.id);
    return r[0]?.status === 'dead' && r[1]?.status === 'delivered' ? r : undefined;
  }, { what: 'dead then delivered', timeoutMs: 20_000 });
  expect(rows[0]).toMatchObject({ status: 'dead', attempts: 3, last_status: 500 });
  expect(rows[0]!.last_error).toContain('gave up after 3 attempts');
  expect(h.rx.all('/always-500').filter((r) => r.body.data.summary === 'doomed').length).toBe(3);
  failNext = false;
}, 25_000);
