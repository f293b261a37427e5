// Google failing: a full sync interrupted by 500s mid-way, retried by the job queue (resumed from
// its page token, then one incremental sync) to the right state; rate limits retried within the call; a revoked grant failing the sync for good (no retry
// forever) with the error recorded on the calendar.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule } from '../../src/context/index.ts';
import { enqueueEventSync, getCalendar } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { eventId, startSyncHarness, timed, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const EMAIL = 'fail-frank@example.com';
const OWNER = 'fail-owner';
const FLAKY = 'flaky-fail@group.calendar.google.com';
let ownerId: string;
let armed = false;

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-failures',
  reactions: {
    eventChanges: async (_ctx, cs) => {
      if (cs.calendarId !== FLAKY || !armed) return;
      armed = false;
      await h.emuJson('faults', { status: 500, count: 3, paths: '/events' });
    },
  },
};

beforeAll(async () => {
  // After the first page of the flaky calendar's first full sync commits, Google starts failing.
  h = await startSyncHarness('sync-failures', { extraModules: [probe], env: { SYNC_PAGE_SIZE: '5' } });
  await h.emuJson('users', { email: EMAIL });
  await h.emuJson('calendars', { owner: EMAIL, id: FLAKY, summary: 'Flaky', timeZone: 'UTC' });
  for (let i = 0; i < 12; i++) await h.putEvent(FLAKY, eventId('flk', i), timed(`flaky ${i}`, `2031-08-${String(i + 1).padStart(2, '0')}T10:00:00Z`, `2031-08-${String(i + 1).padStart(2, '0')}T11:00:00Z`));
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER));
}, 60_000);
afterAll(() => h?.stop(), 30_000);

describe('a full sync interrupted by 500s', () => {
  test('keeps what it committed, records the error, and its retry ends in the live state', async () => {
    const flaky = await h.calendar(ownerId, FLAKY);
    armed = true;
    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: FLAKY, selected: true });
    const failed = await waitFor(async () => {
      const c = await getCalendar(h.t.service.ctx, flaky.id);
      return c?.syncError ? c : undefined;
    }, { what: 'the interrupted sync recorded its error' });
    expect(failed.syncError).toMatch(/500/);
    expect(failed.hasSyncToken).toBe(false);
    expect(failed.lastFullSyncAt).toBeNull();
    // The first page stays (readers see events appear, never disappear), nothing more.
    const partial = await h.mirror(flaky.id);
    expect(partial.size).toBe(5);
    const owner = await h.t.trpc<{ lastError: string | null }>('links.get', { externalOwnerId: OWNER });
    expect(owner.body.result?.data.lastError).toMatch(/flaky-fail.*500/);

    // Google changes while the job waits for its retry: one event of the first page goes, one comes.
    const goneId = [...partial.keys()][0]!;
    await h.deleteEvent(FLAKY, goneId);
    await h.putEvent(FLAKY, 'flkafter01', timed('after the failure', '2031-08-20T10:00:00Z', '2031-08-20T11:00:00Z'));

    const done = await waitFor(async () => {
      const c = await getCalendar(h.t.service.ctx, flaky.id);
      return c?.lastFullSyncAt ? c : undefined;
    }, { what: 'the retried full sync', timeoutMs: 25_000 });
    expect(done.syncError).toBeNull();
    expect(done.hasSyncToken).toBe(true);
    // The retry resumed from the stored page token (Google's snapshot of the first page); the
    // incremental sync it queued brings the changes made meanwhile: the mirror ends live.
    const live = await h.liveEvents(FLAKY);
    const mirror = await waitFor(async () => {
      const m = await h.mirror(flaky.id);
      return [...m.keys()].sort().join() === [...live.keys()].sort().join() ? m : undefined;
    }, { what: 'the mirror equal to Google after the resumed full sync and its incremental sync' });
    expect(mirror.has(goneId)).toBe(false);
    for (const [id, ev] of live) expect(mirror.get(id)!.etag).toBe(ev.etag);
    // It was the job queue's retry (same job, attempt 2), not a new request.
    const [job] = await h.sql`select retry_count, state from pgboss.job where name = 'sync.events' and singleton_key = ${flaky.id} and retry_count > 0`;
    expect(job).toBeDefined();
    const owner2 = await h.t.trpc<{ lastError: string | null }>('links.get', { externalOwnerId: OWNER });
    expect(owner2.body.result?.data.lastError).toBeNull();
  }, 40_000);
});

describe('rate limits', () => {
  test('429 and 403 rateLimitExceeded are retried with backoff inside the sync, which then succeeds', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    await h.putEvent(EMAIL, 'ratelimit01', timed('rl', '2031-09-01T10:00:00Z', '2031-09-01T11:00:00Z'));
    await h.emuJson('faults', { status: 429, count: 1, paths: '/events' });
    const mark = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    const synced = await h.syncedAfter(cal.id, cal.lastSyncedAt);
    expect(synced.syncError).toBeNull();
    expect((await h.mirror(cal.id)).has('ratelimit01')).toBe(true);
    const statuses = (await h.requests(mark, '/events')).filter((r) => r.method === 'GET').map((r) => r.status);
    expect(statuses).toEqual([429, 200]);

    await h.putEvent(EMAIL, 'ratelimit02', timed('rl2', '2031-09-02T10:00:00Z', '2031-09-02T11:00:00Z'));
    await h.emuJson('faults', { status: 403, reason: 'userRateLimitExceeded', count: 2, paths: '/events' });
    const mark2 = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    await h.syncedAfter(cal.id, synced.lastSyncedAt);
    expect((await h.mirror(cal.id)).has('ratelimit02')).toBe(true);
    expect((await h.requests(mark2, '/events')).filter((r) => r.method === 'GET').map((r) => r.status)).toEqual([403, 403, 200]);
  }, 30_000); // Google's backoff: 1 s, then 2 s, plus up to a second of jitter each
});

describe('a revoked grant', () => {
  test('fails the sync for good (not retried), records the error and marks the owner revoked; the mirror stays readable', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    await h.emuJson(`users/${encodeURIComponent(EMAIL)}/revoke`, {});
    await h.emuJson(`users/${encodeURIComponent(EMAIL)}/expire-tokens`, {});
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    const failed = await waitFor(async () => {
      const [j] = await h.sql`select state, retry_count from pgboss.job where name = 'sync.events' and singleton_key = ${cal.id} and state = 'failed'`;
      return j;
    }, { what: 'the sync job failed for good' });
    expect(failed.retry_count).toBe(0);
    const c = await getCalendar(h.t.service.ctx, cal.id);
    expect(c!.syncError).toMatch(/invalid_grant|revoked|UPSTREAM_AUTH|Google/i);
    const status = await h.t.trpc<{ status: string }>('links.get', { externalOwnerId: OWNER });
    expect(status.body.result?.data.status).toBe('revoked');
    const listed = await h.t.trpc<{ items: unknown[] }>('events.list', { externalOwnerId: OWNER, from: '2031-09-01T00:00:00Z', to: '2031-09-03T00:00:00Z' });
    expect(listed.body.result?.data.items.length).toBe(2);
    // Nothing left queued or retrying for this calendar.
    const [pending] = await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${cal.id} and state in ('created', 'retry', 'active')`;
    expect(pending!.n).toBe(0);
  });
});
