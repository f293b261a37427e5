// Order of deliveries per calendar: within a sync page, the order Google listed the changes in (a
// deletion between two creations stays between them); across transactions publishing to one
// calendar, the order they committed in, not the order they started in (pg-boss's created_on).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { findCalendar } from '../../src/sync/index.ts';
import { enqueueMessages } from '../../src/fanout/publish.ts';
import { messagesFromChangeSet } from '../../src/fanout/messages.ts';
import { waitFor } from '../support/service.ts';
import { changeSet, mirrorEvent, startFanoutHarness, type FanoutHarness } from './harness.ts';

let h: FanoutHarness;

beforeAll(async () => {
  h = await startFanoutHarness('fanout-order');
}, 60_000);
afterAll(() => h?.stop(), 30_000);

describe('through Google and the sync', () => {
  test('20 changes on two calendars 150 ms apart, a deletion among them: each calendar in the order of its changes', async () => {
    const owners = [
      { email: 'ord-ana@example.com', ext: 'ord-ana' },
      { email: 'ord-ben@example.com', ext: 'ord-ben' },
    ];
    for (const o of owners) {
      await h.emuJson('users', { email: o.email, timeZone: 'UTC' });
      const { ownerId } = await h.linkOwner(o.ext, o.email);
      await waitFor(async () => (await findCalendar(h.t.service.ctx, ownerId, 'primary'))?.lastFullSyncAt, { what: `${o.ext}'s first full sync` });
      await waitFor(async () => (await h.emuJson('channels')).items.some((c: any) => c.user === o.email && c.resource.includes('events')), {
        what: `${o.ext}'s events channel`,
      });
    }
    await h.subscribe('/google-order');
    const put = (email: string, id: string, i: number) =>
      h.emuJson(`calendars/${encodeURIComponent(email)}/events/${id}`, {
        summary: `change ${i}`,
        start: { dateTime: `2031-05-01T${String(i % 24).padStart(2, '0')}:00:00Z` },
        end: { dateTime: `2031-05-01T${String(i % 24).padStart(2, '0')}:30:00Z` },
      }, 'PUT');
    // Change i goes to calendar i % 2; #14 deletes #0's event, the rest create one each.
    const expected: Array<Array<[string, string]>> = [[], []];
    for (let i = 0; i < 20; i++) {
      const o = owners[i % 2]!;
      if (i === 14) {
        // Everything so far delivered; then the pushes of #14 and #15 are lost, so that the sync #16
        // wakes lists #14 (a deletion) and #16 (a creation) in one page, in that order.
        await waitFor(() => h.rx.ok('/google-order').length >= 14, { what: 'the first 14 deliveries', timeoutMs: 20_000 });
        await h.emuJson('faults', { dropNotifications: 1 });
        await h.emuJson(`calendars/${encodeURIComponent(o.email)}/events/ordchange0`, undefined, 'DELETE');
        expected[0]!.push(['event.cancelled', 'ordchange0']);
      } else {
        await put(o.email, `ordchange${i}`, i);
        expected[i % 2]!.push(['event.created', `ordchange${i}`]);
        if (i === 15) await h.emuJson('faults', { dropNotifications: 0 });
      }
      await Bun.sleep(150);
    }
    await waitFor(() => h.rx.ok('/google-order').length >= 20, { what: '20 deliveries', timeoutMs: 30_000 });
    for (const [k, o] of owners.entries()) {
      const got = h.rx
        .ok('/google-order')
        .filter((r) => r.body.externalOwnerId === o.ext)
        .map((r) => [r.body.type, r.body.data.googleEventId]);
      expect(got).toEqual(expected[k]!);
    }
  }, 90_000);
});

describe('two transactions publishing to one calendar', () => {
  test('committing in the opposite order of their start: delivered in commit order', async () => {
    const ctx = h.t.service.ctx;
    const o = await h.linkOwner('ord-cai');
    const cai = { ...o, externalOwnerId: 'ord-cai' };
    const CAL = 'commit-order@example.com';
    // One stream drained after its head, one whose head dies (the next job is then the earliest
    // started transaction's, and takes over the earliest committed delivery).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const heads = new Set<string>();
    const subs: string[] = [];
    for (const [path, status] of [['/commit-drain', 204], ['/commit-takeover', 410]] as const) {
      subs.push((await h.subscribe(path, { externalOwnerId: 'ord-cai' })).id);
      h.rx.respond(path, async (_r, n) => {
        if (n > 1) return new Response(null, { status: 204 });
        heads.add(path);
        await released;
        return new Response(null, { status });
      });
    }
    const ev = (summary: string) => ({ kind: 'created' as const, event: mirrorEvent(cai, CAL, { summary }) });
    // A first delivery holds both streams while the two transactions run.
    await h.applyChanges(changeSet(cai, CAL, [ev('head')]));
    await waitFor(() => heads.size === 2, { what: 'both heads being attempted' });

    let secondCommitted!: () => void;
    const afterSecond = new Promise<void>((r) => (secondCommitted = r));
    const first = ctx.db.transaction(async (tx) => {
      await tx.execute('select 1'); // started (its now() is taken) before the second
      await afterSecond;
      await enqueueMessages(tx, ctx, messagesFromChangeSet(changeSet(cai, CAL, [ev('started first 1'), ev('started first 2')])));
    });
    await Bun.sleep(50);
    await ctx.db.transaction(async (tx) => {
      await enqueueMessages(tx, ctx, messagesFromChangeSet(changeSet(cai, CAL, [ev('started second 1'), ev('started second 2')])));
    });
    secondCommitted();
    await first;
    release();

    const order = ['started second 1', 'started second 2', 'started first 1', 'started first 2'];
    const drained = await waitFor(() => (h.rx.ok('/commit-drain').length === 5 ? h.rx.ok('/commit-drain') : undefined), { what: 'five deliveries' });
    expect(drained.map((r) => r.body.data.summary)).toEqual(['head', ...order]);
    const takenOver = await waitFor(() => (h.rx.ok('/commit-takeover').length === 4 ? h.rx.ok('/commit-takeover') : undefined), { what: 'four deliveries' });
    expect(takenOver.map((r) => r.body.data.summary)).toEqual(order);
    // Each delivery went once, and every job found its delivery (none left pending).
    const rows = await h.sql`select status, count(*)::int as n from deliveries where subscription_id in ${h.sql(subs)} group by status order by status`;
    expect([...rows]).toEqual([
      { status: 'dead', n: 1 },
      { status: 'delivered', n: 9 },
    ]);
  }, 30_000);
});
