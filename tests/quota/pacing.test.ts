// Google's quota kept by calwatch itself, proven against an emulator that enforces it as Google
// does (sliding window, 403 rateLimitExceeded / userRateLimitExceeded, 403 quotaExceeded): a burst
// of links from two processes on one database stays within the project's and each user's budget;
// interactive work goes ahead of background work; a daily limit pauses the budget, visible in
// system.info, the admin API and /metrics, and the work waits instead of failing. The window is
// 2 s here instead of Google's 60 s (GOOGLE_QUOTA_WINDOW_SECONDS and the emulator's windowMs).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { GoogleQuota } from '../../src/quota/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';

const WINDOW_S = 2;
const PROJECT = 20;
const USER = 8;
const OWNERS = 12;

let emu: Emulator;
let ctl: EmulatorControl;
let db: TestDatabase & { url: string };
let a: TestService;
let b: TestService;
let sql: postgres.Sql;

const env = {
  GOOGLE_QUOTA_PER_MINUTE: String(PROJECT),
  GOOGLE_USER_QUOTA_PER_MINUTE: String(USER),
  GOOGLE_QUOTA_WINDOW_SECONDS: String(WINDOW_S),
  LOG_LEVEL: 'info',
};

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  db = await createTestDatabase();
  a = await startTestService({ name: 'quota-a', emulatorUrl: emu.url, database: db, env });
  b = await startTestService({ name: 'quota-b', emulatorUrl: emu.url, database: db, env });
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await b?.stop();
  await a?.stop();
  await db?.drop();
  await emu?.stop();
}, 60_000);

describe('pacing', () => {
  test('a burst of links from two processes is mirrored and watched with no quota error, never above either budget', async () => {
    await ctl.json('quota', { projectPerMinute: PROJECT, userPerMinute: USER, windowMs: WINDOW_S * 1000, reset: true });
    const users = [];
    for (let i = 0; i < OWNERS; i++) users.push(await ctl.createUser(`quota${i}@example.com`));
    const answers = await Promise.all(
      users.map((u, i) => (i % 2 ? b : a).trpc('links.event', { type: 'LINKED', externalOwnerId: `quota-${i}`, refreshToken: u.refreshToken })),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    await waitFor(
      async () => {
        const [r] = await sql`
          select (select count(*)::int from calendars where "primary" and last_full_sync_at is not null) as mirrored,
                 (select count(distinct owner_id)::int from channels where status = 'active' and kind = 'events') as watched`;
        return r!.mirrored === OWNERS && r!.watched === OWNERS;
      },
      { what: 'every owner mirrored and watched', timeoutMs: 60_000, intervalMs: 200 },
    );
    const q = await ctl.json('quota');
    // More requests than one window allows: the budget was what paced them.
    expect(q.admitted).toBeGreaterThan(PROJECT * 2);
    expect(q.rejected).toEqual({ rateLimitExceeded: 0, userRateLimitExceeded: 0, quotaExceeded: 0 });
    expect(q.peakPerMinute).toBeLessThanOrEqual(PROJECT);
    expect(q.peakUserPerMinute).toBeLessThanOrEqual(USER);
    // Both processes took from the one shared budget.
    const [ra, rb] = [await a.service.ctx.quota.status(), await b.service.ctx.quota.status()];
    expect(ra.taken).toBeGreaterThan(0);
    expect(rb.taken).toBeGreaterThan(0);
  }, 90_000);

  test('interactive work goes ahead of background work waiting for the same budget', async () => {
    // Its own budget rows (a user key nobody else uses), on the shared database: 100 per 10 s.
    const quota = new GoogleQuota(a.service.ctx.db, { projectPerMinute: 100_000, userPerMinute: 100, windowSeconds: 10 });
    const key = `priority-${Date.now()}`;
    for (let i = 0; i < 10; i++) await quota.take(key, 'interactive');
    const done: string[] = [];
    const background = Array.from({ length: 8 }, (_, i) => quota.take(key, 'background').then(() => done.push(`b${i}`)));
    await Bun.sleep(50);
    const interactive = Array.from({ length: 3 }, (_, i) => quota.take(key, 'interactive').then(() => done.push(`i${i}`)));
    await Promise.all([...background, ...interactive]);
    // All three interactive takers were served before the third background one.
    const lastInteractive = Math.max(...['i0', 'i1', 'i2'].map((k) => done.indexOf(k)));
    expect(lastInteractive).toBeLessThan(done.filter((k) => k.startsWith('b')).map((k) => done.indexOf(k))[2]!);
  }, 30_000);
});

describe('a daily limit (quotaExceeded)', () => {
  test('pauses the project budget: shown in system.info, the admin API and /metrics; the sync waits for a retry instead of failing', async () => {
    await ctl.json('quota', { projectPerMinute: null, userPerMinute: null, dailyPerProject: 1, reset: true });
    const user = await ctl.createUser('daily@example.com');
    await a.trpc('links.event', { type: 'LINKED', externalOwnerId: 'daily-1', refreshToken: user.refreshToken });
    const info = await waitFor(
      async () => {
        const r = await a.trpc<{ quota: { pausedUntil: string | null; pausedReason: string | null } }>('system.info', undefined, { method: 'query' });
        return r.body.result?.data.quota.pausedUntil ? r.body.result.data : undefined;
      },
      { what: 'the project budget paused', timeoutMs: 30_000 },
    );
    expect(new Date(info.quota.pausedUntil!).getTime()).toBeGreaterThan(Date.now() + 60_000);
    expect(info.quota.pausedReason).toContain('quotaExceeded');
    const gql = await b.graphql<{ system: { quota: { pausedUntil: string | null } } }>('{ system { quota { pausedUntil pausedReason } } }');
    expect(gql.body.data?.system.quota.pausedUntil).toBe(info.quota.pausedUntil);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/calwatch_google_quota_paused\{budget="project"\} 1/);
    // The process whose request Google refused counts it (quotaExceeded is not retried in the call:
    // often a single 403, in either process).
    const both = metrics + (await (await fetch(`${b.url}/metrics`)).text());
    expect(both).toMatch(/calwatch_google_rate_limited_total\{reason="quotaExceeded"\} [1-9]/);
    // Nothing failed for good: the owner's work is waiting for its retry.
    const [failed] = await sql`select count(*)::int as n from pgboss.job where state = 'failed'`;
    expect(failed!.n).toBe(0);
    // While paused, nothing more is sent to Google for this project.
    const mark = await ctl.requestMark();
    await Bun.sleep(1500);
    expect((await ctl.requests({ sinceId: mark })).filter((r) => r.path.startsWith('/calendar/v3'))).toEqual([]);
  }, 60_000);
});
