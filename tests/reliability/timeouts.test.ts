// Every outgoing call gives up: Google's Calendar API and OAuth token endpoint, Slack, and a
// subscriber, each pointed at a server that accepts the connection and never answers. And every
// retry is bounded: callGoogle's in-call retries, and every job's retry limit, expiry and heartbeat.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createServer, type Server, type Socket } from 'node:net';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { GOOGLE_TIMEOUT_MS, callGoogle, createCalendarClient, createOAuthClient, createSlackClient } from '../../src/google/index.ts';
import { postWebhook } from '../../src/fanout/http-post.ts';
import { JOB_HEARTBEAT_SECONDS } from '../../src/jobs/index.ts';
import { modules } from '../../src/composition/service.ts';
import { TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY, TEST_SERVICE_TOKEN } from '../support/service.ts';
import { figures } from './harness.ts';

setDefaultTimeout(40_000);

const fig = figures('timeouts');
let blackHole: Server;
const sockets = new Set<Socket>();
let config: Config;
let base: string;

beforeAll(async () => {
  // Accepts every connection, reads everything, answers nothing.
  blackHole = createServer((s) => {
    sockets.add(s);
    s.on('data', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
  const port = (blackHole.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}/`;
  config = loadConfig({
    NODE_ENV: 'test',
    GOOGLE_CLIENT_ID: 'calwatch-dev',
    GOOGLE_CLIENT_SECRET: 'calwatch-dev-secret',
    GOOGLE_API_URL: base,
    GOOGLE_TOKEN_URL: `${base}token`,
    GOOGLE_REVOKE_URL: `${base}revoke`,
    SLACK_API_URL: `${base}slack/api/`,
    SLACK_BOT_TOKEN: 'xoxb-timeouts-test',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  });
});

afterAll(async () => {
  fig.write();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => blackHole.close(() => r()));
});

async function elapsed(what: string, call: () => Promise<unknown>): Promise<{ ms: number; rejected: boolean }> {
  const t0 = performance.now();
  let rejected = false;
  try {
    await call();
  } catch {
    rejected = true;
  }
  const ms = Math.round(performance.now() - t0);
  fig.set(what, { ms, rejected });
  return { ms, rejected };
}

describe('outgoing calls to a server that never answers', () => {
  test('Google Calendar, Google OAuth, Slack and a subscriber: each gives up on its own timeout', async () => {
    const [calendar, token, revoke, slack, subscriber] = await Promise.all([
      elapsed('googleCalendarCall', () => createCalendarClient(config, 'ya29.timeout-test').events.list({ calendarId: 'primary' })),
      elapsed('googleTokenRefresh', () => {
        // As links refreshes an owner's access token (src/links/access-token.ts).
        const client = createOAuthClient(config);
        client.setCredentials({ refresh_token: '1//timeout-test' });
        return client.getAccessToken();
      }),
      elapsed('googleRevoke', () => createOAuthClient(config).revokeToken('1//timeout-test')),
      elapsed('slackPost', () => createSlackClient(config)!.chat.postMessage({ channel: 'C0TIMEOUT', text: 'hello' })),
      elapsed('subscriberPost', async () => {
        const r = await postWebhook({ url: `${base}hook`, headers: {}, body: '{}', timeoutMs: 1000, allowPrivate: true });
        if (r.kind !== 'timeout') throw new Error(`expected a timeout, got ${r.kind}`);
        return r;
      }),
    ]);
    for (const r of [calendar, token, revoke]) {
      expect(r.rejected).toBe(true);
      expect(r.ms).toBeGreaterThanOrEqual(GOOGLE_TIMEOUT_MS - 500);
      expect(r.ms).toBeLessThan(GOOGLE_TIMEOUT_MS + 3000);
    }
    expect(slack.rejected).toBe(true);
    expect(slack.ms).toBeLessThan(13_000);
    // (postWebhook answers a timeout instead of throwing; `elapsed` turned it into a rejection only if it was not one.)
    expect(subscriber.rejected).toBe(false);
    expect(subscriber.ms).toBeLessThan(2500);
  });
});

describe('retries are bounded', () => {
  test("callGoogle: three attempts at most, and a Retry-After beyond its limit is left to the job queue", async () => {
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(Object.assign(new Error('backend'), { response: { status: 500, data: { error: { errors: [{ reason: 'backendError' }] } } } }));
    };
    const t0 = performance.now();
    await expect(callGoogle(failing, { baseDelayMs: 10 })).rejects.toThrow();
    expect(calls).toBe(3);
    calls = 0;
    const slowDown = () => {
      calls++;
      return Promise.reject(Object.assign(new Error('rate'), { response: { status: 429, headers: { 'retry-after': '3600' }, data: { error: { errors: [{ reason: 'rateLimitExceeded' }] } } } }));
    };
    await expect(callGoogle(slowDown)).rejects.toThrow();
    expect(calls).toBe(1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test('every job has a bounded retry limit, an expiry, and a heartbeat', () => {
    const jobs = modules.flatMap((m) => m.jobs ?? []).map((j) => j.definition);
    expect(jobs.length).toBeGreaterThan(10);
    const rows = jobs.map((j) => ({
      name: j.name,
      retryLimit: j.retryLimit ?? 5,
      retryDelayMax: j.retryDelayMax ?? 3600,
      expireInSeconds: j.expireInSeconds ?? 300,
      heartbeatSeconds: j.heartbeatSeconds ?? JOB_HEARTBEAT_SECONDS,
    }));
    for (const r of rows) {
      // (fanout.deliver's 100 only bounds a handler that keeps crashing: it gives up itself after FANOUT_MAX_ATTEMPTS.)
      expect(Number.isInteger(r.retryLimit) && r.retryLimit >= 0 && r.retryLimit <= 100).toBe(true);
      expect(r.retryDelayMax).toBeLessThanOrEqual(3600);
      expect(r.expireInSeconds).toBeLessThanOrEqual(3600);
      expect(r.heartbeatSeconds).toBeGreaterThanOrEqual(10);
      expect(r.heartbeatSeconds).toBeLessThanOrEqual(60);
    }
    fig.set('jobs', rows);
  });
});
