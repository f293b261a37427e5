// The safety net for push: a change whose notification Google never sent is still mirrored, because
// a channel silent longer than the threshold (or a calendar left unwatched) gets an incremental sync.
// (That no other channel needs to be talking is shown in unforgiving-google.test.ts.)
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { syncSilentCalendars, stopChannel, listChannels } from '../../src/channels/index.ts';
import { findCalendar } from '../../src/sync/index.ts';
import { startServiceWithEmulator, type ServiceWithEmulator } from '../support/service-with-emulator.ts';
import { waitFor } from '../support/service.ts';

const THRESHOLD_SECONDS = 3;
let h: ServiceWithEmulator;
let alice: string;
let bob: string;

const event = (summary: string, day: number) => ({
  summary,
  start: { dateTime: `2031-01-${String(day).padStart(2, '0')}T10:00:00Z` },
  end: { dateTime: `2031-01-${String(day).padStart(2, '0')}T11:00:00Z` },
});

async function mirrored(ownerId: string, summary: string): Promise<boolean> {
  const [row] = await h.sql`select 1 from calendar_events where owner_id = ${ownerId} and summary = ${summary}`;
  return row !== undefined;
}

beforeAll(async () => {
  h = await startServiceWithEmulator({ name: 'channels-silent', env: { SYNC_SILENT_THRESHOLD_SECONDS: String(THRESHOLD_SECONDS) } });
  alice = await h.linkOwner('alice@example.com', 'silent-alice');
  bob = await h.linkOwner('bob@example.com', 'silent-bob');
  for (const owner of [alice, bob]) {
    const cal = await h.primarySynced(owner, { what: 'first sync' });
    await waitFor(async () => (await listChannels(h.t.service.ctx, { status: 'active', calendarRowId: cal.id })).length === 1, { what: 'channel active' });
  }
  // The sync each new watch asks for (covering changes between the first sync and the watch) is done.
  await h.jobsSettled(h.sql`name = 'sync.events'`, { what: 'first syncs settled' });
}, 60_000);

afterAll(() => h?.stop(), 30_000);

test('a change Google never announced is synced once its channel stays silent while others talk', async () => {
  const ctx = h.t.service.ctx;
  // Google drops the notification of alice's change.
  await h.ctl.faults({ dropNotifications: 1 });
  await h.ctl.putEvent('alice@example.com', 'silentevt001', event('Unannounced', 5));
  await h.ctl.faults({ dropNotifications: 0 });

  // Not yet past the threshold: nothing to do, and the change is not mirrored.
  expect(await syncSilentCalendars(ctx)).toEqual({ silent: 0, unwatched: 0 });
  expect(await mirrored(alice, 'Unannounced')).toBe(false);

  // The threshold passes (the definition of "silent"), then bob's calendar talks.
  await Bun.sleep(THRESHOLD_SECONDS * 1000 + 200);
  await h.ctl.putEvent('bob@example.com', 'silentevt002', event('Announced', 6));
  await waitFor(() => mirrored(bob, 'Announced'), { what: "bob's change mirrored through push" });

  const swept = await syncSilentCalendars(ctx);
  expect(swept.silent).toBe(1);
  await waitFor(() => mirrored(alice, 'Unannounced'), { what: "alice's unannounced change mirrored by the safety net" });

  // Synced just now: not again before another threshold has passed.
  expect((await syncSilentCalendars(ctx)).silent).toBe(0);
}, 60_000);

test('a selected calendar left without a channel is synced by the safety net', async () => {
  const ctx = h.t.service.ctx;
  const cal = (await findCalendar(ctx, alice, 'primary'))!;
  for (const c of await listChannels(ctx, { status: 'active', calendarRowId: cal.id })) await stopChannel(ctx, c.id);
  await h.ctl.putEvent('alice@example.com', 'silentevt003', event('Unwatched', 7));
  await Bun.sleep(THRESHOLD_SECONDS * 1000 + 200);
  const swept = await syncSilentCalendars(ctx);
  expect(swept.unwatched).toBeGreaterThanOrEqual(1);
  await waitFor(() => mirrored(alice, 'Unwatched'), { what: 'the unwatched calendar synced' });
}, 60_000);
