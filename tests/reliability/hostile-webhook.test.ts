// Hostile input at POST /webhooks/google/calendar, against the service as a child process (so its
// memory can be read from /proc): missing, repeated, oversized (64 KB) and non-ASCII headers, huge
// bodies, wrong methods, forged tokens for a real channel, 10,000 random channel ids, slow clients.
// Each gets its documented status, memory stays bounded, and nothing forged starts a sync. The
// token check is shown to be a constant-time comparison of fixed-length hashes, and its timing
// over HTTP (0 vs all-but-one matching characters) is measured and reported.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { matchesHash, hashSecret } from '../../src/crypto/index.ts';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.ts';
import { startServiceProcess, type ServiceProcess } from '../support/process.ts';
import { waitFor } from '../support/service.ts';
import { SOAK, figures, linkOwners, queuesIdle, seededRandom, waitChannels, waitConverged, type LinkedOwner } from './harness.ts';
import { rawPost, rawRequest } from './raw-http.ts';

setDefaultTimeout(90_000);

const PATH = '/webhooks/google/calendar';
const RANDOM_IDS = SOAK ? 50_000 : 10_000;
const TIMING_TRIES = SOAK ? 5000 : 1500;
const ROOT = join(import.meta.dir, '..', '..');

const rnd = seededRandom('reliability-hostile-webhook');
const fig = figures('hostile-webhook');
let emu: Emulator;
let ctl: EmulatorControl;
let recorder: HttpProxy;
let database: TestDatabase & { url: string };
let sql: postgres.Sql;
let svc: ServiceProcess;
let owner: LinkedOwner;
let channel: { id: string; resource_id: string; token_hash: string };
/** X-Goog-Channel-Token values Google sent, by channel id (seen by the recorder in front of the service). */
const tokens = new Map<string, string>();
let realToken: string;
let baseline: { notificationSyncs: number; lastMessageNumber: number };

const notificationSyncs = async () =>
  (await sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and data->>'reason' = 'notification'`)[0]!.n as number;
const channelRow = async () => (await sql`select last_message_number, notifications_count from channels where id = ${channel.id}`)[0]!;
const rssMb = () => {
  const status = readFileSync(`/proc/${svc.pid}/status`, 'utf8');
  return Math.round(Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024);
};

/** Headers as Google sends them for the real channel; override any (undefined removes it). */
const googleHeaders = (over: Record<string, string | undefined> = {}): Record<string, string> => {
  const h: Record<string, string | undefined> = {
    'X-Goog-Channel-ID': channel.id,
    'X-Goog-Channel-Token': realToken,
    'X-Goog-Resource-ID': channel.resource_id,
    'X-Goog-Resource-State': 'exists',
    'X-Goog-Message-Number': '1',
    ...over,
  };
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
};
const post = async (headers: HeadersInit, init: RequestInit = {}) => {
  const res = await fetch(`${svc.url}${PATH}`, { method: 'POST', headers, ...init });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
};

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 3, onnotice: () => {} });
  // Google reaches the service through a recorder, which learns each channel's random token from
  // Google's own pushes (the service only keeps its hash).
  let target = '';
  recorder = startHttpProxy({
    target: () => target,
    hook: (req) => {
      const id = req.headers.get('x-goog-channel-id');
      const token = req.headers.get('x-goog-channel-token');
      if (id && token) tokens.set(id, token);
    },
  });
  svc = await startServiceProcess({ name: 'reliability-hostile-webhook', databaseUrl: database.url, googleUrl: emu.url, publicUrl: recorder.url.slice(0, -1) });
  target = svc.url;
  [owner] = (await linkOwners(svc.trpc, ctl, sql, ['hostile@example.com'])) as [LinkedOwner];
  await waitChannels(sql, [owner.calendarRowId]);
  channel = (await sql`select id, resource_id, token_hash from channels where calendar_id = ${owner.calendarRowId} and status = 'active'`)[0] as never;
  realToken = await waitFor(() => tokens.get(channel.id), { what: "Google's sync message with the channel token" });
}, 60_000);

afterAll(async () => {
  fig.write();
  await svc?.stop();
  await sql?.end({ timeout: 2 });
  await recorder?.stop();
  await emu?.stop();
  await database?.drop();
}, 30_000);

describe('control: what Google really sends', () => {
  test("Google's own headers with the channel's token: 204 and one sync (so the attacks below can fail)", async () => {
    await queuesIdle(sql, ['sync.events']);
    const before = await notificationSyncs();
    // Without a message number (always taken): a number of ours above Google's would make Google's
    // next real pushes look like replays.
    const r = await post(googleHeaders({ 'X-Goog-Message-Number': undefined }));
    expect(r.status).toBe(204);
    await waitFor(async () => (await notificationSyncs()) === before + 1, { what: 'the sync of a genuine notification' });
    await queuesIdle(sql, ['sync.events']);
    baseline = { notificationSyncs: await notificationSyncs(), lastMessageNumber: Number((await channelRow()).last_message_number) };
  });
});

describe('headers', () => {
  const next = () => String(baseline.lastMessageNumber + 1000 + rnd.int(1_000_000));
  test('missing ones: 400 naming the header', async () => {
    for (const name of ['X-Goog-Channel-ID', 'X-Goog-Resource-ID', 'X-Goog-Resource-State']) {
      const r = await post(googleHeaders({ [name]: undefined, 'X-Goog-Message-Number': next() }));
      expect(r.status).toBe(400);
      expect(r.body.detail).toBe(`Missing ${name} header`);
    }
    // None at all, and the token missing (401: the channel exists).
    expect((await post({})).status).toBe(400);
    expect((await post(googleHeaders({ 'X-Goog-Channel-Token': undefined, 'X-Goog-Message-Number': next() }))).status).toBe(401);
  });

  test('repeated ones: a channel id or state given twice is malformed (400); a token given twice is not the token (401)', async () => {
    const repeated = (name: string, value: string) => {
      const h = new Headers(googleHeaders({ 'X-Goog-Message-Number': next() }));
      h.append(name, value);
      return h;
    };
    expect((await post(repeated('X-Goog-Channel-ID', channel.id))).status).toBe(400);
    expect((await post(repeated('X-Goog-Resource-State', 'exists'))).status).toBe(400);
    expect((await post(repeated('X-Goog-Message-Number', '7'))).status).toBe(400);
    expect((await post(repeated('X-Goog-Channel-Token', realToken))).status).toBe(401);
    expect((await post(repeated('X-Goog-Resource-ID', channel.resource_id))).status).toBe(401);
  });

  test('oversized: a 64 KB header is refused by the HTTP server before the app (431); 8 KB values are malformed (400)', async () => {
    for (const name of ['X-Goog-Channel-Token', 'X-Goog-Channel-ID', 'X-Padding']) {
      const r = await rawRequest(svc.port, rawPost(PATH, [...Object.entries(googleHeaders({ 'X-Goog-Message-Number': next() })), [name, 'a'.repeat(64 * 1024)]]));
      expect(r.status).toBe(431);
    }
    // Many headers adding up to 64 KB are refused the same way.
    const many: Array<[string, string]> = Array.from({ length: 64 }, (_, i) => [`X-Filler-${i}`, 'b'.repeat(1024)]);
    expect((await rawRequest(svc.port, rawPost(PATH, [...Object.entries(googleHeaders()), ...many]))).status).toBe(431);
    for (const name of ['X-Goog-Channel-Token', 'X-Goog-Channel-ID', 'X-Goog-Resource-ID', 'X-Goog-Resource-URI']) {
      const r = await post(googleHeaders({ [name]: 'c'.repeat(8 * 1024), 'X-Goog-Message-Number': next() }));
      expect(r.status).toBe(400);
      expect(r.body.detail).toBe(`Malformed ${name} header`);
    }
  });

  test('non-ASCII and control bytes: 400 where the value must be ASCII, 401 in a token, 400 from the server for control bytes', async () => {
    const utf8 = Buffer.from('é✓日本🙂', 'utf8');
    const send = (name: string, value: Buffer) =>
      rawRequest(svc.port, rawPost(PATH, [...Object.entries(googleHeaders({ [name]: undefined, 'X-Goog-Message-Number': next() })), [name, value]]));
    expect((await send('X-Goog-Channel-ID', Buffer.concat([Buffer.from(channel.id.slice(0, 8)), utf8]))).status).toBe(400);
    expect((await send('X-Goog-Resource-State', Buffer.concat([Buffer.from('exists'), utf8]))).status).toBe(400);
    expect((await send('X-Goog-Message-Number', Buffer.from('１２３', 'utf8'))).status).toBe(400);
    expect((await send('X-Goog-Channel-Token', Buffer.concat([Buffer.from(realToken.slice(0, -2)), utf8]))).status).toBe(401);
    expect((await send('X-Goog-Channel-Token', Buffer.from(realToken.slice(0, -1) + '\xe9', 'latin1'))).status).toBe(401);
    expect((await send('X-Goog-Resource-ID', Buffer.concat([Buffer.from(channel.resource_id), utf8]))).status).toBe(401);
    // Control bytes the HTTP server refuses outright; a tab is legal inside a value (not the token);
    // DEL is dropped by Bun's parser (the value without it is what the app sees: still not the token).
    for (const c of ['\x00', '\x01', '\x1f', '\r', '\n']) {
      expect((await send('X-Goog-Channel-Token', Buffer.from(`${realToken}${c}x`, 'latin1'))).status).toBe(400);
    }
    for (const c of ['\t', '\x7f']) {
      expect((await send('X-Goog-Channel-Token', Buffer.from(`${realToken}${c}x`, 'latin1'))).status).toBe(401);
    }
  });
});

describe('bodies and methods', () => {
  const next = () => String(baseline.lastMessageNumber + 2000 + rnd.int(1_000_000));
  test('huge bodies: 413 (announced, streamed without a length, or beyond the server limit)', async () => {
    const mb = (n: number) => Buffer.alloc(Math.round(n * 1024 * 1024), 'x');
    const announced = await post(googleHeaders({ 'X-Goog-Message-Number': next() }), { body: mb(1.5) });
    expect(announced.status).toBe(413);
    expect(announced.body).toEqual({ detail: 'Request body too large' });
    const chunks = Array.from({ length: 24 }, () => new Uint8Array(64 * 1024));
    const streamed = await post(googleHeaders({ 'X-Goog-Message-Number': next() }), {
      body: new ReadableStream({
        pull(c) {
          const next = chunks.pop();
          if (next) c.enqueue(next);
          else c.close();
        },
      }),
    });
    expect(streamed.status).toBe(413);
    const beyond = await rawRequest(svc.port, rawPost(PATH, Object.entries(googleHeaders({ 'X-Goog-Message-Number': next() })), mb(3)));
    expect(beyond.status).toBe(413);
    // A small body is ignored (Google sends none); a forged token with a body is still 401.
    expect((await post(googleHeaders({ 'X-Goog-Channel-Token': 'forged', 'X-Goog-Message-Number': next() }), { body: mb(0.01) })).status).toBe(401);
  });

  test('wrong methods: 405 with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const res = await fetch(`${svc.url}${PATH}`, { method, headers: googleHeaders({ 'X-Goog-Message-Number': next() }) });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      await res.arrayBuffer();
    }
  });
});

describe('forged tokens for a real channel', () => {
  test('every forgery: 401 Invalid token', async () => {
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const forgeries = [
      'forged',
      '',
      realToken.toUpperCase() === realToken ? realToken.toLowerCase() : realToken.toUpperCase(),
      realToken.slice(0, -1),
      `${realToken}x`,
      // (` ${realToken}` is not a forgery: HTTP strips whitespace around a field value.)
      `${realToken.slice(0, 10)} ${realToken.slice(10)}`,
      flip(realToken, 0),
      flip(realToken, realToken.length - 1),
      channel.token_hash, // the stored hash itself is not the token
      hashSecret(realToken),
      realToken.repeat(2),
      ...Array.from({ length: 40 }, () => flip(realToken, rnd.int(realToken.length))),
    ];
    for (const t of forgeries) {
      const r = await post(googleHeaders({ 'X-Goog-Channel-Token': t, 'X-Goog-Message-Number': String(baseline.lastMessageNumber + 1 + rnd.int(1000)) }));
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'Invalid token' });
    }
  });

  test('the check is a constant-time comparison of fixed-length SHA-256 hashes (structure), timing measured', async () => {
    // Structure: the webhook compares the presented token only through matchesHash against the
    // stored hash; matchesHash hashes the token (fixed 32 bytes whatever its length or content)
    // and compares with crypto.timingSafeEqual. A matching prefix of the token says nothing about
    // the hash, so how much of the token matches cannot show in the time.
    const receive = readFileSync(join(ROOT, 'src/channels/receive-notification.ts'), 'utf8');
    const uses = [...receive.matchAll(/[^\n]*channelToken[^\n]*/g)].map((m) => m[0]);
    expect(uses.length).toBeGreaterThan(0);
    for (const line of uses) expect(line).toMatch(/h\.channelToken === undefined \|\| !matchesHash\(h\.channelToken, channel\.tokenHash\)/);
    const crypto = readFileSync(join(ROOT, 'src/crypto/index.ts'), 'utf8');
    const fn = crypto.slice(crypto.indexOf('export function matchesHash'), crypto.indexOf('}', crypto.indexOf('export function matchesHash')) + 1);
    expect(fn).toContain("createHash('sha256').update(presented).digest()");
    expect(fn).toContain('timingSafeEqual(stored, actual)');
    expect(fn).toContain('stored.length === actual.length');
    // Every stored channel token hash is a SHA-256 (32 bytes, 64 hex digits).
    for (const r of await sql`select token_hash from channels`) expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(matchesHash(realToken, channel.token_hash)).toBe(true);
    expect(matchesHash(realToken.slice(0, -1) + (realToken.endsWith('A') ? 'B' : 'A'), channel.token_hash)).toBe(false);

    // Timing, reported (not asserted: a shared machine's noise is larger than anything measured here).
    const wrongLast = realToken.slice(0, -1) + (realToken.endsWith('A') ? 'B' : 'A');
    const wrongAll = [...realToken].map((c) => (c === 'Z' ? 'Y' : 'Z')).join('');
    const inProcess = (token: string) => {
      const t = performance.now();
      for (let i = 0; i < 50_000; i++) matchesHash(token, channel.token_hash);
      return ((performance.now() - t) * 1e6) / 50_000;
    };
    const fnNs = { allButOneMatching: 0, noneMatching: 0 };
    for (let round = 0; round < 4; round++) {
      fnNs.allButOneMatching += inProcess(wrongLast) / 4;
      fnNs.noneMatching += inProcess(wrongAll) / 4;
    }
    const http: Record<'allButOne' | 'none', number[]> = { allButOne: [], none: [] };
    for (let i = 0; i < TIMING_TRIES; i++) {
      for (const [kind, token] of (i % 2 ? [['allButOne', wrongLast], ['none', wrongAll]] : [['none', wrongAll], ['allButOne', wrongLast]]) as Array<['allButOne' | 'none', string]>) {
        const t = performance.now();
        const res = await fetch(`${svc.url}${PATH}`, { method: 'POST', headers: googleHeaders({ 'X-Goog-Channel-Token': token, 'X-Goog-Message-Number': '5' }) });
        await res.arrayBuffer();
        http[kind].push((performance.now() - t) * 1000);
        expect(res.status).toBe(401);
      }
    }
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const q = (p: number) => s[Math.floor(p * (s.length - 1))]!;
      const trimmed = s.slice(Math.floor(s.length * 0.1), Math.ceil(s.length * 0.9));
      return { p25: Math.round(q(0.25)), median: Math.round(q(0.5)), p75: Math.round(q(0.75)), trimmedMean: Math.round(trimmed.reduce((a, b) => a + b, 0) / trimmed.length) };
    };
    const a = stats(http.allButOne);
    const b = stats(http.none);
    fig.set('tokenTiming', {
      matchesHashNs: { allButOneMatching: Math.round(fnNs.allButOneMatching), noneMatching: Math.round(fnNs.noneMatching) },
      httpMicros: { triesEach: TIMING_TRIES, allButOneMatching: a, noneMatching: b, medianDifference: a.median - b.median },
    });
  }, 120_000);

  test('no forgery noted a message or started a sync', async () => {
    await queuesIdle(sql, ['sync.events']);
    expect(await notificationSyncs()).toBe(baseline.notificationSyncs);
    expect(Number((await channelRow()).last_message_number)).toBe(baseline.lastMessageNumber);
    expect((await sql`select count(*)::int as n from channel_sync_requests`)[0]!.n).toBe(0);
  });
});

describe(`${RANDOM_IDS.toLocaleString('en')} random channel ids`, () => {
  test('each answered as documented (204 unknown, 400 malformed), memory bounded, no sync', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=';
    const ids = Array.from({ length: RANDOM_IDS }, (_, i) => {
      const kind = i % 10;
      if (kind < 5) return { id: crypto.randomUUID(), expect: 204 };
      if (kind < 9) return { id: Array.from({ length: 1 + rnd.int(64) }, () => rnd.pick([...alphabet])).join(''), expect: 204 };
      return { id: `${crypto.randomUUID()} ${rnd.pick(['<script>', "' or 1=1 --", '../..', '%00', 'ünï'])}`, expect: 400 };
    });
    const rssBefore = rssMb();
    const counts = new Map<number, number>();
    const wrong: string[] = [];
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < ids.length) {
          const { id, expect: want } = ids[next++]!;
          const res = await fetch(`${svc.url}${PATH}`, {
            method: 'POST',
            headers: { 'X-Goog-Channel-ID': encodeURI(id), 'X-Goog-Channel-Token': crypto.randomUUID(), 'X-Goog-Resource-ID': `r${rnd.int(1e9)}`, 'X-Goog-Resource-State': 'exists', 'X-Goog-Message-Number': String(1 + rnd.int(1e6)) },
          });
          await res.arrayBuffer();
          counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
          if (res.status !== want && wrong.length < 5) wrong.push(`${id}: ${res.status}`);
        }
      }),
    );
    const floodMs = Math.round(performance.now() - started);
    const rssAfter = rssMb();
    fig.set('randomIds', { requests: RANDOM_IDS, ms: floodMs, perSecond: Math.round((RANDOM_IDS * 1000) / floodMs), statuses: Object.fromEntries(counts), rssMbBefore: rssBefore, rssMbAfter: rssAfter });
    expect(wrong).toEqual([]);
    // 10,000 unknown ids cost a bounded cache (50,000 entries at most), not a leak.
    expect(rssAfter - rssBefore).toBeLessThan(96);
    await queuesIdle(sql, ['sync.events']);
    expect(await notificationSyncs()).toBe(baseline.notificationSyncs);
    expect((await svc.readyz())).toBe(200);
  });
});

describe('slow clients', () => {
  test('headers trickled a byte at a time are cut (~12 s), a body trickled is cut by the idle timeout', async () => {
    const headers = rawPost(PATH, Object.entries(googleHeaders({ 'X-Goog-Message-Number': '3' })));
    const head = Buffer.from(`POST /trpc/links.event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
    const [slowHeaders, slowBody] = await Promise.all([
      rawRequest(svc.port, headers, { trickleMs: 250, timeoutMs: 60_000 }),
      // Headers at once, then the body a byte every 100 ms (it would take 10,000 s).
      rawRequest(svc.port, Buffer.concat([head, Buffer.alloc(100_000, 'x')]), { trickleAfter: head.length, trickleMs: 100, timeoutMs: 60_000 }),
    ]);
    fig.set('slowClients', { slowHeadersClosedMs: slowHeaders.ms, slowBodyClosedMs: slowBody.ms });
    expect(slowHeaders.closedByServer).toBe(true);
    expect(slowHeaders.ms).toBeLessThan(20_000);
    expect(slowBody.closedByServer).toBe(true);
    expect(slowBody.ms).toBeLessThan(45_000);
  }, 70_000);
});

describe('message numbers', () => {
  test('an implausible jump is accepted but not taken as the high-water mark: the next real number is not a duplicate', async () => {
    await queuesIdle(sql, ['sync.events']);
    const last = Number((await channelRow()).last_message_number);
    expect((await post(googleHeaders({ 'X-Goog-Message-Number': String(last + 5_000_000_000) }))).status).toBe(204);
    await Bun.sleep(300);
    expect(Number((await channelRow()).last_message_number)).toBe(last);
    // Google's next real push (its counter moves on from `last`): not a duplicate, its change is mirrored.
    await ctl.putEvent(owner.calendarId, 'afterjump001', { summary: 'After the jump', start: { dateTime: '2032-02-01T10:00:00Z' }, end: { dateTime: '2032-02-01T11:00:00Z' } });
    await waitFor(async () => (await sql`select 1 from calendar_events where google_event_id = 'afterjump001'`).length > 0, { what: 'the change after the jump mirrored' });
    expect(Number((await channelRow()).last_message_number)).toBeGreaterThan(last);
    expect(Number((await channelRow()).last_message_number)).toBeLessThan(last + 10);
  });

  test('a flood of messages without a number costs a handful of syncs, not one each', async () => {
    await queuesIdle(sql, ['sync.events']);
    const before = await notificationSyncs();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(...(await Promise.all(Array.from({ length: 30 }, () => post(googleHeaders({ 'X-Goog-Message-Number': undefined })).then((r) => r.status)))));
    expect(statuses.every((x) => x === 204)).toBe(true);
    await queuesIdle(sql, ['sync.events']);
    expect((await notificationSyncs()) - before).toBeLessThanOrEqual(10);
  });

  test('unknown ids never push a real channel out of the lookup cache (a separate negative cache)', async () => {
    const { ChannelCache } = await import('../../src/channels/channel-cache.ts');
    const cache = new ChannelCache(10, 60_000, 60_000, 10);
    const real = { id: 'real', ownerId: 'o', calendarId: 'c', kind: 'events' as const, resourceId: 'r', tokenHash: 'h', status: 'active' as const, lastMessageNumber: 1 };
    cache.set('real', real);
    for (let i = 0; i < 1000; i++) cache.set(`unknown-${i}`, null);
    expect(cache.get('real')).toEqual(real);
    expect(cache.get('unknown-999')).toBeNull();
    expect(cache.knownSize).toBe(1);
  });
});

describe('afterwards', () => {
  test("the owner's mirror still equals Google row by row", async () => {
    await ctl.putEvent(owner.calendarId, 'afterflood001', { summary: 'After the flood', start: { dateTime: '2032-03-01T10:00:00Z' }, end: { dateTime: '2032-03-01T11:00:00Z' } });
    fig.set('convergeWaitMs', await waitConverged(sql, ctl, [owner], { timeoutMs: 20_000 }));
  });
});
