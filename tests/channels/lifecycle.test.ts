// A channel's life against the emulator and a real database, with a random token per channel:
// created after a calendar's first full sync and for the owner's calendar list; stopped at Google when
// the calendar is deselected or deleted, when the owner is unlinked; stopped without calling Google when
// the grant is revoked, and recreated when the owner links again; a calendar Google will not watch is
// polled instead, without a retry loop; backfill creates what is missing and is safe to run twice.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { runChannelsCommand } from '../../src/channels/index.ts';
import { createChannel, stopChannelsForOwner, stopChannelsForCalendar } from '../../src/channels/index.ts';
import { findCalendar } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startChannelsHarness, timed, type ChannelsHarness } from './harness.ts';

let h: ChannelsHarness;
let owner: Awaited<ReturnType<ChannelsHarness['linkOwner']>>;
const ctx = () => h.t.service.ctx;

beforeAll(async () => {
  h = await startChannelsHarness('channels-lifecycle');
  owner = await h.linkOwner('life@example.com');
}, 60_000);
afterAll(() => h?.stop(), 30_000);

const emuState = async (id: string) => (await h.emuChannels()).find((c) => c.id === id)?.state;
const waitEmuState = (id: string, state: string) => waitFor(async () => (await emuState(id)) === state, { what: `channel ${id} ${state} at the emulator` });
const calendarRow = (googleCalendarId: string) =>
  waitFor(() => findCalendar(ctx(), owner.ownerId, googleCalendarId), { what: `calendar ${googleCalendarId} in the mirror` });
const select = async (calendarId: string, selected: boolean) => {
  const r = await h.t.trpc('calendars.setSelected', { externalOwnerId: owner.externalOwnerId, calendarId, selected });
  expect(r.status).toBe(200);
};
async function requestsSince(mark: number, ...parts: string[]) {
  const r = await h.emuJson(`requests?since=${mark}`);
  return r.items.filter((i: any) => i.id > mark && parts.every((p) => decodeURIComponent(i.path).includes(p)));
}
const requestMark = async () => {
  const r = await h.emuJson('requests');
  return r.items.length ? r.items[r.items.length - 1].id : 0;
};

describe('creation', () => {
  test('each channel has its own random token, only its hash stored, and Google’s deliveries are accepted', async () => {
    const events = await h.activeChannel(owner.ownerId, owner.primary.id);
    const list = await h.activeChannel(owner.ownerId, null);
    expect(events.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(list.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(events.token_hash).not.toBe(list.token_hash);
    for (const ch of [events, list]) {
      const syncMsg = await waitFor(async () => {
        const items = (await h.emuJson(`notifications?channelId=${ch.id}`)).items;
        return items.find((n: any) => n.state === 'sync' && n.outcome !== 'pending');
      }, { what: 'the sync message delivered' });
      // 204 means the token Google echoed matched the stored hash.
      expect(syncMsg).toMatchObject({ outcome: 'delivered', status: 204, messageNumber: 1 });
    }
    const emu = (await h.emuChannels()).find((c) => c.id === events.id)!;
    expect(emu.address).toBe(`${h.t.url}/webhooks/google/calendar`);
    expect(emu.tokenSet).toBe(true);
  });

  test("links.get shows each calendar's channel expiry", async () => {
    const events = await h.activeChannel(owner.ownerId, owner.primary.id);
    const r = await h.t.trpc<{ calendars: Array<{ calendarId: string; channelExpiresAt: string | null }> }>('links.get', { externalOwnerId: owner.externalOwnerId });
    expect(r.status).toBe(200);
    const primary = r.body.result!.data.calendars.find((c) => c.calendarId === owner.email)!;
    expect(primary.channelExpiresAt).toBe(new Date(events.expires_at).toISOString());
  });

  test('a calendar added in Google reaches the mirror through a push on the calendar-list channel', async () => {
    await h.emuJson('calendars', { owner: owner.email, id: 'team-life@group.calendar.google.com', summary: 'Team' });
    const row = await calendarRow('team-life@group.calendar.google.com');
    expect(row.selected).toBe(false);
    // Not selected: no channel for it.
    expect(await h.channelRows({ calendarRowId: row.id })).toHaveLength(0);
  });
});

describe('stop', () => {
  test('selecting a calendar creates its channel; deselecting stops it at Google', async () => {
    await select('team-life@group.calendar.google.com', true);
    const row = await calendarRow('team-life@group.calendar.google.com');
    const ch = await h.activeChannel(owner.ownerId, row.id);
    expect(await emuState(ch.id)).toBe('active');
    await select('team-life@group.calendar.google.com', false);
    await waitEmuState(ch.id, 'stopped');
    const [after] = await h.sql`select * from channels where id = ${ch.id}`;
    expect(after!.status).toBe('stopped');
    expect(after!.stopped_at).toBeInstanceOf(Date);
    // Its old notifications are ignored from now on (204, no sync).
  });

  test('a calendar deleted in Google has its channel stopped', async () => {
    await h.emuJson('calendars', { owner: owner.email, id: 'gone-life@group.calendar.google.com', summary: 'Doomed' });
    await calendarRow('gone-life@group.calendar.google.com');
    await select('gone-life@group.calendar.google.com', true);
    const row = await calendarRow('gone-life@group.calendar.google.com');
    const ch = await h.activeChannel(owner.ownerId, row.id);
    await h.emuJson(`calendars/${encodeURIComponent('gone-life@group.calendar.google.com')}`, undefined, 'DELETE');
    // The emulator forgets the deleted calendar's channel itself; what matters is that ours is no longer live.
    await waitFor(async () => {
      const [r] = await h.sql`select status from channels where id = ${ch.id}`;
      return !r || r.status === 'stopped';
    }, { what: 'the deleted calendar’s channel stopped' });
  });

  test('stopChannelsForCalendar stops a calendar’s channels at Google', async () => {
    const ch = await h.activeChannel(owner.ownerId, owner.primary.id);
    const r = await stopChannelsForCalendar(ctx(), owner.primary.id);
    expect(r).toEqual({ stopped: 1, failed: 0 });
    expect(await emuState(ch.id)).toBe('stopped');
    // A change now is not pushed to us (and nothing breaks); backfill below brings a channel back.
    await h.putEvent(owner.email, 'afterstop1', timed('After stop', '2030-06-01T10:00:00Z', '2030-06-01T11:00:00Z'));
  });
});

describe('poll-only calendars', () => {
  test('a calendar Google will not watch is polled instead, without retrying the watch', async () => {
    await h.emuJson('calendars', { owner: owner.email, id: 'holidays-life@group.v.calendar.google.com', summary: 'Holidays', pushNotSupported: true });
    await calendarRow('holidays-life@group.v.calendar.google.com');
    const mark = await requestMark();
    await select('holidays-life@group.v.calendar.google.com', true);
    const row = await waitFor(async () => {
      const c = await findCalendar(ctx(), owner.ownerId, 'holidays-life@group.v.calendar.google.com');
      return c?.pollOnly ? c : undefined;
    }, { what: 'the calendar marked poll-only' });
    expect(row.pollOnlyReason).toContain('pushNotSupportedForRequestedResource');
    const watches = () => requestsSince(mark, 'holidays-life@group.v.calendar.google.com', '/events/watch');
    expect(await watches()).toHaveLength(1);
    // The creation job ended (not failed: pg-boss will not retry it) ...
    const jobs = await waitFor(async () => {
      const rows = await h.sql`select state, retry_count, output from pgboss.job where name = 'channels.create' and singleton_key = ${`events:${row.id}`}`;
      return rows.length > 0 && rows.every((j) => j.state === 'completed') ? rows : undefined;
    }, { what: 'the creation job finished' });
    expect(jobs.map((j) => [j.retry_count, j.output.outcome])).toEqual([[0, 'poll-only']]);
    // ... and a later full sync's creation request does not ask Google again.
    expect((await createChannel(ctx(), { ownerId: owner.ownerId, calendarRowId: row.id })).outcome).toBe('poll-only');
    expect(await watches()).toHaveLength(1);
    expect((await h.channelRows({ calendarRowId: row.id })).filter((r) => r.status === 'active' || r.status === 'pending')).toHaveLength(0);
  }, 30_000);
});

describe('backfill', () => {
  test('creates the missing channels, and a second run creates none', async () => {
    const lines: string[] = [];
    const io = {
      out: (l: string) => lines.push(l),
      progress: (label: string) => ({ update: (d: number, t: number) => lines.push(`${label} ${d}/${t}`), finish: (s: string) => lines.push(`${label}: ${s}`) }),
    };
    // The calendar list keeps its channel; the primary lost its own above (stopChannelsForCalendar).
    const code = await runChannelsCommand(ctx(), ['backfill'], io);
    expect(code).toBe(0);
    const summary = lines.at(-1)!;
    expect(summary).toMatch(/1 created/);
    const ch = await h.activeChannel(owner.ownerId, owner.primary.id);
    expect(await emuState(ch.id)).toBe('active');
    // The new channel works: a change is pushed and mirrored.
    await h.putEvent(owner.email, 'afterfill1', timed('After backfill', '2030-06-02T10:00:00Z', '2030-06-02T11:00:00Z'));
    await waitFor(() => h.mirrorRow(owner.primary.id, 'afterfill1'), { what: 'a pushed change after backfill' });

    lines.length = 0;
    expect(await runChannelsCommand(ctx(), ['backfill'], io)).toBe(0);
    expect(lines.at(-1)).toMatch(/ 0 created/);
    expect((await h.channelRows({ calendarRowId: owner.primary.id })).filter((r) => r.status === 'active')).toHaveLength(1);
  }, 30_000);

  test('bad arguments: usage and a non-zero exit code', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), progress: () => ({ update() {}, finish() {} }) };
    expect(await runChannelsCommand(ctx(), ['frobnicate'], io)).toBe(2);
    expect(lines[0]).toContain('usage: calwatch channels backfill');
    expect(await runChannelsCommand(ctx(), ['backfill', '--concurrency', '0'], io)).toBe(2);
  });
});

describe('revocation and unlink', () => {
  test('a revoked grant stops the channels without calling Google; linking again recreates them', async () => {
    const rev = await h.linkOwner('revoked@example.com');
    const list = await h.activeChannel(rev.ownerId, null);
    const events = await h.activeChannel(rev.ownerId, rev.primary.id);
    const mark = await requestMark();
    await h.emuJson(`users/${encodeURIComponent(rev.email)}/revoke`, {});
    await h.emuJson(`users/${encodeURIComponent(rev.email)}/expire-tokens`, {});
    await h.t.trpc('calendars.resync', { externalOwnerId: rev.externalOwnerId });
    await waitFor(async () => {
      const rows = await h.sql`select status from channels where id in ${h.sql([list.id, events.id])}`;
      return rows.every((r) => r.status === 'stopped');
    }, { what: 'channels stopped on revocation' });
    expect(await requestsSince(mark, '/channels/stop')).toHaveLength(0);

    const user = await h.emuJson('users', { email: rev.email });
    const r = await h.t.trpc('links.event', { type: 'LINKED', externalOwnerId: rev.externalOwnerId, refreshToken: user.refreshToken });
    expect(r.status).toBe(200);
    const again = await h.activeChannel(rev.ownerId, rev.primary.id);
    expect(again.id).not.toBe(events.id);
    expect((await h.activeChannel(rev.ownerId, null)).id).not.toBe(list.id);
  });

  test('UNLINKED stops every channel at Google first, and leaves no channel row', async () => {
    const gone = await h.linkOwner('unlink@example.com');
    const ids = [(await h.activeChannel(gone.ownerId, null)).id, (await h.activeChannel(gone.ownerId, gone.primary.id)).id];
    const r = await h.t.trpc('links.event', { type: 'UNLINKED', externalOwnerId: gone.externalOwnerId });
    expect(r.status).toBe(200);
    for (const id of ids) expect(await emuState(id)).toBe('stopped');
    expect(await h.channelRows({ ownerId: gone.ownerId })).toHaveLength(0);
    // Their notifications, should any still come, are unknown channels: 204.
    const res = await h.post({ 'X-Goog-Channel-ID': ids[0], 'X-Goog-Resource-ID': 'x', 'X-Goog-Resource-State': 'exists', 'X-Goog-Message-Number': '9', 'X-Goog-Channel-Token': 't' });
    expect(res.status).toBe(204);
  });

  test('stopChannelsForOwner stops them all at Google, a channel Google already forgot included (404 counts as stopped)', async () => {
    const o = await h.linkOwner('stopall@example.com');
    const list = await h.activeChannel(o.ownerId, null);
    const ev = await h.activeChannel(o.ownerId, o.primary.id);
    // Stopped at Google behind our back: Google answers 404 to our stop.
    await stopChannelsForCalendar(ctx(), o.primary.id);
    await h.sql`update channels set status = 'active', stopped_at = null where id = ${ev.id}`;
    const r = await stopChannelsForOwner(ctx(), o.ownerId);
    expect(r).toEqual({ stopped: 2, failed: 0 });
    expect(await emuState(list.id)).toBe('stopped');
    const rows = await h.channelRows({ ownerId: o.ownerId });
    expect(rows.every((x) => x.status === 'stopped')).toBe(true);
  });
});
