// Renewal with channels that live seconds (the emulator's maxChannelTtlSeconds fault, a 2 s renew
// margin): each channel is replaced before it expires, the replacement is live before the old one
// is stopped, and no change made across the boundaries is lost. A channel whose renewal was lost
// expires, and the sweep replaces it and resyncs its calendar.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sweepChannels } from '../../src/channels/index.ts';
import { waitFor } from '../support/service.ts';
import { eventId, startChannelsHarness, timed, type ChannelsHarness } from './harness.ts';

const TTL = 5;
let h: ChannelsHarness;

beforeAll(async () => {
  h = await startChannelsHarness('channels-renewal', { CHANNEL_RENEW_MARGIN_SECONDS: '2' });
  await h.emuJson('faults', { maxChannelTtlSeconds: TTL });
}, 60_000);
afterAll(() => h?.stop(), 30_000);

describe('renewal', () => {
  test('a channel expiring in seconds is renewed, the old one stopped, and no change is lost across the boundary', async () => {
    const owner = await h.linkOwner('renew@example.com');
    const first = await h.activeChannel(owner.ownerId, owner.primary.id);
    const life = new Date(first.expires_at).getTime() - new Date(first.created_at).getTime();
    expect(life).toBeLessThanOrEqual(TTL * 1000 + 1000);

    // Changes every 100 ms for 3.5 channel lives: several renewals happen meanwhile.
    const ids: string[] = [];
    const until = Date.now() + TTL * 3500;
    for (let i = 0; Date.now() < until; i++) {
      const id = eventId('renew', i);
      ids.push(id);
      await h.putEvent(owner.email, id, timed(`Change ${i}`, '2030-04-01T10:00:00Z', '2030-04-01T11:00:00Z'));
      await Bun.sleep(100);
    }

    const rows = await h.channelRows({ calendarRowId: owner.primary.id });
    const emu = new Map((await h.emuChannels()).map((c) => [c.id, c]));
    // Renewed at least twice, in a chain: each replaced by the next, none expired.
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const firstRow = rows.find((r) => r.id === first.id)!;
    expect(firstRow.status).toBe('superseded');
    expect(firstRow.replaced_by_id).not.toBeNull();
    const next = rows.find((r) => r.id === firstRow.replaced_by_id)!;
    expect(next.replaces_id).toBe(first.id);
    // The replacement was live at Google before the old one was stopped (the overlap).
    expect(new Date(next.created_at).getTime()).toBeLessThan(new Date(firstRow.updated_at).getTime() + 1);
    expect(rows.filter((r) => r.status === 'expired')).toEqual([]);
    // Superseded channels were stopped at Google, not left to expire.
    const superseded = rows.filter((r) => r.status === 'superseded');
    await waitFor(async () => {
      const e = new Map((await h.emuChannels()).map((c) => [c.id, c]));
      return superseded.every((r) => e.get(r.id)?.state === 'stopped');
    }, { what: 'superseded channels stopped at Google' });
    expect(emu.get(first.id)?.state).toBe('stopped');
    // Each renewal scheduled at expiry minus the margin (2 s, half the life is 2.5 s), spread a little.
    for (const r of superseded) {
      const successor = rows.find((x) => x.id === r.replaced_by_id)!;
      const ahead = new Date(r.expires_at).getTime() - new Date(successor.created_at).getTime();
      expect(ahead).toBeGreaterThan(1000);
      expect(ahead).toBeLessThan(3500);
    }

    // Every change reached the mirror.
    await waitFor(async () => {
      const [r] = await h.sql`select count(*)::int as n from calendar_events where calendar_id = ${owner.primary.id} and google_event_id like 'renew%'`;
      return r!.n === ids.length;
    }, { what: `${ids.length} changes in the mirror`, timeoutMs: 20_000 });
    // ... through pushes: the emulator delivered them (204) on the channels of this calendar.
    const delivered = (await h.emuJson('notifications')).items.filter(
      (n: any) => rows.some((r) => r.id === n.channelId) && n.state === 'exists' && n.outcome === 'delivered',
    );
    expect(delivered.length).toBeGreaterThan(rows.length);
    expect(delivered.every((n: any) => n.status === 204)).toBe(true);
  }, 60_000);

  test('a channel whose renewal was lost expires; the sweep replaces it and resyncs its calendar', async () => {
    // This test runs the sweep itself: the every-minute cron must not renew the channel first.
    await h.sql`delete from pgboss.schedule where name = 'channels.sweep'`;
    const owner = await h.linkOwner('lost@example.com');
    const ch = await h.activeChannel(owner.ownerId, owner.primary.id);
    // The renewal job goes missing (as after a restore, or a bug).
    await h.sql`delete from pgboss.job where name = 'channels.renew' and singleton_key = ${ch.id}`;
    await waitFor(async () => (await h.emuChannels()).find((c) => c.id === ch.id)?.state === 'expired', {
      what: 'the channel expired at Google',
      timeoutMs: (TTL + 3) * 1000,
    });
    // A change while nothing watches: no push can tell us.
    await h.putEvent(owner.email, 'lostchange1', timed('Missed by push', '2030-05-01T10:00:00Z', '2030-05-01T11:00:00Z'));
    expect(await h.mirrorRow(owner.primary.id, 'lostchange1')).toBeUndefined();

    await sweepChannels(h.t.service.ctx);
    const replacement = await waitFor(async () => {
      const [old] = await h.sql`select * from channels where id = ${ch.id}`;
      return old!.replaced_by_id ? (await h.sql`select * from channels where id = ${old!.replaced_by_id}`)[0] : undefined;
    }, { what: 'a replacement channel' });
    expect(replacement.status === 'active' || replacement.status === 'superseded').toBe(true);
    const [old] = await h.sql`select * from channels where id = ${ch.id}`;
    expect(old!.status).toBe('expired');
    const mirrored = await waitFor(() => h.mirrorRow(owner.primary.id, 'lostchange1'), { what: 'the missed change resynced' });
    expect(mirrored.summary).toBe('Missed by push');
  }, 30_000);
});
