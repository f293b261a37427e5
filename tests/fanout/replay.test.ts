// subscriptions.replay: everything the outbox still keeps since an instant is sent again, per
// calendar in order, as new attempts of the same deliveries (same webhook-id, same bytes), dead ones
// included; pending ones are left to themselves; a disabled subscription must be enabled first.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;
let dan: { ownerId: string; externalOwnerId: string; email: string };

beforeAll(async () => {
  h = await startFanoutHarness('fanout-replay');
  dan = { ...(await h.linkOwner('rp-dan')), externalOwnerId: 'rp-dan' };
}, 60_000);
afterAll(() => h?.stop(), 30_000);

const created = (cal: string, summary: string) => ({ kind: 'created' as const, event: mirrorEvent(dan, cal, { summary }) });

describe('subscriptions.replay', () => {
  test('re-delivers what is kept since `from`, in order per calendar, with the same webhook-ids and bodies', async () => {
    const sub = await h.subscribe('/replay', { externalOwnerId: 'rp-dan' });
    let refusing = true;
    h.rx.respond('/replay', (r) => new Response(null, { status: refusing && r.body.data.summary === 'refused' ? 410 : 204 }));
    const before = new Date(Date.now() - 1000);
    await h.applyChanges(changeSet(dan, 'a@example.com', [created('a@example.com', 'a1'), created('a@example.com', 'refused'), created('a@example.com', 'a3')]));
    await h.applyChanges(changeSet(dan, 'b@example.com', [created('b@example.com', 'b1'), created('b@example.com', 'b2')]));
    await waitFor(async () => (await h.deliveries(sub.id)).every((d) => d.status !== 'pending') && (await h.deliveries(sub.id)).length === 5, { what: 'five settled' });
    // (The refused one was tried twice: stopping the drain, then by its own job.)
    const first = h.rx.all('/replay');
    expect(first.filter((r) => r.status === 204)).toHaveLength(4);

    refusing = false;
    const r = await h.t.trpc<{ replayed: number; pending: number; oldestKept: string; nextFrom: string | null }>('subscriptions.replay', { id: sub.id, from: before.toISOString() });
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ replayed: 5, pending: 0, nextFrom: null });
    expect(Date.parse(r.body.result!.data.oldestKept)).toBeGreaterThanOrEqual(before.getTime());

    await waitFor(() => h.rx.all('/replay').length === first.length + 5, { what: 'five more requests' });
    const again = h.rx.all('/replay').slice(first.length);
    expect(again.every((x) => x.verified && x.status === 204)).toBe(true);
    // The same deliveries: same ids, same bytes.
    const byId = new Map(first.map((x) => [x.webhookId, x.raw]));
    for (const x of again) expect(byId.get(x.webhookId)).toBe(x.raw);
    const ofCal = (cal: string) => again.filter((x) => x.body.calendarId === cal).map((x) => x.body.data.summary);
    expect(ofCal('a@example.com')).toEqual(['a1', 'refused', 'a3']);
    expect(ofCal('b@example.com')).toEqual(['b1', 'b2']);
    const rows = await waitFor(async () => {
      const all = await h.deliveries(sub.id);
      return all.every((d) => d.status !== 'pending') ? all : undefined;
    }, { what: 'the replays recorded' });
    expect(rows.map((d) => [d.status, d.replays])).toEqual(Array(5).fill(['delivered', 1]));
  });

  test('from after the last one: nothing replayed', async () => {
    const sub = await h.subscribe('/replay-late', { externalOwnerId: 'rp-dan' });
    await h.applyChanges(changeSet(dan, 'c@example.com', [created('c@example.com', 'c1')]));
    await waitFor(() => h.rx.ok('/replay-late').length === 1, { what: 'one delivery' });
    const r = await h.t.trpc<{ replayed: number }>('subscriptions.replay', { id: sub.id, from: new Date(Date.now() + 60_000).toISOString() });
    expect(r.body.result!.data.replayed).toBe(0);
  });

  test('errors: unknown subscription, disabled subscription, malformed from', async () => {
    const unknown = await h.t.trpc('subscriptions.replay', { id: crypto.randomUUID(), from: new Date().toISOString() });
    expect(unknown.body.error!.data.code).toBe('NOT_FOUND');
    const sub = await h.subscribe('/replay-disabled', { externalOwnerId: 'rp-dan' });
    await h.sql`update subscriptions set status = 'disabled', disabled_reason = 'test' where id = ${sub.id}`;
    const disabled = await h.t.trpc('subscriptions.replay', { id: sub.id, from: new Date().toISOString() });
    expect(disabled.body.error!.data.code).toBe('CONFLICT');
    const malformed = await h.t.trpc('subscriptions.replay', { id: sub.id, from: 'yesterday' });
    expect(malformed.body.error!.data.code).toBe('BAD_REQUEST');
  });
});
