// Google's server errors and its daily limit, as the emulator now sends them:
// 502 (the front end's HTML page) and 503 (UNAVAILABLE) are transient, retried with backoff inside
// the sync; 403 quotaExceeded is a daily limit, not retried in a loop: one request, the budget
// paused by the quota module, the job retried when the pause ends. Last in the file: it pauses the
// project budget of this suite's service.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { enqueueEventSync, getCalendar } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startSyncHarness, timed, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const EMAIL = 'errors-erin@example.com';
let ownerId: string;

beforeAll(async () => {
  h = await startSyncHarness('sync-google-errors');
  await h.emuJson('users', { email: EMAIL });
  ({ ownerId } = await h.linkOwner(EMAIL, 'errors-owner'));
}, 60_000);
afterAll(() => h?.stop(), 30_000);

async function eventListStatuses(mark: number): Promise<number[]> {
  return (await h.requests(mark, '/events')).filter((r) => r.method === 'GET').map((r) => r.status);
}

describe('5xx', () => {
  test('502 (an HTML page, not JSON) and 503 are retried with backoff inside the sync, which then succeeds', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    await h.putEvent(EMAIL, 'err5020001', timed('after a 502', '2031-12-01T10:00:00Z', '2031-12-01T11:00:00Z'));
    await h.emuJson('faults', { status: 502, count: 1, paths: '/events' });
    const mark = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    const synced = await h.syncedAfter(cal.id, cal.lastSyncedAt);
    expect(synced.syncError).toBeNull();
    expect((await h.mirror(cal.id)).has('err5020001')).toBe(true);
    expect(await eventListStatuses(mark)).toEqual([502, 200]);

    await h.putEvent(EMAIL, 'err5030001', timed('after two 503s', '2031-12-02T10:00:00Z', '2031-12-02T11:00:00Z'));
    await h.emuJson('faults', { status: 503, count: 2, paths: '/events' });
    const mark2 = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    const again = await h.syncedAfter(cal.id, synced.lastSyncedAt);
    expect(again.syncError).toBeNull();
    expect((await h.mirror(cal.id)).has('err5030001')).toBe(true);
    expect(await eventListStatuses(mark2)).toEqual([503, 503, 200]);
  }, 30_000); // backoff 1 s, then 2 s, plus up to a second of jitter each
});

describe('403 quotaExceeded (a daily limit)', () => {
  test('is not retried in the call: one request, the error recorded as Google\'s, the budget paused, the job retried when the pause ends', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    await h.putEvent(EMAIL, 'errquota01', timed('during the daily limit', '2031-12-03T10:00:00Z', '2031-12-03T11:00:00Z'));
    // Google keeps answering quotaExceeded: a loop would show as more 403s.
    await h.emuJson('faults', { status: 403, reason: 'quotaExceeded', count: 10, paths: '/events' });
    const mark = await h.requestMark();
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'notification' });
    const [job] = await waitFor(
      async () => {
        const rows = await h.sql`select state, start_after, retry_count, start_after - now() as wait
          from pgboss.job where name = 'sync.events' and singleton_key = ${cal.id} and state = 'retry'`;
        return rows.length > 0 ? rows : undefined;
      },
      { what: 'the sync job waiting for its retry' },
    );
    // Deferred to the end of the pause (5 minutes the first time), not pg-boss's 5 s backoff.
    const waitSeconds = (new Date(job!.start_after).getTime() - Date.now()) / 1000;
    expect(waitSeconds).toBeGreaterThan(200);
    expect(await eventListStatuses(mark)).toEqual([403]);
    const failed = await getCalendar(h.t.service.ctx, cal.id);
    expect(failed?.syncError).toMatch(/403 quotaExceeded/);
    const quota = await h.t.service.ctx.quota.status();
    expect(quota.project?.pausedUntil?.getTime() ?? 0).toBeGreaterThan(Date.now() + 200_000);
    expect((await h.mirror(cal.id)).has('errquota01')).toBe(false);
  }, 30_000);
});
