// No token or secret in any log. Every suite's service writes its logs under tests/artifacts/logs/;
// this suite first makes traffic of its own that handles every kind of secret calwatch knows
// (refresh and access tokens, OAuth codes and states, channel tokens, subscription secrets, the
// Slack bot token, the service, admin and link-events secrets), failures included, so that it can
// fail by itself whatever order bun runs the suites in; then it reads every log file there is.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.ts';
import { startServiceProcess, type ServiceProcess } from '../support/process.ts';
import { LOG_DIR, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY, TEST_SERVICE_TOKEN, waitFor } from '../support/service.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { figures, hoursFromNow, linkOwners, timed, waitChannels, type LinkedOwner } from './harness.ts';

setDefaultTimeout(60_000);

const LINK_EVENTS_SECRET = 'link-events-secret-0123456789abcdef';
const SLACK_BOT_TOKEN = 'xoxb-log-secrets-0123456789-abcdefABCDEF';

/** Secrets seen by this suite's traffic, matched exactly. */
const secrets = new Set<string>([TEST_SERVICE_TOKEN, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY, LINK_EVENTS_SECRET, SLACK_BOT_TOKEN, 'xoxb-test-token']);
/** Shapes of secrets anyone's traffic may have produced (the emulator's tokens, subscription secrets). */
const SHAPES: Array<[string, RegExp]> = [
  ['emulator refresh token', /1\/\/emu-[A-Za-z0-9_-]{12,}/],
  ['emulator access token', /ya29\.emu-[A-Za-z0-9_-]{12,}/],
  ['emulator authorization code', /4\/emu-[A-Za-z0-9_-]{12,}/],
  ['subscription secret', /whsec_[A-Za-z0-9+/=]{12,}/],
  ['bearer credential', /Bearer [A-Za-z0-9._~+/-]{16,}=*/],
];

/** The secrets a line carries (their kind, never their value). */
export function leaksIn(line: string, exact: Iterable<string>): string[] {
  const found: string[] = [];
  for (const s of exact) if (s.length >= 12 && line.includes(s)) found.push(`exact secret ${s.slice(0, 4)}…`);
  for (const [kind, re] of SHAPES) if (re.test(line)) found.push(kind);
  return found;
}

const fig = figures('log-secrets');
let emu: Emulator;
let ctl: EmulatorControl;
let gate: HttpProxy;
let recorder: HttpProxy;
let receiver: Receiver;
let database: TestDatabase & { url: string };
let sql: postgres.Sql;
let svc: ServiceProcess;
let owner: LinkedOwner;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  // Google's side of the traffic is watched: the access tokens the service sends, and the channel
  // tokens Google sends back, join the exact secrets searched for.
  gate = startHttpProxy({
    target: emu.url,
    hook: (req) => {
      const auth = req.headers.get('authorization');
      if (auth?.startsWith('Bearer ')) secrets.add(auth.slice(7));
    },
  });
  let target = '';
  recorder = startHttpProxy({
    target: () => target,
    hook: (req) => {
      const token = req.headers.get('x-goog-channel-token');
      if (token) secrets.add(token);
    },
  });
  receiver = startReceiver();
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  svc = await startServiceProcess({
    name: 'reliability-log-secrets',
    databaseUrl: database.url,
    googleUrl: gate.url,
    publicUrl: recorder.url.slice(0, -1),
    env: { LINK_EVENTS_SECRET, SLACK_BOT_TOKEN, LOG_LEVEL: 'trace' },
  });
  target = svc.url;

  // 1. A LINKED with a refresh token; the sync and the watch channel follow.
  [owner] = (await linkOwners(svc.trpc, ctl, sql, ['secrets@example.com'])) as [LinkedOwner];
  secrets.add(owner.refreshToken);
  await waitChannels(sql, [owner.calendarRowId]);
  // 2. A subscription (its whsec_ secret), and a change delivered to it, signed.
  const sub = await svc.trpc<{ id: string; secret: string }>('subscriptions.create', { url: receiver.url('/secrets') });
  secrets.add(sub.body.result!.data.secret);
  receiver.secret('/secrets', sub.body.result!.data.secret);
  await ctl.putEvent(owner.calendarId, 'secretev0001', timed('Delivered', hoursFromNow(100), 30));
  await waitFor(() => receiver.ok('/secrets').some((r) => r.body?.type === 'event.created'), { what: 'a signed delivery' });
  // 3. Webhooks: the real channel token with another resource (401), a forged one, a malformed one.
  const [ch] = await sql`select id, resource_id from channels where calendar_id = ${owner.calendarRowId} and status = 'active'`;
  const token = await waitFor(() => [...secrets].find((s) => s.length === 43 && !s.startsWith('ya29')), { what: 'the channel token' });
  for (const headers of <Array<Record<string, string>>>[
    { 'X-Goog-Channel-Token': token, 'X-Goog-Resource-ID': 'another-resource' },
    { 'X-Goog-Channel-Token': `${token.slice(0, -1)}x`, 'X-Goog-Resource-ID': ch!.resource_id },
    { 'X-Goog-Channel-Token': token, 'X-Goog-Resource-ID': ch!.resource_id, 'X-Goog-Message-Number': 'not-a-number' },
  ]) {
    await fetch(`${svc.url}/webhooks/google/calendar`, { method: 'POST', headers: { 'X-Goog-Channel-ID': ch!.id, 'X-Goog-Resource-State': 'exists', ...headers } });
  }
  // 4. Secrets in the wrong places: a refresh token Google refuses, bad bearer tokens, the
  //    link-events secret, a token in a query string.
  const bogus = `1//emu-bogus-${crypto.randomUUID().replaceAll('-', '')}`;
  secrets.add(bogus);
  await svc.trpc('links.event', { type: 'LINKED', externalOwnerId: 'owner-bogus', refreshToken: bogus });
  await svc.trpc('links.get', { externalOwnerId: owner.externalOwnerId }, { token: `${TEST_SERVICE_TOKEN}-wrong` });
  await fetch(`${svc.url}/link-events`, { method: 'POST', headers: { 'x-calwatch-secret': LINK_EVENTS_SECRET, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'RESYNC', external_owner_id: owner.externalOwnerId }) });
  await fetch(`${svc.url}/link-events`, { method: 'POST', headers: { 'x-calwatch-secret': `${LINK_EVENTS_SECRET}x`, 'content-type': 'application/json' }, body: '{}' });
  await fetch(`${svc.url}/trpc/links.get?access_token=${TEST_SERVICE_TOKEN}`);
  await svc.graphql('{ queues { name } }', undefined, { token: `${TEST_ADMIN_TOKEN}-wrong` });
  // 5. The OAuth flow: a ticket, a state (cookie and query), an authorization code, a token exchange.
  const ticketUrl = new URL(((await svc.trpc('oauth.ticket', { externalOwnerId: 'owner-oauth-secrets', loginHint: 'oauth-secrets@example.com' })).body as { result: { data: { url: string } } }).result.data.url);
  secrets.add(ticketUrl.searchParams.get('ticket')!);
  const start = await fetch(`${svc.url}${ticketUrl.pathname}${ticketUrl.search}`, { redirect: 'manual' });
  const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
  secrets.add(cookie.split('=')[1]!);
  const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  const callback = new URL(consent.headers.get('location')!);
  secrets.add(callback.searchParams.get('code')!);
  await fetch(callback, { headers: { cookie }, redirect: 'manual' });
  // 6. Google failing: 500s on the calendar (sync jobs fail and retry), then a revocation.
  await ctl.faults({ status: 500, count: 6 });
  await ctl.putEvent(owner.calendarId, 'secretev0002', timed('While Google fails', hoursFromNow(101), 30));
  await Bun.sleep(1500);
  // 7. Slack: an on-call swap announced with the bot token.
  await ctl.json('slack/users', { email: 'ada@secrets.test', id: 'U0SECADA' });
  const g = await svc.graphql<{ createOncallGroup: { id: string } }>(`mutation($i: CreateOncallGroupInput!) { createOncallGroup(input: $i) { id } }`, {
    i: { name: 'Secrets', externalOwnerId: owner.externalOwnerId, calendarId: 'primary', slackChannel: 'C0SECRETS', timeZone: 'UTC', members: [{ email: 'ada@secrets.test', name: 'Ada' }, { email: 'bob@secrets.test', name: 'Bob' }] },
  });
  const shifts = await svc.graphql<{ scheduleRotation: Array<{ googleEventId: string }> }>(`mutation($i: ScheduleRotationInput!) { scheduleRotation(input: $i) { googleEventId } }`, {
    i: { groupId: g.body.data!.createOncallGroup.id, start: hoursFromNow(48).toISOString(), shiftHours: 8, count: 2 },
  });
  await ctl.respond(owner.calendarId, shifts.body.data!.scheduleRotation[0]!.googleEventId, 'ada@secrets.test', 'declined');
  await waitFor(async () => (await ctl.slackMessages('C0SECRETS')).length > 0, { what: 'the Slack message', timeoutMs: 30_000 });
  // 8. The owner revoked at Google, then unlinked.
  await ctl.json(`users/${encodeURIComponent(owner.email)}/revoke`, {});
  await ctl.putEvent(owner.calendarId, 'secretev0003', timed('After the revocation', hoursFromNow(102), 30));
  await Bun.sleep(1500);
  await svc.trpc('links.event', { type: 'UNLINKED', externalOwnerId: owner.externalOwnerId });
  // Logs flushed: a graceful stop.
  await svc.stop();
}, 120_000);

afterAll(async () => {
  fig.write();
  await svc?.stop();
  await sql?.end({ timeout: 2 });
  await gate?.stop();
  await recorder?.stop();
  await receiver?.stop();
  await emu?.stop();
  await database?.drop();
}, 30_000);

describe('no token or secret in the logs', () => {
  test('the scanner finds a secret when there is one', () => {
    expect(leaksIn(`{"msg":"x","token":"${TEST_SERVICE_TOKEN}"}`, secrets)).not.toEqual([]);
    expect(leaksIn('{"refresh":"1//emu-abcdefghijklmnopqrstuvwxyz"}', [])).toEqual(['emulator refresh token']);
    expect(leaksIn('{"h":"Bearer ya29.emu-abcdefghijklmnopqrstuvwxyz"}', [])).toContain('emulator access token');
    expect(leaksIn('{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}', [])).toEqual(['subscription secret']);
    expect(leaksIn('{"authorization":"[redacted]","token":"[redacted]"}', secrets)).toEqual([]);
  });

  test('this suite made traffic with every kind of secret, and logged it', () => {
    const log = readFileSync(svc.logFile, 'utf8');
    expect(log.length).toBeGreaterThan(10_000);
    expect(log).toContain('/webhooks/google/calendar');
    expect(log).toContain('/oauth/google/callback');
    expect(secrets.size).toBeGreaterThan(10);
    fig.set('secretsTracked', secrets.size);
  });

  test('every log file under tests/artifacts/logs/ is free of them', () => {
    const files = readdirSync(LOG_DIR).filter((f) => statSync(join(LOG_DIR, f)).isFile());
    const hits: string[] = [];
    let lines = 0;
    for (const f of files) {
      const text = readFileSync(join(LOG_DIR, f), 'utf8');
      for (const [i, line] of text.split('\n').entries()) {
        lines++;
        const found = leaksIn(line, secrets);
        if (found.length) hits.push(`${f}:${i + 1}: ${[...new Set(found)].join(', ')}`);
      }
    }
    fig.set('scanned', { files: files.length, lines, hits: hits.length });
    expect(hits).toEqual([]);
  });
});
