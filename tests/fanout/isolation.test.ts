// One subscriber that stops answering (its requests hang up to FANOUT_TIMEOUT_MS) must not hold
// every worker slot: with more streams than slots, the others' deliveries would otherwise wait for
// its timeouts. A subscription holds at most SUBSCRIPTION_SLOTS of them at a time.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { DELIVER_SLOTS, SUBSCRIPTION_SLOTS } from '../../src/fanout/jobs.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;

beforeAll(async () => {
  // Long enough that nothing here times out: a held request holds its slot until it is released.
  h = await startFanoutHarness('fanout-isolation', { FANOUT_TIMEOUT_MS: '60000' });
}, 60_000);
afterAll(() => h?.stop(), 30_000);

test('a subscriber that does not answer leaves the other subscribers their slots', async () => {
  const ivy = { ...(await h.linkOwner('iso-ivy')), externalOwnerId: 'iso-ivy' };
  const stuck = await h.subscribe('/stuck', { externalOwnerId: 'iso-ivy' });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held = 0;
  let mostHeld = 0;
  h.rx.respond('/stuck', async () => {
    held += 1;
    mostHeld = Math.max(mostHeld, held);
    await released;
    held -= 1;
    return new Response(null, { status: 204 });
  });
  // More streams of the stuck subscriber than there are slots, enqueued first: fetched first.
  const calendars = Array.from({ length: DELIVER_SLOTS + 4 }, (_, i) => `iso-${i}@example.com`);
  for (const cal of calendars) await h.applyChanges(changeSet(ivy, cal, [{ kind: 'created', event: mirrorEvent(ivy, cal) }]));
  await waitFor(() => held >= SUBSCRIPTION_SLOTS, { what: 'the stuck subscriber holding its slots', timeoutMs: 20_000 });

  // Subscribed after those: the same calendars' next changes go to both.
  const fast = await h.subscribe('/fast', { externalOwnerId: 'iso-ivy' });
  for (const cal of calendars) await h.applyChanges(changeSet(ivy, cal, [{ kind: 'created', event: mirrorEvent(ivy, cal) }]));
  await waitFor(() => h.rx.ok('/fast').length === calendars.length, { what: 'every delivery of the other subscriber', timeoutMs: 30_000 });
  // Meanwhile the stuck one held its share of the slots (pg-boss counts a group's active jobs in
  // each fetch: slots fetching at the same instant may overshoot it by one or two), never all.
  expect(mostHeld).toBeLessThan(DELIVER_SLOTS);
  expect(h.rx.ok('/stuck').length).toBe(0);
  expect((await h.deliveries(fast.id)).length).toBe(calendars.length);

  release();
  await waitFor(async () => {
    const rows = await h.deliveries(stuck.id);
    return rows.length === 2 * calendars.length && rows.every((r) => r.status === 'delivered');
  }, { what: 'the stuck subscriber caught up once it answers', timeoutMs: 60_000 });
}, 120_000);
