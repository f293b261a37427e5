// Tokens Google refuses, and full syncs that stop half-way: a sync token
// Google cannot read (400 "Invalid Value") is dropped like a 410, for events and for the calendar
// list; a sync token too old for Google (410 on the emulator's token clock) is replaced by a full
// sync; a full sync interrupted after its first page resumes from its page token on the job's retry,
// and starts over from the first page when Google refuses that token (too old) or when calwatch
// holds it too long to trust (SYNC_RESUME_MAX_AGE_SECONDS).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule } from '../../src/context/index.ts';
import { enqueueCalendarListSync, enqueueEventSync, getCalendar } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import type { EmulatorRequest } from '../support/emulator-control.ts';
import { eventId, startSyncHarness, timed, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const EMAIL = 'tok-tina@example.com';
const OWNER = 'tok-owner';
const RESUMED = 'resumed-tok@group.calendar.google.com';
const REFUSED = 'refused-tok@group.calendar.google.com';
const STALE = 'stale-tok@group.calendar.google.com';
let ownerId: string;
/** The calendar whose next full sync fails after its first page (Google answers 500 three times: one job attempt). */
let failAfterFirstPage: string | null = null;

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-tokens',
  reactions: {
    eventChanges: async (_ctx, cs) => {
      if (cs.calendarId !== failAfterFirstPage || !cs.fullSync) return;
      failAfterFirstPage = null;
      await h.emuJson('faults', { status: 500, count: 3, paths: encodeURIComponent(cs.calendarId) });
    },
  },
};

beforeAll(async () => {
  h = await startSyncHarness('sync-tokens', { extraModules: [probe], env: { SYNC_PAGE_SIZE: '5' } });
  await h.emuJson('users', { email: EMAIL });
  for (const [n, id] of [RESUMED, REFUSED, STALE].entries()) {
    await h.emuJson('calendars', { owner: EMAIL, id, summary: id, timeZone: 'UTC' });
    // 12 events: pages of 5, 5 and 2.
    for (let i = 0; i < 12; i++) {
      const day = String(i + 1).padStart(2, '0');
      await h.putEvent(id, eventId(`tk${n}`, i), timed(`${id} ${i}`, `2031-10-${day}T10:00:00Z`, `2031-10-${day}T11:00:00Z`));
    }
  }
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER));
}, 90_000);
afterAll(() => h?.stop(), 30_000);

async function expectMirrorEqualsLive(googleCalendarId: string): Promise<void> {
  const cal = await h.calendar(ownerId, googleCalendarId);
  const live = await h.liveEvents(googleCalendarId);
  const mirror = await h.mirror(cal.id);
  expect([...mirror.keys()].sort()).toEqual([...live.keys()].sort());
  for (const [id, ev] of live) expect(mirror.get(id)!.etag).toBe(ev.etag);
}

/** GETs of this calendar's events since `mark`, in order. */
async function listCalls(mark: number, googleCalendarId: string): Promise<EmulatorRequest[]> {
  return (await h.requests(mark, '/events')).filter((r) => r.method === 'GET' && r.path.includes(encodeURIComponent(googleCalendarId)));
}

async function selectAndWaitForFullSync(googleCalendarId: string): Promise<void> {
  const cal = await h.calendar(ownerId, googleCalendarId);
  await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: googleCalendarId, selected: true });
  await waitFor(async () => (await getCalendar(h.t.service.ctx, cal.id))?.syncError, { what: `the interrupted full sync of ${googleCalendarId}` });
  await waitFor(async () => (await getCalendar(h.t.service.ctx, cal.id))?.lastFullSyncAt, { what: `the retried full sync of ${googleCalendarId}`, timeoutMs: 45_000 });
}

describe('a full sync interrupted after its first page', () => {
  test('resumes from its page token on the retry: no page is listed twice, and the mirror ends equal to Google', async () => {
    const cal = await h.calendar(ownerId, RESUMED);
    const mark = await h.requestMark();
    failAfterFirstPage = RESUMED;
    await selectAndWaitForFullSync(RESUMED);
    await waitFor(async () => (await listCalls(mark, RESUMED)).length >= 7, { what: 'the incremental sync after the resumed full sync' });
    await h.idle(cal.id);
    const calls = await listCalls(mark, RESUMED);
    // Page 1, three 500s for page 2 (one job attempt), then the retry: pages 2 and 3, from the stored
    // token; then one incremental sync from the new token (changes made since the first page).
    expect(calls.map((r) => r.status)).toEqual([200, 500, 500, 500, 200, 200, 200]);
    expect(calls[0]!.query.pageToken).toBeUndefined();
    for (const r of calls.slice(1, 6)) expect(r.query.pageToken).toBeString();
    expect(calls[4]!.query.pageToken).toBe(calls[1]!.query.pageToken as string);
    expect(calls[6]!.query.syncToken).toBeString();
    await expectMirrorEqualsLive(RESUMED);
    const [row] = await h.sql`select resume_page_token, resume_generation, resume_started_at, sync_token from calendars where id = ${cal.id}`;
    expect(row).toMatchObject({ resume_page_token: null, resume_generation: null, resume_started_at: null });
    expect(row!.sync_token).toBeString();
    const done = await getCalendar(h.t.service.ctx, cal.id);
    expect(done?.syncError).toBeNull();
  }, 60_000);

  test('starts over from the first page, in a new generation, when Google refuses the page token as too old (400)', async () => {
    const cal = await h.calendar(ownerId, REFUSED);
    const mark = await h.requestMark();
    failAfterFirstPage = REFUSED;
    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: REFUSED, selected: true });
    await waitFor(async () => (await getCalendar(h.t.service.ctx, cal.id))?.syncError, { what: 'the interrupted full sync' });
    const [before] = await h.sql`select sync_generation from calendars where id = ${cal.id}`;
    // The listing is now older than the emulator's page-token lifetime (1 h); calwatch's own limit (30 min on its clock) is not reached.
    await h.emuJson('token-clock', { advanceSeconds: 3601 });
    // Google changes meanwhile: an event of the committed first page goes.
    const firstPage = [...(await h.mirror(cal.id)).keys()];
    expect(firstPage).toHaveLength(5);
    await h.deleteEvent(REFUSED, firstPage[0]!);
    await waitFor(async () => (await getCalendar(h.t.service.ctx, cal.id))?.lastFullSyncAt, { what: 'the restarted full sync', timeoutMs: 45_000 });
    const calls = await listCalls(mark, REFUSED);
    expect(calls.map((r) => r.status)).toEqual([200, 500, 500, 500, 400, 200, 200, 200]);
    expect(calls[5]!.query.pageToken).toBeUndefined();
    const [after] = await h.sql`select sync_generation from calendars where id = ${cal.id}`;
    expect(Number(after!.sync_generation)).toBe(Number(before!.sync_generation) + 1);
    await expectMirrorEqualsLive(REFUSED);
    expect((await h.mirror(cal.id)).has(firstPage[0]!)).toBe(false);
  }, 60_000);

  test('starts over from the first page when the page token is older than SYNC_RESUME_MAX_AGE_SECONDS on calwatch\'s clock', async () => {
    const cal = await h.calendar(ownerId, STALE);
    const mark = await h.requestMark();
    failAfterFirstPage = STALE;
    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: STALE, selected: true });
    await waitFor(async () => (await getCalendar(h.t.service.ctx, cal.id))?.syncError, { what: 'the interrupted full sync' });
    h.t.clock.advance(1801_000);
    try {
      await waitFor(async () => (await getCalendar(h.t.service.ctx, cal.id))?.lastFullSyncAt, { what: 'the restarted full sync', timeoutMs: 45_000 });
    } finally {
      h.t.clock.advance(-1801_000);
    }
    const calls = await listCalls(mark, STALE);
    // Not even tried: the retry lists from the first page.
    expect(calls.map((r) => r.status)).toEqual([200, 500, 500, 500, 200, 200, 200]);
    expect(calls[4]!.query.pageToken).toBeUndefined();
    await expectMirrorEqualsLive(STALE);
  }, 60_000);
});

describe('sync tokens Google refuses', () => {
  test('a token Google cannot read (400 Invalid Value) is dropped like a 410: a full sync, then incremental syncs again', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    const before = await getCalendar(h.t.service.ctx, cal.id);
    // A token from elsewhere (another format, a corrupted row): the emulator answers it as Google does.
    await h.sql`update calendars set sync_token = 'not-a-google-token' where id = ${cal.id}`;
    await h.putEvent(EMAIL, 'tokbad0001', timed('after the bad token', '2031-11-01T10:00:00Z', '2031-11-01T11:00:00Z'));
    const mark = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    const synced = await waitFor(async () => {
      const c = await getCalendar(h.t.service.ctx, cal.id);
      return c?.lastFullSyncAt && (!before?.lastFullSyncAt || c.lastFullSyncAt > before.lastFullSyncAt) ? c : undefined;
    }, { what: 'the full sync that replaced the bad token' });
    expect(synced.syncError).toBeNull();
    expect((await h.mirror(cal.id)).has('tokbad0001')).toBe(true);
    const calls = await listCalls(mark, EMAIL);
    expect(calls.map((r) => r.status)).toEqual([400, 200]);
    expect(calls[0]!.query.syncToken).toBe('not-a-google-token');
    expect(calls[1]!.query.syncToken).toBeUndefined();
    const [row] = await h.sql`select sync_token from calendars where id = ${cal.id}`;
    expect(row!.sync_token).not.toBe('not-a-google-token');
    // And the calendar is not stuck: the next sync is incremental with the new token.
    await h.putEvent(EMAIL, 'tokbad0002', timed('next', '2031-11-02T10:00:00Z', '2031-11-02T11:00:00Z'));
    const mark2 = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    await h.syncedAfter(cal.id, synced.lastSyncedAt);
    expect((await h.mirror(cal.id)).has('tokbad0002')).toBe(true);
    const next = await listCalls(mark2, EMAIL);
    expect(next.map((r) => [r.status, typeof r.query.syncToken])).toEqual([[200, 'string']]);
  }, 30_000);

  test('a calendar-list token Google cannot read is dropped too: a full list, and calendars added at Google appear', async () => {
    await h.sql`update calendar_lists set sync_token = 'not-a-google-token' where owner_id = ${ownerId}`;
    const ADDED = 'added-after-bad-token@group.calendar.google.com';
    await h.emuJson('calendars', { owner: EMAIL, id: ADDED, summary: 'Added', timeZone: 'UTC' });
    await enqueueCalendarListSync(h.t.service.ctx, ownerId, { reason: 'manual' });
    await waitFor(async () => (await h.sql`select 1 from calendars where owner_id = ${ownerId} and google_calendar_id = ${ADDED}`).length > 0, { what: 'the calendar added at Google' });
    const [list] = await h.sql`select sync_token, sync_error from calendar_lists where owner_id = ${ownerId}`;
    expect(list!.sync_token).not.toBe('not-a-google-token');
    expect(list!.sync_error).toBeNull();
  }, 30_000);

  test('a token older than Google keeps it (410 on the emulator\'s token clock, 7 days) is replaced by a full sync', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    const before = await getCalendar(h.t.service.ctx, cal.id);
    await h.emuJson('token-clock', { advanceSeconds: 7 * 86_400 + 1 });
    const mark = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    await waitFor(async () => {
      const c = await getCalendar(h.t.service.ctx, cal.id);
      return c?.lastFullSyncAt && c.lastFullSyncAt > before!.lastFullSyncAt! ? c : undefined;
    }, { what: 'the full sync after the 410' });
    expect((await listCalls(mark, EMAIL)).map((r) => r.status)).toEqual([410, 200]);
    await expectMirrorEqualsLive(EMAIL);
  }, 30_000);
});
