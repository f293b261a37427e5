// Google Calendar's per-minute quotas (per project, per user per project; sliding window) and the optional
// daily limit, driven with the real googleapis client, plus the keeper itself against a brute-force model.
// Sources: Calendar quota guide and errors guide (FACTS §3; bodies in ../shared/google/doc-examples/).

import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { QuotaKeeper, TimeRing } from '../../src/emulator/quota.ts';
import { control, failure, newUser, start, startReceiver, type TestUser } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite();

// The raw answers: gaxios would retry a 429 on GET by itself.
const noRetry = { retry: false } as const;

// Google's documented bodies (errors guide), as in ../shared/google/doc-examples/*.json.
const body = (code: number, reason: string, message: string) => ({ error: { errors: [{ domain: 'usageLimits', reason, message }], code, message } });
const RATE_403 = body(403, 'rateLimitExceeded', 'Rate Limit Exceeded');
const RATE_429 = body(429, 'rateLimitExceeded', 'Rate Limit Exceeded');
const USER_403 = body(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded');
const DAILY_403 = body(403, 'quotaExceeded', 'Calendar usage limits exceeded.');

interface QuotaView {
  projectPerMinute: number | null;
  userPerMinute: number | null;
  dailyPerProject: number | null;
  projectLimitStatus: 403 | 429 | 'alternate';
  windowMs: number;
  admitted: number;
  rejected: { rateLimitExceeded: number; userRateLimitExceeded: number; quotaExceeded: number };
  peakPerMinute: number;
  peakUserPerMinute: number;
  currentPerMinute: number;
  users: Record<string, { admitted: number; rejected: number; peakPerMinute: number; currentPerMinute: number }>;
  perMinute: Array<{ start: string; admitted: number; rejected: number }>;
}

const quota = (set?: Record<string, unknown>): Promise<QuotaView> =>
  set === undefined ? control<QuotaView>(suite.emu, 'GET', 'quota') : control<QuotaView>(suite.emu, 'POST', 'quota', set);

/** One cheap Calendar API call; resolves to its status (errors included). */
async function call(u: TestUser): Promise<number> {
  try {
    return (await u.calendar.calendarList.list({}, noRetry)).status;
  } catch (e) {
    const status = (e as { response?: { status: number } }).response?.status;
    if (status === undefined) throw e;
    return status;
  }
}

async function calls(u: TestUser, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await call(u));
  return out;
}

async function users(...emails: string[]): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (const e of emails) {
    const u = await newUser(suite.emu, e);
    await u.auth.getAccessToken(); // the token refresh now, so that timing below is Calendar calls only
    out.push(u);
  }
  return out;
}

const sleepUntil = async (t: number): Promise<void> => {
  const d = t - performance.now();
  if (d > 0) await Bun.sleep(d);
};

describe('defaults and the control API', () => {
  test('unlimited by default, and nothing is refused', async () => {
    const [alice] = await users('alice@example.com');
    expect(await calls(alice!, 20)).toEqual(Array(20).fill(200));
    const q = await quota();
    expect(q).toMatchObject({
      projectPerMinute: null, userPerMinute: null, dailyPerProject: null, projectLimitStatus: 403, windowMs: 60_000,
      admitted: 20, rejected: { rateLimitExceeded: 0, userRateLimitExceeded: 0, quotaExceeded: 0 }, peakPerMinute: 20, peakUserPerMinute: 20,
    });
    expect(q.users['alice@example.com']).toEqual({ admitted: 20, rejected: 0, peakPerMinute: 20, currentPerMinute: 20 });
    expect(q.perMinute.reduce((n, b) => n + b.admitted, 0)).toBe(20);
  });

  test('settings merge (null = unlimited), invalid ones answer 400, reset restores the start-up settings', async () => {
    expect(await quota({ projectPerMinute: 100, userPerMinute: 10 })).toMatchObject({ projectPerMinute: 100, userPerMinute: 10, dailyPerProject: null });
    expect(await quota({ userPerMinute: null, projectLimitStatus: 429 })).toMatchObject({ projectPerMinute: 100, userPerMinute: null, projectLimitStatus: 429 });
    for (const bad of [{ projectPerMinute: 0 }, { userPerMinute: 1.5 }, { projectLimitStatus: 500 }, { windowMs: 0 }, { perMinute: 5 }]) {
      const res = await fetch(`${suite.emu.url}_emulator/quota`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bad) });
      expect(res.status).toBe(400);
    }
    await control(suite.emu, 'POST', 'reset');
    expect(await quota()).toMatchObject({ projectPerMinute: null, userPerMinute: null, projectLimitStatus: 403, windowMs: 60_000, admitted: 0 });
  });

  test('the documented bodies are the ones in doc-examples', () => {
    const dir = new URL('../../../shared/google/doc-examples/', import.meta.url);
    const files: Array<[string, unknown]> = [
      ['error-403-rateLimitExceeded.json', RATE_403], ['error-429-rateLimitExceeded.json', RATE_429],
      ['error-403-userRateLimitExceeded.json', USER_403], ['error-403-quotaExceeded.json', DAILY_403],
    ];
    if (!existsSync(dir)) return; // the shared Google notes are not part of this repository
    for (const [name, expected] of files) expect(JSON.parse(readFileSync(new URL(name, dir), 'utf8'))).toEqual(expected);
  });

  test('EMULATOR_QUOTA_PER_MINUTE and EMULATOR_USER_QUOTA_PER_MINUTE set the start-up limits; invalid values refuse to start', async () => {
    const emu = await start({ env: { EMULATOR_QUOTA_PER_MINUTE: '10000', EMULATOR_USER_QUOTA_PER_MINUTE: ' 600 ' } });
    try {
      const get = async () => (await (await fetch(`${emu.url}_emulator/quota`)).json()) as QuotaView;
      expect(await get()).toMatchObject({ projectPerMinute: 10_000, userPerMinute: 600 });
      await fetch(`${emu.url}_emulator/quota`, { method: 'POST', body: JSON.stringify({ projectPerMinute: null }) });
      await fetch(`${emu.url}_emulator/reset`, { method: 'POST' });
      expect(await get()).toMatchObject({ projectPerMinute: 10_000, userPerMinute: 600 });
    } finally {
      await emu.stop();
    }
    const unset = await start({ env: { EMULATOR_QUOTA_PER_MINUTE: '' } });
    try {
      expect(await (await fetch(`${unset.url}_emulator/quota`)).json()).toMatchObject({ projectPerMinute: null, userPerMinute: null });
    } finally {
      await unset.stop();
    }
    for (const v of ['0', '-5', '1.5', 'lots']) {
      await expect(start({ env: { EMULATOR_USER_QUOTA_PER_MINUTE: v } })).rejects.toThrow(/EMULATOR_USER_QUOTA_PER_MINUTE must be a positive integer/);
    }
    // Options win over the environment.
    const opt = await start({ quotaPerMinute: 7, env: { EMULATOR_QUOTA_PER_MINUTE: '5' } });
    try {
      expect(await (await fetch(`${opt.url}_emulator/quota`)).json()).toMatchObject({ projectPerMinute: 7 });
    } finally {
      await opt.stop();
    }
  });
});

describe('per-minute limits', () => {
  test('the project limit answers 403 rateLimitExceeded with Google\'s body to every user, no Retry-After', async () => {
    const [alice, bob] = await users('alice@example.com', 'bob@example.com');
    await quota({ projectPerMinute: 3 });
    expect(await calls(alice!, 2)).toEqual([200, 200]);
    expect(await calls(bob!, 1)).toEqual([200]);
    const err = await failure(() => alice!.calendar.events.list({ calendarId: 'primary' }, noRetry));
    expect(err.status).toBe(403);
    expect(err.body).toEqual(RATE_403);
    const headers = err.headers instanceof Headers ? Object.fromEntries(err.headers) : err.headers;
    expect(headers['retry-after']).toBeUndefined();
    expect((await failure(() => bob!.calendar.calendarList.list({}, noRetry))).body).toEqual(RATE_403);
    // Writes are refused too, and nothing is written.
    const write = await failure(() => bob!.calendar.events.insert({ calendarId: 'primary', requestBody: { start: { date: '2030-01-01' }, end: { date: '2030-01-02' } } }, noRetry));
    expect(write.body).toEqual(RATE_403);
    expect(await control(suite.emu, 'GET', 'calendars/bob%40example.com/events')).toEqual({ items: [] });
    expect(await quota()).toMatchObject({ admitted: 3, rejected: { rateLimitExceeded: 3, userRateLimitExceeded: 0, quotaExceeded: 0 }, peakPerMinute: 3 });
    // The request log shows the refusals with their user.
    const log = await control<{ items: Array<{ user: string; status: number }> }>(suite.emu, 'GET', 'requests?path=/calendar/v3');
    expect(log.items.map((r) => `${r.user} ${r.status}`)).toEqual([
      'alice@example.com 200', 'alice@example.com 200', 'bob@example.com 200', 'alice@example.com 403', 'bob@example.com 403', 'bob@example.com 403',
    ]);
  });

  test('projectLimitStatus 429 answers Google\'s 429 body; "alternate" answers 403, 429, 403, ...', async () => {
    const [alice] = await users('alice@example.com');
    await quota({ projectPerMinute: 1, projectLimitStatus: 429 });
    expect(await call(alice!)).toBe(200);
    const err = await failure(() => alice!.calendar.calendarList.list({}, noRetry));
    expect(err.status).toBe(429);
    expect(err.body).toEqual(RATE_429);
    const headers = err.headers instanceof Headers ? Object.fromEntries(err.headers) : err.headers;
    expect(headers['retry-after']).toBeUndefined();
    await quota({ projectLimitStatus: 'alternate', reset: true });
    expect(await call(alice!)).toBe(200);
    expect(await calls(alice!, 5)).toEqual([403, 429, 403, 429, 403]);
    // Alternation is driven by the rejection count, so it is reproducible from a reset.
    expect((await quota()).rejected.rateLimitExceeded).toBe(5);
  });

  test('the user limit answers 403 userRateLimitExceeded to that user while another still gets through', async () => {
    const [alice, bob] = await users('alice@example.com', 'bob@example.com');
    await quota({ userPerMinute: 2, projectPerMinute: 10 });
    expect(await calls(alice!, 2)).toEqual([200, 200]);
    const err = await failure(() => alice!.calendar.events.list({ calendarId: 'primary' }, noRetry));
    expect(err.status).toBe(403);
    expect(err.body).toEqual(USER_403);
    expect(await calls(bob!, 3)).toEqual([200, 200, 403]);
    const q = await quota();
    expect(q).toMatchObject({ admitted: 4, rejected: { rateLimitExceeded: 0, userRateLimitExceeded: 2, quotaExceeded: 0 }, peakPerMinute: 4, peakUserPerMinute: 2 });
    expect(q.users['alice@example.com']).toMatchObject({ admitted: 2, rejected: 1, peakPerMinute: 2 });
    expect(q.users['bob@example.com']).toMatchObject({ admitted: 2, rejected: 1, peakPerMinute: 2 });
  });

  test('the window slides: requests leave it one by one, windowMs after they were admitted (not in fixed minutes)', async () => {
    const W = 1200;
    const [alice] = await users('alice@example.com');
    await quota({ projectPerMinute: 5, windowMs: W });
    expect(await calls(alice!, 3)).toEqual([200, 200, 200]);
    const firstThreeDone = performance.now();
    await Bun.sleep(600);
    const secondStart = performance.now();
    expect(await calls(alice!, 3)).toEqual([200, 200, 403]);
    // The first three have left the window, the last two have not (they are >= 550 ms younger).
    await sleepUntil(firstThreeDone + W + 50);
    expect(performance.now()).toBeLessThan(secondStart + W);
    expect(await calls(alice!, 4)).toEqual([200, 200, 200, 403]);
    expect(await quota()).toMatchObject({ admitted: 8, peakPerMinute: 5, rejected: { rateLimitExceeded: 2 } });
  });

  test('rejected requests do not count toward the window', async () => {
    const W = 1000;
    const [alice] = await users('alice@example.com');
    await quota({ userPerMinute: 3, windowMs: W });
    expect(await calls(alice!, 3)).toEqual([200, 200, 200]);
    const admittedDone = performance.now();
    await Bun.sleep(400);
    // Hammering while refused ...
    expect(await calls(alice!, 10)).toEqual(Array(10).fill(403));
    // ... does not push the next admission back: once the admitted three are older than the window, three
    // more get in although the refused ten are younger than that.
    await sleepUntil(admittedDone + W + 50);
    expect(await calls(alice!, 4)).toEqual([200, 200, 200, 403]);
    const q = await quota();
    expect(q).toMatchObject({ admitted: 6, peakPerMinute: 3, rejected: { userRateLimitExceeded: 11 } });
    expect(q.perMinute.reduce((n, b) => n + b.rejected, 0)).toBe(11);
  });

  test('peakPerMinute and peakUserPerMinute are the highest admitted counts in any window since the last reset', async () => {
    const W = 1000;
    const [alice, bob] = await users('alice@example.com', 'bob@example.com');
    await quota({ windowMs: W });
    await calls(alice!, 3);
    await calls(bob!, 2);
    const burstDone = performance.now();
    await sleepUntil(burstDone + W + 50);
    await calls(alice!, 2);
    let q = await quota();
    expect(q).toMatchObject({ admitted: 7, peakPerMinute: 5, peakUserPerMinute: 3, currentPerMinute: 2 });
    expect(q.users['bob@example.com']).toMatchObject({ peakPerMinute: 2, currentPerMinute: 0 });
    // Refused requests never raise the peak.
    await quota({ projectPerMinute: 2, reset: true });
    await calls(alice!, 6);
    q = await quota();
    expect(q).toMatchObject({ admitted: 2, peakPerMinute: 2, peakUserPerMinute: 2, rejected: { rateLimitExceeded: 4 } });
    expect(Object.keys(q.users)).toEqual(['alice@example.com']);
  });
});

describe('daily limit', () => {
  test('once exhausted every request answers 403 quotaExceeded, however long one waits, until reset', async () => {
    const [alice, bob] = await users('alice@example.com', 'bob@example.com');
    await calls(alice!, 2); // before the reset: not counted
    await quota({ dailyPerProject: 3, windowMs: 100, reset: true });
    expect(await calls(alice!, 2)).toEqual([200, 200]);
    expect(await calls(bob!, 1)).toEqual([200]);
    const err = await failure(() => bob!.calendar.events.list({ calendarId: 'primary' }, noRetry));
    expect(err.status).toBe(403);
    expect(err.body).toEqual(DAILY_403);
    await Bun.sleep(250); // the minute windows have slid; the daily limit has not
    expect(await calls(alice!, 2)).toEqual([403, 403]);
    expect(await quota()).toMatchObject({ admitted: 3, dailyRemaining: 0, rejected: { quotaExceeded: 3 } });
    expect(await quota({ reset: true })).toMatchObject({ dailyPerProject: 3, admitted: 0, dailyRemaining: 3, rejected: { quotaExceeded: 0 } });
    expect(await calls(alice!, 1)).toEqual([200]);
    await quota({ dailyPerProject: null });
    expect(await calls(alice!, 5)).toEqual(Array(5).fill(200));
  });
});

describe('what counts', () => {
  test('every Calendar API route counts, events.watch and channels.stop included; OAuth, 401s and control calls do not', async () => {
    const [alice] = await users('alice@example.com');
    // OAuth endpoints: refresh, tokeninfo, userinfo, revoke of a spare grant.
    await alice!.auth.refreshAccessToken();
    await alice!.auth.refreshAccessToken();
    const token = (await alice!.auth.getAccessToken()).token ?? '';
    expect((await fetch(`${suite.emu.url}tokeninfo?access_token=${encodeURIComponent(token)}`)).status).toBe(200);
    expect((await fetch(`${suite.emu.url}oauth2/v3/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const spare = await control<{ refreshToken: string }>(suite.emu, 'POST', 'users', { email: 'carol@example.com' });
    expect((await fetch(`${suite.emu.url}revoke?token=${encodeURIComponent(spare.refreshToken)}`, { method: 'POST' })).status).toBe(200);
    // A Calendar call without valid credentials is refused before a user is known.
    expect((await fetch(`${suite.emu.url}calendar/v3/users/me/calendarList`)).status).toBe(401);
    expect((await fetch(`${suite.emu.url}calendar/v3/users/me/calendarList`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    await control(suite.emu, 'GET', 'users');
    expect(await quota()).toMatchObject({ admitted: 0, rejected: { rateLimitExceeded: 0, userRateLimitExceeded: 0, quotaExceeded: 0 } });

    const receiver = startReceiver();
    try {
      const ch = await alice!.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'quota-ch', type: 'web_hook', address: receiver.url } });
      await alice!.calendar.channels.stop({ requestBody: { id: 'quota-ch', resourceId: ch.data.resourceId ?? '' } });
      // A 404 counts too: it reached the API.
      expect((await failure(() => alice!.calendar.calendars.get({ calendarId: 'nobody@example.com' }, noRetry))).status).toBe(404);
      expect(await quota()).toMatchObject({ admitted: 3 });
      // With the limit reached, watch and stop are refused like any call.
      await quota({ userPerMinute: 3 });
      expect((await failure(() => alice!.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'quota-ch2', type: 'web_hook', address: receiver.url } }, noRetry))).body).toEqual(USER_403);
      expect((await failure(() => alice!.calendar.channels.stop({ requestBody: { id: 'quota-ch', resourceId: ch.data.resourceId ?? '' } }, noRetry))).body).toEqual(USER_403);
      expect((await control<{ items: unknown[] }>(suite.emu, 'GET', 'channels')).items).toHaveLength(1);
      // Token refreshes still work while the Calendar API is refusing.
      await alice!.auth.refreshAccessToken();
      expect(await quota()).toMatchObject({ admitted: 3, rejected: { userRateLimitExceeded: 2 } });
    } finally {
      await receiver.stop();
    }
  });

  test('a request answered by an injected fault was admitted and counts', async () => {
    const [alice] = await users('alice@example.com');
    await control(suite.emu, 'POST', 'faults', { status: 500, count: 1 });
    expect(await calls(alice!, 2)).toEqual([500, 200]);
    expect(await quota()).toMatchObject({ admitted: 2 });
  });
});

describe('the keeper (simulated clock)', () => {
  test('boundary: a request admitted at t leaves the window at exactly t + windowMs', () => {
    let now = 0;
    const k = new QuotaKeeper({ projectPerMinute: 2, windowMs: 1000 }, () => now);
    expect(k.admit('a')).toBeUndefined(); // t=0
    now = 500;
    expect(k.admit('a')).toBeUndefined();
    now = 999;
    expect(k.admit('a')?.status).toBe(403);
    now = 1000;
    expect(k.admit('a')).toBeUndefined(); // the t=0 one is out: windows are (t - windowMs, t]
    now = 1499;
    expect(k.admit('b')?.body.error.errors[0]?.reason).toBe('rateLimitExceeded');
    now = 1500;
    expect(k.admit('b')).toBeUndefined();
  });

  test('admissions and peaks match a brute-force model on a random workload', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const W = 60_000;
    const limits = { project: 40, user: 12 };
    let now = 0;
    const k = new QuotaKeeper({ projectPerMinute: limits.project, userPerMinute: limits.user, windowMs: W }, () => now);
    const admitted: Array<{ t: number; u: string }> = [];
    const peaks = { project: 0, user: new Map<string, number>() };
    const refusals = { rateLimitExceeded: 0, userRateLimitExceeded: 0 };
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(rnd() * 3000 * (i % 500 < 250 ? 0.1 : 1)); // bursts and lulls; some equal timestamps
      const u = `u${Math.floor(rnd() * 6)}`;
      const inWindow = admitted.filter((a) => a.t > now - W);
      const p = inWindow.length;
      const mine = inWindow.filter((a) => a.u === u).length;
      const expected = p >= limits.project ? 'rateLimitExceeded' : mine >= limits.user ? 'userRateLimitExceeded' : undefined;
      const got = k.admit(u);
      expect(got?.body.error.errors[0]?.reason).toBe(expected);
      if (expected) refusals[expected]++;
      if (!expected) {
        admitted.push({ t: now, u });
        peaks.project = Math.max(peaks.project, p + 1);
        peaks.user.set(u, Math.max(peaks.user.get(u) ?? 0, mine + 1));
      }
      if (admitted.length > 500) admitted.splice(0, admitted.length - 200);
    }
    const snap = k.snapshot() as { peakPerMinute: number; peakUserPerMinute: number; users: Record<string, { peakPerMinute: number }> };
    expect(snap.peakPerMinute).toBe(peaks.project);
    expect(snap.peakUserPerMinute).toBe(Math.max(...peaks.user.values()));
    for (const [u, peak] of peaks.user) expect(snap.users[u]?.peakPerMinute).toBe(peak);
    // The workload did hit both limits.
    expect(peaks.project).toBe(limits.project);
    expect(refusals.rateLimitExceeded).toBeGreaterThan(100);
    expect(refusals.userRateLimitExceeded).toBeGreaterThan(50);
    expect(snap).toMatchObject({ rejected: { ...refusals, quotaExceeded: 0 } });
  });

  test('the ring keeps order across growth and wrap-around', () => {
    const r = new TimeRing();
    let t = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 37 + round; i++) r.push(++t);
      r.evictThrough(t - 20);
      expect(r.size).toBe(20);
    }
    r.evictThrough(t);
    expect(r.size).toBe(0);
  });

  test('30,000 admissions a minute stay fast', () => {
    let now = 0;
    const k = new QuotaKeeper({ projectPerMinute: 30_000, userPerMinute: 30_000 }, () => now);
    const started = performance.now();
    for (let i = 0; i < 300_000; i++) {
      now += 2; // 30,000 per 60 s
      if (k.admit(`u${i % 50}`)) throw new Error(`refused at ${i}`);
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expect(k.snapshot()).toMatchObject({ peakPerMinute: 30_000, admitted: 300_000 });
  });
});
