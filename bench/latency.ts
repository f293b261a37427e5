// Change-to-mirror latency: `bun bench/latency.ts` (sizes: BENCH_CHANGES_A=40 BENCH_CALENDARS_B=200 BENCH_DECLINES_C=20).
//
// The service runs as a child process (`bun src/composition/main.ts`, as `bun run start` does), the Google
// emulator as another (`bun src/emulator/main.ts`), and this process only makes changes at the
// emulator's control API (people acting in Google Calendar) and watches the service's database. The
// emulator's pushes are real: channels point at the service itself (PUBLIC_URL), so every figure is
// change -> push -> webhook -> outbox -> sync job -> events.list -> mirror row committed, with
// Google's per-user quota as the service keeps it by default (600 requests/minute per user).
//
// Scenarios, each measured from the return of the emulator's change call to the first poll of the
// service's own database that sees it (one connection, polls 2 ms apart: Postgres directly, the
// embedded PGlite through its socket; polling through tRPC instead loads the service's event loop
// with a request every few milliseconds):
//   (a) sequential changes on one calendar, each made once the previous one is visible;
//   (b) one change on each of 200 calendars (10 owners x 20), one at a time;
//   (c) an attendee declines an on-call shift in Google -> the shift marked declined in calwatch
//       (shifts.declined_by and declined_on set); each swap settles before the next decline.
// Databases: a Postgres database of its own, and the embedded PGlite (DATABASE_URL unset, a fresh
// DATA_DIR). Baseline in the same run: the previous design (commit 205233b, 1 s spacing between a
// calendar's syncs) running (a) and (b) on Postgres against the same emulator, from a worktree at
// BASELINE_DIR (default /tmp/calwatch-bench-base; `git worktree add /tmp/calwatch-bench-base 205233b && (cd
// /tmp/calwatch-bench-base && bun install)`); skipped with a note when absent.
// Prints a table and writes bench/results/latency.json.
import { mkdirSync, mkdtempSync, existsSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import postgres from 'postgres';
// No import of src/: the service under test and the emulator run from SERVICE_ROOT (a clean checkout
// for recorded runs), as child processes.
import { emulatorControl, type EmulatorControl } from '../tests/support/emulator-control.ts';

const ROOT = join(import.meta.dir, '..');
/** The checkout whose service and emulator are measured (default this one). */
const SERVICE_ROOT = process.env.SERVICE_ROOT ?? ROOT;
const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SERVICE_TOKEN = 'bench-service-token-0123456789';
const ADMIN_TOKEN = 'bench-admin-token-0123456789ab';
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    await Bun.sleep(opts.intervalMs ?? 25);
  }
}

/** A fresh database on the Postgres server. */
async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cw_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const s = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await s.unsafe(`drop database if exists ${name} with (force)`).finally(() => s.end());
    },
  };
}

/** The emulator as its own process (`bun src/emulator/main.ts` of SERVICE_ROOT, as `bun run emulator`). */
async function startEmulatorChild(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = Bun.spawn(['bun', 'src/emulator/main.ts'], { cwd: SERVICE_ROOT, env: { ...process.env, EMULATOR_PORT: String(port) }, stdout: 'ignore', stderr: 'inherit' });
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => (await fetch(`${url}_emulator/config`).catch(() => undefined))?.ok, { what: 'emulator up', timeoutMs: 30_000, intervalMs: 50 });
  return {
    url,
    async stop() {
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
}

const CHANGES_A = Number(process.env.BENCH_CHANGES_A ?? 40);
const CALENDARS_B = Number(process.env.BENCH_CALENDARS_B ?? 200);
const DECLINES_C = Number(process.env.BENCH_DECLINES_C ?? 20);
const OWNERS_B = Math.min(10, CALENDARS_B);
const BASELINE_DIR = process.env.BASELINE_DIR ?? '/tmp/calwatch-bench-base';
/** The service's entry point under `root`: src/composition/ now, src/ at older commits (the baseline's). */
const mainOf = (root: string) => (existsSync(join(root, 'src', 'composition', 'main.ts')) ? 'src/composition/main.ts' : 'src/main.ts');
const POLL_MS = 2;
/** Which runs: pg (this commit on Postgres), lite (on the embedded PGlite), base (the previous design). */
const DESIGNS = (process.env.BENCH_DESIGNS ?? 'pg,lite,base').split(',');
const AIM_P99_MS = 250;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

interface Stats {
  n: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  minMs: number;
  meanMs: number;
}
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50Ms: round(pct(s, 50)),
    p90Ms: round(pct(s, 90)),
    p99Ms: round(pct(s, 99)),
    maxMs: round(s.at(-1)!),
    minMs: round(s[0]!),
    meanMs: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

// --- the service as a child process ---------------------------------------------------------------------

interface ServiceChild {
  label: string;
  url: string;
  pid: number;
  logFile: string;
  /** The service's own database (Postgres, or the embedded PGlite through its socket): one connection, for polling. */
  sql: postgres.Sql;
  trpc<T = any>(path: string, input?: unknown): Promise<T>;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** The embedded PGlite's socket: the child's listening port other than its HTTP one. */
async function embeddedDatabaseUrl(pid: number, httpPort: number): Promise<string> {
  const p = Bun.spawn(['ss', '-ltnpH'], { stdout: 'pipe' });
  const out = await new Response(p.stdout).text();
  const ports = out
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(l.trim().split(/\s+/)[3]!.split(':').at(-1)))
    .filter((port) => port !== httpPort);
  if (ports.length !== 1) throw new Error(`cannot tell the embedded database's port of pid ${pid}: ${JSON.stringify(ports)}`);
  return `postgres://postgres@127.0.0.1:${ports[0]}/postgres`;
}

/** `bun src/composition/main.ts` from `root`: Postgres at `databaseUrl`, or the embedded PGlite when it is undefined. */
async function startServiceChild(opts: { label: string; root: string; databaseUrl: string | undefined; googleUrl: string }): Promise<ServiceChild> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const g = opts.googleUrl;
  const dataDir = mkdtempSync(join(tmpdir(), 'calwatch-latency-'));
  const logFile = join(dataDir, 'service.log');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    TMPDIR: tmpdir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PUBLIC_URL: url,
    SERVICE_TOKEN,
    ADMIN_TOKEN,
    ENCRYPTION_KEY,
    GOOGLE_CLIENT_ID: 'calwatch-dev',
    GOOGLE_CLIENT_SECRET: 'calwatch-dev-secret',
    GOOGLE_REDIRECT_URI: `${url}/oauth/google/callback`,
    GOOGLE_API_URL: g,
    GOOGLE_AUTH_URL: `${g}o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${g}token`,
    GOOGLE_REVOKE_URL: `${g}revoke`,
    SLACK_API_URL: `${g}slack/api/`,
    SLACK_BOT_TOKEN: 'xoxb-bench-token',
    OAUTH_RETURN_ORIGINS: 'http://app.test',
    ...(process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {}),
  };
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  const fd = openSync(logFile, 'a');
  let child: Subprocess;
  try {
    child = Bun.spawn(['bun', mainOf(opts.root)], { cwd: opts.root, env, stdin: 'ignore', stdout: fd, stderr: fd });
  } finally {
    closeSync(fd);
  }
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${opts.label} exited with ${child.exitCode} (see ${logFile})`);
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status === 200;
    },
    { what: `${opts.label} ready`, timeoutMs: 60_000, intervalMs: 100 },
  );
  const sql = postgres(opts.databaseUrl ?? (await embeddedDatabaseUrl(child.pid, port)), { max: 1, onnotice: () => {} });
  return {
    label: opts.label,
    url,
    pid: child.pid,
    logFile,
    sql,
    async trpc(path, input) {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` };
      const res = /\.(get|list|info|busy|free)$/.test(path)
        ? await fetch(`${url}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, { headers })
        : await fetch(`${url}/trpc/${path}`, { method: 'POST', headers, body: JSON.stringify(input ?? {}) });
      const body = (await res.json()) as { result?: { data: unknown } };
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      return body.result!.data as never;
    },
    async gql(query, variables) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
      if (body.errors?.length) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
      return body.data as never;
    },
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
      return sum;
    },
    async stop() {
      await sql.end({ timeout: 2 });
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill(9), 20_000);
        await child.exited;
        clearTimeout(timer);
      }
      if (process.env.BENCH_KEEP_LOGS) console.log(`log kept: ${logFile}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// --- setup through the real path -----------------------------------------------------------------------

interface Owner {
  email: string;
  externalOwnerId: string;
  calendars: string[];
}

async function linkOwners(svc: ServiceChild, ctl: EmulatorControl, prefix: string, owners: number, calendarsPerOwner: number): Promise<Owner[]> {
  const out: Owner[] = [];
  for (let o = 0; o < owners; o++) {
    const email = `${prefix}${o}@example.com`;
    const { refreshToken } = await ctl.createUser(email);
    const calendars = [email];
    for (let c = 1; c < calendarsPerOwner; c++) {
      calendars.push((await ctl.json('calendars', { owner: email, id: `${prefix}${o}-cal${c}@group.calendar.google.com`, summary: `Latency ${o}/${c}`, timeZone: 'UTC' })).id);
    }
    await svc.trpc('links.event', { type: 'LINKED', externalOwnerId: `${prefix}owner-${o}`, refreshToken });
    out.push({ email, externalOwnerId: `${prefix}owner-${o}`, calendars });
  }
  const ownerCalendars = (ext: string) =>
    svc.gql<{ owner: { calendars: Array<{ calendarId: string; selected: boolean; lastSyncedAt: string | null; channel: { status: string } | null }> } | null }>(
      `query($e: String!) { owner(externalOwnerId: $e) { calendars { calendarId selected lastSyncedAt channel { status } } } }`,
      { e: ext },
    );
  for (const o of out) {
    await waitFor(async () => (await ownerCalendars(o.externalOwnerId)).owner?.calendars.length === o.calendars.length, {
      what: `calendar list of ${o.email}`,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const others = o.calendars.slice(1);
    for (let i = 0; i < others.length; i += 10) {
      await Promise.all(others.slice(i, i + 10).map((calendarId) => svc.trpc('calendars.setSelected', { externalOwnerId: o.externalOwnerId, calendarId, selected: true })));
    }
  }
  for (const o of out) {
    await waitFor(
      async () => {
        const cals = (await ownerCalendars(o.externalOwnerId)).owner!.calendars;
        return cals.length === o.calendars.length && cals.every((c) => c.selected && c.lastSyncedAt && c.channel?.status === 'ACTIVE');
      },
      { what: `${o.email}: every calendar synced and watched`, timeoutMs: 180_000, intervalMs: 250 },
    );
  }
  return out;
}

/** No sync or on-call job ready, running or retrying (deferred ones, such as spread polls, excepted). */
async function quiet(svc: ServiceChild, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      const { queues } = await svc.gql<{ queues: Array<{ name: string; queued: number; active: number; retrying: number }> }>(`{ queues { name queued active retrying } }`);
      return queues.filter((q) => /^(sync|oncall|channels)\./.test(q.name)).every((q) => q.queued + q.active + q.retrying === 0);
    },
    { what: `${svc.label}: queues idle`, timeoutMs, intervalMs: 200 },
  );
}

const DAY = '2030-01-01';
const eventBody = (i: number, title: string) => {
  const start = new Date(Date.parse(`${DAY}T00:00:00Z`) + i * 60_000);
  return { summary: title, start: { dateTime: start.toISOString() }, end: { dateTime: new Date(start.getTime() + 30 * 60_000).toISOString() } };
};

/** The emulator's channel that pushes this calendar's changes to this service. */
async function channelFor(svc: ServiceChild, ctl: EmulatorControl, calendarId: string): Promise<string> {
  const chans = await ctl.channels();
  const ch = chans.find(
    (c) => c.state === 'active' && c.address.startsWith(svc.url) && c.resourceUri.includes('/events') && (c.resourceUri.includes(encodeURIComponent(calendarId)) || c.resourceUri.includes(calendarId)),
  );
  if (!ch) throw new Error(`no active channel of ${calendarId} pointing at ${svc.url}`);
  return ch.id;
}

/**
 * Where the time went, from the emulator's records (same machine clock, ms): the push (queued at the
 * change -> the webhook's 204), then until events.list for this calendar was answered (outbox drain,
 * job, worker, quota, the list call), then until the row was seen.
 */
async function phases(ctl: EmulatorControl, o: { channelId: string; calendarId: string; afterIso: string; requestMark: number; visibleAt: number }): Promise<Pick<Sample, 'pushMs' | 'toListMs' | 'listToVisibleMs'>> {
  const { items } = await ctl.json<{ items: Array<{ state: string; queuedAt: string; deliveredAt?: string; outcome: string }> }>(`notifications?channelId=${encodeURIComponent(o.channelId)}`);
  const r = items.find((x) => x.state === 'exists' && x.queuedAt >= o.afterIso && x.deliveredAt);
  if (!r) return {};
  const delivered = Date.parse(r.deliveredAt!);
  const lists = (await ctl.requests({ sinceId: o.requestMark, method: 'GET' })).filter(
    (q) => q.path.endsWith('/events') && (q.path.includes(encodeURIComponent(o.calendarId)) || q.path.includes(o.calendarId)) && Date.parse(q.at) >= delivered,
  );
  const listAt = lists.length ? Date.parse(lists[0]!.at) : undefined;
  return {
    pushMs: delivered - Date.parse(r.queuedAt),
    ...(listAt !== undefined ? { toListMs: listAt - delivered, listToVisibleMs: o.visibleAt - listAt } : {}),
  };
}

interface Sample {
  /** Change call's return -> visible. */
  ms: number;
  /** The push, from the change to the webhook's answer (emulator's clock). */
  pushMs?: number;
  /** The webhook's answer -> events.list of the calendar answered. */
  toListMs?: number;
  /** events.list answered -> the row seen in the database (mirror write, reactors, commit, poll). */
  listToVisibleMs?: number;
}

const calendarRows = new Map<string, string>();
async function calendarRow(svc: ServiceChild, owner: Owner, calendarId: string): Promise<string> {
  const key = `${svc.url} ${owner.externalOwnerId} ${calendarId}`;
  let id = calendarRows.get(key);
  if (!id) {
    const [row] = await svc.sql`select id::text from calendars where external_owner_id = ${owner.externalOwnerId} and google_calendar_id = ${calendarId}`;
    id = row!.id as string;
    calendarRows.set(key, id);
  }
  return id;
}

/** Makes one change at the emulator, then polls the service's database until the row is there; ms from the change's return. */
async function changeToVisible(svc: ServiceChild, ctl: EmulatorControl, owner: Owner, calendarId: string, eventId: string, i: number, channelId: string): Promise<Sample> {
  const title = `Change ${eventId}`;
  const requestMark = await ctl.requestMark();
  const before = new Date(Date.now() - 2).toISOString();
  await ctl.putEvent(calendarId, eventId, eventBody(i % 1400, title));
  const t0 = performance.now();
  const calendarRowId = await calendarRow(svc, owner, calendarId);
  for (;;) {
    const rows = await svc.sql`select 1 from calendar_events where calendar_id = ${calendarRowId} and google_event_id = ${eventId}`;
    if (rows.length > 0) break;
    if (performance.now() - t0 > 30_000) throw new Error(`${svc.label}: ${eventId} never reached the mirror`);
    await Bun.sleep(POLL_MS);
  }
  const ms = performance.now() - t0;
  const visibleAt = Date.now();
  return { ms, ...(await phases(ctl, { channelId, calendarId, afterIso: before, requestMark, visibleAt })) };
}

interface ScenarioResult {
  stats: Stats;
  samples: number[];
  quotaWaits: number;
  /** Breakdown: the push until the webhook's 204, then until events.list answered, then until seen; and the service's own notification-to-sync histogram (mean). */
  breakdown: { pushToWebhookAnswerMs: Stats | null; webhookAnswerToListMs: Stats | null; listToVisibleMs: Stats | null; notificationToSyncMeanMs: number | null; syncs: number };
}

function phaseStats(samples: Sample[]) {
  const of = (k: 'pushMs' | 'toListMs' | 'listToVisibleMs') => {
    const xs = samples.flatMap((s) => (s[k] === undefined ? [] : [s[k]!]));
    return xs.length ? stats(xs) : null;
  };
  return { pushToWebhookAnswerMs: of('pushMs'), webhookAnswerToListMs: of('toListMs'), listToVisibleMs: of('listToVisibleMs') };
}

async function measured(svc: ServiceChild, run: () => Promise<Sample[]>): Promise<ScenarioResult> {
  await quiet(svc);
  const m = async () => ({
    waits: await svc.metric('calwatch_google_quota_waits_total'),
    sum: await svc.metric('calwatch_notification_to_sync_seconds_sum'),
    count: await svc.metric('calwatch_notification_to_sync_seconds_count'),
  });
  const m0 = await m();
  const samples = await run();
  const m1 = await m();
  const syncs = m1.count - m0.count;
  return {
    stats: stats(samples.map((s) => s.ms)),
    samples: samples.map((s) => round(s.ms)),
    quotaWaits: m1.waits - m0.waits,
    breakdown: {
      ...phaseStats(samples),
      notificationToSyncMeanMs: syncs > 0 ? round(((m1.sum - m0.sum) / syncs) * 1000) : null,
      syncs,
    },
  };
}

async function scenarioA(svc: ServiceChild, ctl: EmulatorControl, owner: Owner, tag: string): Promise<ScenarioResult> {
  const calendarId = owner.calendars[0]!;
  const channelId = await channelFor(svc, ctl, calendarId);
  // Two warm-up changes, not counted (first request of a path, JIT).
  for (let i = 0; i < 2; i++) await changeToVisible(svc, ctl, owner, calendarId, `aw${tag}${i}`, i, channelId);
  return measured(svc, async () => {
    const out: Sample[] = [];
    for (let i = 0; i < CHANGES_A; i++) out.push(await changeToVisible(svc, ctl, owner, calendarId, `a${tag}${i.toString(32).padStart(4, '0')}`, 2 + i, channelId));
    return out;
  });
}

async function scenarioB(svc: ServiceChild, ctl: EmulatorControl, owners: Owner[], tag: string): Promise<ScenarioResult> {
  const all = owners.flatMap((o) => o.calendars.map((calendarId) => ({ owner: o, calendarId })));
  const channels = new Map<string, string>();
  for (const x of all) channels.set(x.calendarId, await channelFor(svc, ctl, x.calendarId));
  // A stride coprime with the count: every calendar once, consecutive changes on different owners.
  let stride = 7;
  while (gcd(stride, all.length) !== 1) stride++;
  return measured(svc, async () => {
    const out: Sample[] = [];
    for (let i = 0; i < all.length; i++) {
      const { owner, calendarId } = all[(i * stride) % all.length]!;
      out.push(await changeToVisible(svc, ctl, owner, calendarId, `b${tag}${i.toString(32).padStart(4, '0')}`, 100 + i, channels.get(calendarId)!));
    }
    return out;
  });
}
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

async function scenarioC(svc: ServiceChild, ctl: EmulatorControl, prefix: string): Promise<ScenarioResult & { swaps: number }> {
  const email = `${prefix}oncall@example.com`;
  const { refreshToken } = await ctl.createUser(email, { timeZone: 'Europe/Paris' });
  const ext = `${prefix}oncall-owner`;
  await svc.trpc('links.event', { type: 'LINKED', externalOwnerId: ext, refreshToken });
  await waitFor(
    async () => {
      const d = await svc.gql(`query($e: String!) { owner(externalOwnerId: $e) { calendars { lastSyncedAt channel { status } } } }`, { e: ext });
      return d.owner?.calendars?.[0]?.lastSyncedAt && d.owner.calendars[0].channel?.status === 'ACTIVE';
    },
    { what: 'on-call owner synced and watched', timeoutMs: 60_000, intervalMs: 200 },
  );
  const members = ['ada', 'bob', 'cy'].map((n) => ({ email: `${n}.${prefix}@team.test`, name: n }));
  for (const m of members) await ctl.json('slack/users', { email: m.email, name: m.name });
  const g = (
    await svc.gql(`mutation($input: CreateOncallGroupInput!) { createOncallGroup(input: $input) { id } }`, {
      input: { name: `Bench ${prefix}`, externalOwnerId: ext, calendarId: 'primary', slackChannel: `#bench-${prefix}`, timeZone: 'Europe/Paris', members },
    })
  ).createOncallGroup;
  const start = new Date(Date.now() + 48 * 3600_000);
  start.setUTCMinutes(0, 0, 0);
  const scheduled = (
    await svc.gql(`mutation($input: ScheduleRotationInput!) { scheduleRotation(input: $input) { id assigneeEmail googleEventId } }`, {
      input: { groupId: g.id, start: start.toISOString(), shiftHours: 8, count: 3 * (DECLINES_C + 1) },
    })
  ).scheduleRotation as Array<{ id: string; assigneeEmail: string; googleEventId: string }>;
  // The inserts' own pushes and syncs settle first.
  await quiet(svc);
  const swapsCompleted = async () =>
    (await svc.gql(`query($id: ID!) { oncallGroup(id: $id) { swaps { state } } }`, { id: g.id })).oncallGroup.swaps.filter((s: any) => s.state === 'COMPLETED').length;
  const channelId = await channelFor(svc, ctl, email);
  const waits0 = await svc.metric('calwatch_google_quota_waits_total');
  const samples: Sample[] = [];
  // Shift 3j (ada's, never touched by an earlier swap: swaps take the next colleague's shift 3j+1).
  for (let j = 0; j < DECLINES_C + 1; j++) {
    const shift = scheduled[3 * j]!;
    const requestMark = await ctl.requestMark();
    const before = new Date(Date.now() - 2).toISOString();
    await ctl.respond(email, shift.googleEventId, shift.assigneeEmail, 'declined');
    const t0 = performance.now();
    for (;;) {
      const [s] = await svc.sql`select status, declined_by, declined_on from shifts where id = ${shift.id}`;
      if (s!.declined_by === shift.assigneeEmail && s!.declined_on) break;
      if (performance.now() - t0 > 30_000) throw new Error(`${svc.label}: decline of shift ${shift.id} never recorded (status ${s!.status})`);
      await Bun.sleep(POLL_MS);
    }
    const ms = performance.now() - t0;
    const visibleAt = Date.now();
    // the first one warms the path
    if (j > 0) samples.push({ ms, ...(await phases(ctl, { channelId, calendarId: email, afterIso: before, requestMark, visibleAt })) });
    // The swap, its two patches in Google and their pushes and syncs, before the next decline.
    await waitFor(async () => (await swapsCompleted()) >= j + 1, { what: `swap ${j + 1} completed`, timeoutMs: 30_000, intervalMs: 50 });
    await quiet(svc);
  }
  return {
    stats: stats(samples.map((s) => s.ms)),
    samples: samples.map((s) => round(s.ms)),
    quotaWaits: (await svc.metric('calwatch_google_quota_waits_total')) - waits0,
    // notification-to-sync is not split out here: the swaps' own patches cause syncs in the same window
    breakdown: { ...phaseStats(samples), notificationToSyncMeanMs: null, syncs: 0 },
    swaps: await swapsCompleted(),
  };
}

// --- run -------------------------------------------------------------------------------------------

async function otherBenchRunning(): Promise<boolean> {
  const p = Bun.spawn(['pgrep', '-f', 'bench/scale.ts'], { stdout: 'pipe' });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out.trim().length > 0;
}

/** Another benchmark on this machine (bench/scale.ts) is waited for before each measured design (poll every 30 s, up to 40 minutes in all; BENCH_WAIT_QUIET=0: don't), and watched while it runs. */
const WAIT_QUIET = process.env.BENCH_WAIT_QUIET !== '0';
/** One budget of 40 minutes of waiting per invocation, shared by its designs. */
let waitDeadline: number | undefined;
async function waitQuiet(label: string): Promise<number> {
  const t0 = Date.now();
  while (WAIT_QUIET && (await otherBenchRunning())) {
    waitDeadline ??= Date.now() + 40 * 60_000;
    if (Date.now() > waitDeadline) {
      console.warn(`${label}: bench/scale.ts still running after 40 minutes of waiting: measuring under load`);
      break;
    }
    console.log(`${label}: waiting for bench/scale.ts to end (polling every 30 s)`);
    await Bun.sleep(30_000);
  }
  return Math.round((Date.now() - t0) / 1000);
}
function watchOthers(): { seen: () => boolean; stop: () => void } {
  let seen = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void otherBenchRunning().then((r) => {
      seen ||= r;
      busy = false;
    });
  }, 3000);
  void otherBenchRunning().then((r) => (seen ||= r));
  return { seen: () => seen, stop: () => clearInterval(timer) };
}
interface Conditions {
  waitedForOtherBenchSeconds: number;
  otherBenchRunningDuring: boolean;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

const emulator = await startEmulatorChild();
const emulatorUrl = emulator.url;
const ctl = emulatorControl(emulatorUrl);
const started = new Date();
const loadBefore = loadavg();
let othersSeen = false;
const git = async (cwd: string, ...args: string[]) => (await new Response(Bun.spawn(['git', ...args], { cwd, stdout: 'pipe' }).stdout).text()).trim();
const commit = await git(SERVICE_ROOT, 'rev-parse', '--short', 'HEAD');
/** Uncommitted changes in the measured checkout's code (then the figures are not those of `commit`). */
const dirty = (await git(SERVICE_ROOT, 'status', '--porcelain', '--', 'src', 'schema', 'drizzle', 'package.json', 'bun.lock')).length > 0;
if (dirty) console.warn(`warning: ${SERVICE_ROOT} has uncommitted changes in src/schema/drizzle/package files: the figures are not those of ${commit} alone`);

interface Run {
  design: string;
  database: 'postgres' | 'embedded PGlite';
  a?: Awaited<ReturnType<typeof scenarioA>>;
  b?: Awaited<ReturnType<typeof scenarioB>>;
  c?: Awaited<ReturnType<typeof scenarioC>>;
  setupSeconds: number;
  conditions?: Conditions;
}
const runs: Run[] = [];
let baselineNote: string | undefined;

async function runDesign(design: string, root: string, database: 'postgres' | 'embedded PGlite', prefix: string, which: { b: boolean; c: boolean }) {
  const db = database === 'postgres' ? await createDatabase() : undefined;
  const svc = await startServiceChild({ label: `${design} on ${database}`, root, databaseUrl: db?.url, googleUrl: emulatorUrl });
  try {
    const t0 = performance.now();
    const owners = await linkOwners(svc, ctl, prefix, which.b ? OWNERS_B : 1, which.b ? Math.ceil(CALENDARS_B / OWNERS_B) : 1);
    await quiet(svc);
    const run: Run = { design, database, setupSeconds: round((performance.now() - t0) / 1000) };
    console.log(`${svc.label}: setup ${run.setupSeconds} s`);
    const waited = await waitQuiet(svc.label);
    if (waited > 0) await quiet(svc);
    const watch = watchOthers();
    const load0 = loadavg();
    run.a = await scenarioA(svc, ctl, owners[0]!, prefix);
    console.log(`  (a) ${CHANGES_A} sequential changes, one calendar: p50 ${run.a.stats.p50Ms} ms, p99 ${run.a.stats.p99Ms} ms (quota waits ${run.a.quotaWaits})`);
    if (which.b) {
      run.b = await scenarioB(svc, ctl, owners, prefix);
      console.log(`  (b) ${run.b.stats.n} calendars, one change each: p50 ${run.b.stats.p50Ms} ms, p99 ${run.b.stats.p99Ms} ms (quota waits ${run.b.quotaWaits})`);
    }
    if (which.c) {
      run.c = await scenarioC(svc, ctl, prefix);
      console.log(`  (c) ${run.c.stats.n} declines -> shift marked declined: p50 ${run.c.stats.p50Ms} ms, p99 ${run.c.stats.p99Ms} ms (${run.c.swaps} swaps completed)`);
    }
    watch.stop();
    run.conditions = { waitedForOtherBenchSeconds: waited, otherBenchRunningDuring: watch.seen(), loadAverageStart: load0.map((x) => round(x, 2)), loadAverageEnd: loadavg().map((x) => round(x, 2)) };
    othersSeen ||= watch.seen();
    if (watch.seen()) console.warn(`  bench/scale.ts ran during these measurements`);
    const failed = (await svc.gql(`{ queues { name failed } }`)).queues.filter((q: any) => q.failed > 0);
    if (failed.length) console.warn(`  failed jobs: ${JSON.stringify(failed)}`);
    runs.push(run);
  } finally {
    await svc.stop();
    await db?.drop();
  }
}

try {
  if (DESIGNS.includes('pg')) await runDesign('calwatch (this commit)', SERVICE_ROOT, 'postgres', 'lpg', { b: true, c: true });
  if (DESIGNS.includes('lite')) await runDesign('calwatch (this commit)', SERVICE_ROOT, 'embedded PGlite', 'llite', { b: true, c: true });
  if (!DESIGNS.includes('base')) baselineNote = 'baseline not asked for (BENCH_DESIGNS)';
  else if (existsSync(join(BASELINE_DIR, mainOf(BASELINE_DIR))) && existsSync(join(BASELINE_DIR, 'node_modules'))) {
    const head = await git(BASELINE_DIR, 'rev-parse', '--short', 'HEAD');
    await runDesign(`previous design (${head}, 1 s sync spacing)`, BASELINE_DIR, 'postgres', 'lbase', { b: true, c: false });
  } else {
    baselineNote = `baseline skipped: no worktree with node_modules at ${BASELINE_DIR}`;
    console.log(baselineNote);
  }
} finally {
  await emulator.stop();
}

const rows: Array<{ scenario: string; design: string; database: string; r: ScenarioResult; extra: string }> = [];
for (const r of runs) {
  if (r.a) rows.push({ scenario: `(a) ${r.a.stats.n} sequential changes, one calendar`, design: r.design, database: r.database, r: r.a, extra: '' });
  if (r.b) rows.push({ scenario: `(b) ${r.b.stats.n} calendars, one change each`, design: r.design, database: r.database, r: r.b, extra: '' });
  if (r.c) rows.push({ scenario: `(c) ${r.c.stats.n} declines -> shift marked declined`, design: r.design, database: r.database, r: r.c, extra: `, ${r.c.swaps} swaps completed` });
}
rows.sort((x, y) => x.scenario.localeCompare(y.scenario));
console.log('');
console.log('| scenario | design | database | p50 ms | p90 ms | p99 ms | max ms | p50 ms: push to 204 / to events.list answered / to seen | notes |');
console.log('|---|---|---|---:|---:|---:|---:|---|---|');
for (const x of rows) {
  const s = x.r.stats;
  const b = x.r.breakdown;
  console.log(`| ${x.scenario} | ${x.design} | ${x.database} | ${s.p50Ms} | ${s.p90Ms} | ${s.p99Ms} | ${s.maxMs} | ${b.pushToWebhookAnswerMs?.p50Ms ?? '-'} / ${b.webhookAnswerToListMs?.p50Ms ?? '-'} / ${b.listToVisibleMs?.p50Ms ?? '-'} | quota waits ${x.r.quotaWaits}${x.extra} |`);
}
const pg = runs.find((r) => r.database === 'postgres' && r.design.startsWith('calwatch'));
console.log('');
console.log(`aim p99 <= ${AIM_P99_MS} ms on Postgres: (a) ${pg?.a?.stats.p99Ms} ms ${pg?.a && pg.a.stats.p99Ms <= AIM_P99_MS ? 'met' : 'NOT met'}, (b) ${pg?.b?.stats.p99Ms} ms ${pg?.b && pg.b.stats.p99Ms <= AIM_P99_MS ? 'met' : 'NOT met'}`);
console.log(`commit ${commit}${dirty ? ' (with uncommitted changes)' : ''}; load average ${loadBefore.map((x) => round(x, 2)).join(' ')} at the start, ${loadavg().map((x) => round(x, 2)).join(' ')} at the end, ${cpus().length} CPUs; bench/scale.ts running during a measurement: ${othersSeen ? `yes (${runs.filter((r) => r.conditions?.otherBenchRunningDuring).map((r) => `${r.design} on ${r.database}`).join('; ')})` : 'no'}`);
if (baselineNote) console.log(baselineNote);

const result = {
  benchmark: 'latency',
  at: started.toISOString(),
  commit,
  serviceRoot: SERVICE_ROOT === ROOT ? '.' : SERVICE_ROOT,
  uncommittedChanges: dirty,
  command: 'bun bench/latency.ts',
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: round(totalmem() / 2 ** 30),
    bun: Bun.version,
    loadAverageStart: loadBefore.map((x) => round(x, 2)),
    loadAverageEnd: loadavg().map((x) => round(x, 2)),
    otherBenchmarkRunning: othersSeen,
  },
  method: {
    service: 'child process `bun src/composition/main.ts` (Postgres database of its own, or DATABASE_URL unset: embedded PGlite in a fresh DATA_DIR)',
    emulator: 'child process; real pushes to the service (PUBLIC_URL = the service)',
    measuredFrom: "return of the emulator's change call (PUT event / respond)",
    measuredTo: `first poll of the service's own database that shows it: the calendar_events row (a, b), shifts.declined_by and declined_on set (c); one connection, polls ${POLL_MS} ms apart (Postgres directly; the embedded PGlite through its socket, served by the service process)`,
    quota: 'service defaults: 10,000 requests/min per project, 600 per user',
  },
  sizes: { changesA: CHANGES_A, calendarsB: CALENDARS_B, ownersB: OWNERS_B, declinesC: DECLINES_C },
  aim: { p99Ms: AIM_P99_MS, scenarios: ['a', 'b'], database: 'postgres' },
  runs,
  ...(baselineNote ? { baselineNote } : {}),
};
mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
writeFileSync(join(import.meta.dir, 'results', 'latency.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('written bench/results/latency.json');
