// 1,000 changes -> 1,000 deliveries: each delivered exactly once (a 2xx per webhook-id), the only
// repeats being the retries of the requests the receiver failed, and each calendar in sync order.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;

beforeAll(async () => {
  h = await startFanoutHarness('fanout-volume');
}, 60_000);
afterAll(() => h?.stop(), 30_000);

test('1,000 changes over 10 calendars, with one request in 25 failing', async () => {
  const erin = { ...(await h.linkOwner('vol-erin')), externalOwnerId: 'vol-erin' };
  const sub = await h.subscribe('/volume', { externalOwnerId: 'vol-erin' });
  h.rx.respond('/volume', (_r, n) => new Response(null, { status: n % 25 === 0 ? 503 : 204 }));
  const calendars = Array.from({ length: 10 }, (_, i) => `vol-${i}@example.com`);
  const order = new Map<string, string[]>(calendars.map((c) => [c, []]));
  // 20 change sets of 50 changes: 5 syncs per calendar... interleaved across calendars.
  for (let round = 0; round < 2; round++) {
    for (const cal of calendars) {
      const changes = Array.from({ length: 50 }, () => {
        const e = mirrorEvent(erin, cal);
        order.get(cal)!.push(e.googleEventId);
        return { kind: 'created' as const, event: e };
      });
      await h.applyChanges(changeSet(erin, cal, changes));
    }
  }
  await waitFor(() => h.rx.ok('/volume').length >= 1000, { what: '1000 deliveries', timeoutMs: 45_000, intervalMs: 100 });
  // Let any stray duplicate show up before counting.
  await Bun.sleep(500);
  const ok = h.rx.ok('/volume');
  const all = h.rx.all('/volume');
  expect(ok.length).toBe(1000);
  expect(new Set(ok.map((r) => r.webhookId)).size).toBe(1000);
  expect(ok.every((r) => r.verified)).toBe(true);
  const failed = all.filter((r) => r.status === 503);
  expect(all.length).toBe(1000 + failed.length);
  // Every failed request was retried and then delivered, under the same webhook-id.
  const delivered = new Set(ok.map((r) => r.webhookId));
  expect(failed.every((r) => delivered.has(r.webhookId))).toBe(true);
  for (const cal of calendars) {
    expect(ok.filter((r) => r.body.calendarId === cal).map((r) => r.body.data.googleEventId)).toEqual(order.get(cal)!);
  }
  // Rows are marked delivered right after the receiver answered.
  const rows = await waitFor(async () => {
    const r = await h.deliveries(sub.id);
    return r.every((d) => d.status === 'delivered') ? r : undefined;
  }, { what: 'every row delivered' });
  expect(rows.length).toBe(1000);
  // Most were sent by a predecessor's job draining its stream; their own jobs completed unrun.
  const [drained] = await h.sql`select count(*)::int as n from pgboss.job where name = 'fanout.deliver' and output ? 'drainedBy'`;
  expect(drained!.n).toBeGreaterThan(0);
}, 60_000);
