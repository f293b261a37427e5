// Webhook throughput: `bun bench/webhook.ts` (needs `wrk`: apt-get install -y wrk; BENCH_SECONDS per
// measured run, default 10; BENCH_DISTINCT, default 10000).
//
// Every server measured is its own process: the service (`startService` exactly as src/composition/main.ts calls
// it, from SERVICE_ROOT, default this checkout, run by this script with `__service`, which adds a
// control port to pause and resume its job workers), a bare `Bun.serve` answering 204 (`__bare`), the
// Google emulator (`bun src/emulator/main.ts`). Load from `wrk -t2 -c64` with a Lua script sending
// valid Google notifications (X-Goog-* headers, the channel token, message numbers rising per
// channel), in two shapes:
//   (i)  20 hot channels: 2 owners x 10 calendars, linked, selected and watched through the real path
//        (emulator watch calls, sync messages), every notification for one of those 20 calendars;
//   (ii) 10,000 distinct channels: calendar and channel rows inserted by SQL (the columns the real
//        path writes, token hash = sha256 of GOOGLE_WEBHOOK_TOKEN), notifications spread over all of them.
// Each against a bare Bun.serve measured just before it, on the same machine. Designs:
//   - calwatch at SERVICE_ROOT on Postgres: (i) and (ii);
//   - the previous design (commit 205233b at BASELINE_DIR, default /tmp/calwatch-bench-base: every
//     notification a durable write) on Postgres: (i) and (ii);
//   - calwatch on the embedded PGlite (DATABASE_URL unset, a fresh DATA_DIR): (i).
// Job workers (sync, renewals, crons) are paused during the load runs (pg-boss offWork in the
// service process), so the figures are the webhook's own: its durable note, the outbox drain and
// the coalesced sync jobs it enqueues all run; the syncs those jobs stand for do not. After the hot
// run the workers are resumed and the queued syncs must run clean.
// Correctness after each run, once the drain settled: the outbox is empty; every channel's stored
// last_message_number equals the highest number wrk sent it (counted by the Lua script); the counts
// stored add up to the service's accepted + coalesced metric; at most one queued sync per calendar,
// and every notified calendar has its sync requested; then one more notification per channel (its
// number known exactly) must end up stored.
// Prints a table and writes bench/results/webhook.json.
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';

const TOKEN = 'bench-webhook-token-0123456789abcdef';

// --- child modes -----------------------------------------------------------------------------------------

if (process.argv[2] === '__bare') {
  const server = Bun.serve({ port: Number(process.env.PORT), hostname: '127.0.0.1', fetch: () => new Response(null, { status: 204 }) });
  process.on('SIGTERM', () => void server.stop(true).then(() => process.exit(0)));
  await new Promise(() => {});
}

if (process.argv[2] === '__service') {
  // The service as src/composition/main.ts starts it (config from the environment, startService), plus a control
  // port: POST /pause stops every job worker, POST /resume starts them again, GET /info.
  const root = process.argv[3]!;
  const { loadConfig } = await import(join(root, 'src/config/index.ts'));
  // src/composition/ now, src/ at older commits (the baseline's)
  const composition = existsSync(join(root, 'src', 'composition')) ? 'src/composition' : 'src';
  const { startService } = await import(join(root, composition, 'service.ts'));
  const { createLogger } = await import(join(root, 'src/log/index.ts'));
  const config = loadConfig(process.env);
  const service = await startService(config, { log: createLogger({ level: config.logLevel }) });
  const ctx = service.ctx;
  let paused = false;
  const control = Bun.serve({
    port: Number(process.env.CONTROL_PORT),
    hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === '/pause' && !paused) {
        for (const name of ctx.jobs.queueNames as string[]) await ctx.jobs.boss.offWork(name);
        paused = true;
      } else if (path === '/resume' && paused) {
        await ctx.jobs.work(ctx, config.jobsPollSeconds);
        paused = false;
      }
      return Response.json({ paused, databaseUrl: service.db.url, dbKind: ctx.runtime.dbKind, pid: process.pid });
    },
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void control.stop(true);
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  await new Promise(() => {});
}

// --- the benchmark -------------------------------------------------------------------------------------

const postgres = (await import('postgres')).default;
const { emulatorControl } = await import('../tests/support/emulator-control.ts');
type Sql = ReturnType<typeof postgres>;

const ROOT = join(import.meta.dir, '..');
const SERVICE_ROOT = process.env.SERVICE_ROOT ?? ROOT;
const BASELINE_DIR = process.env.BASELINE_DIR ?? '/tmp/calwatch-bench-base';
const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WRK = { threads: 2, connections: 64, seconds: Number(process.env.BENCH_SECONDS ?? 10) };
const HOT_OWNERS = 2;
const HOT_PER_OWNER = 10;
const DISTINCT = Number(process.env.BENCH_DISTINCT ?? 10_000);
const DESIGNS = (process.env.BENCH_DESIGNS ?? 'pg,base,lite').split(',');
const AIMS = { hot: 0.5, distinct: 0.2 };
const SERVICE_TOKEN = 'bench-service-token-0123456789';
const ADMIN_TOKEN = 'bench-admin-token-0123456789ab';
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

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

const git = async (cwd: string, ...args: string[]) => (await new Response(Bun.spawn(['git', ...args], { cwd, stdout: 'pipe' }).stdout).text()).trim();

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

// --- processes -------------------------------------------------------------------------------------

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

async function startBare(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = Bun.spawn(['bun', 'webhook.ts', '__bare'], { cwd: import.meta.dir, env: { ...process.env, PORT: String(port) }, stdout: 'ignore', stderr: 'inherit' });
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => (await fetch(url).catch(() => undefined))?.status === 204, { what: 'bare server up', timeoutMs: 10_000, intervalMs: 20 });
  return {
    url,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
}

interface ServiceChild {
  label: string;
  url: string;
  pid: number;
  databaseUrl: string;
  dbKind: string;
  logFile: string;
  control(path: '/pause' | '/resume' | '/info'): Promise<{ paused: boolean; databaseUrl: string; dbKind: string }>;
  trpc<T = any>(path: string, input?: unknown): Promise<T>;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  notificationOutcomes(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function startServiceChild(opts: { label: string; root: string; databaseUrl: string | undefined; googleUrl: string }): Promise<ServiceChild> {
  const port = await freePort();
  const controlPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const g = opts.googleUrl;
  const dataDir = mkdtempSync(join(tmpdir(), 'calwatch-webhook-'));
  const logFile = join(dataDir, 'service.log');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    TMPDIR: tmpdir(),
    PORT: String(port),
    CONTROL_PORT: String(controlPort),
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
    GOOGLE_WEBHOOK_TOKEN: TOKEN,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  const fd = openSync(logFile, 'a');
  let child: Subprocess;
  try {
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof-md', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    // (run from bench/ by a relative name: the service's modules are imported from opts.root)
    child = Bun.spawn(['bun', ...profile, 'webhook.ts', '__service', opts.root], { cwd: import.meta.dir, env, stdin: 'ignore', stdout: fd, stderr: fd });
  } finally {
    closeSync(fd);
  }
  const control = async (path: string) => (await fetch(`http://127.0.0.1:${controlPort}${path}`, { method: path === '/info' ? 'GET' : 'POST' })).json() as Promise<any>;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${opts.label} exited with ${child.exitCode} (see ${logFile})`);
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status === 200 && (await control('/info').catch(() => undefined));
    },
    { what: `${opts.label} ready`, timeoutMs: 60_000, intervalMs: 100 },
  );
  const info = await control('/info');
  return {
    label: opts.label,
    url,
    pid: child.pid,
    databaseUrl: info.databaseUrl,
    dbKind: info.dbKind,
    logFile,
    control,
    async trpc(path, input) {
      const res = await fetch(`${url}/trpc/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` },
        body: JSON.stringify(input ?? {}),
      });
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
    async notificationOutcomes() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/calwatch_notifications_total\{state="exists",outcome="(\w+)"\} (\d+)/g)) out[m[1]!] = Number(m[2]);
      return out;
    },
    async stop() {
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

// --- wrk -------------------------------------------------------------------------------------------

interface Channel {
  id: string;
  resourceId: string;
  calendarId: string;
}

/**
 * Valid notifications over `channels`: thread t owns every channel i with i % threads == t, and
 * sends them round robin, so a channel's numbers rise (base + 1, base + 2, ...). At the end each
 * thread's request count goes to `counts`: the numbers sent follow from it.
 */
function luaScript(channels: Channel[], path: string): string {
  const rows = channels.map((c) => `{${JSON.stringify(c.id)},${JSON.stringify(c.resourceId)}}`).join(',\n');
  return `-- generated by bench/webhook.ts: valid notifications over ${channels.length} channels
local channels = {
${rows}
}
local threads = {}
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end
function init(args)
  base = tonumber(args[1])
  counter = 0
  mine = {}
  for i = 1, #channels do
    if (i - 1) % ${WRK.threads} == tid then table.insert(mine, channels[i]) end
  end
  nmine = #mine
end
request = function()
  local k = (counter % nmine) + 1
  local n = base + math.floor(counter / nmine) + 1
  counter = counter + 1
  local ch = mine[k]
  return wrk.format("POST", "${path}", {
    ["X-Goog-Channel-ID"] = ch[1],
    ["X-Goog-Channel-Token"] = "${TOKEN}",
    ["X-Goog-Resource-ID"] = ch[2],
    ["X-Goog-Resource-URI"] = "https://www.googleapis.com/calendar/v3/calendars/bench/events?alt=json",
    ["X-Goog-Resource-State"] = "exists",
    ["X-Goog-Message-Number"] = tostring(n),
    ["X-Goog-Channel-Expiration"] = "Tue, 25 Jan 2030 19:22:58 GMT",
    ["User-Agent"] = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
  }, "")
end
function done(summary, latency, requests)
  local f = io.open(os.getenv("WRK_COUNTS"), "w")
  for _, t in ipairs(threads) do
    f:write(t:get("tid") .. " " .. t:get("counter") .. "\\n")
  end
  f:close()
end
`;
}

/** The highest number each channel was sent, from each thread's request count (see luaScript). */
function highestSent(channels: Channel[], base: number, countsFile: string): Map<string, number> {
  const counts = new Map<number, number>();
  for (const line of readFileSync(countsFile, 'utf8').trim().split('\n')) {
    const [tid, c] = line.split(' ').map(Number);
    counts.set(tid!, c!);
  }
  const out = new Map<string, number>();
  for (let t = 0; t < WRK.threads; t++) {
    const mine = channels.filter((_, i) => i % WRK.threads === t);
    const c = counts.get(t) ?? 0;
    mine.forEach((ch, k) => {
      // requests j = k, k + m, k + 2m ... below c; request j carries base + floor(j / m) + 1
      if (c <= k) return;
      const last = k + mine.length * Math.floor((c - 1 - k) / mine.length);
      out.set(ch.id, base + Math.floor(last / mine.length) + 1);
    });
  }
  return out;
}

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  /** CPU used during the run, in cores. */
  cpu: { server: number; postgres: number; wrk: number; machine: number };
}

function toMs(v: string): number {
  const m = v.match(/^([\d.]+)(us|ms|s)$/);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return { busy: f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, total: f.reduce((a, b) => a + b, 0) };
}
function ticksOf(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined; // gone
  }
}
function processTicks(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (ticksOf(pid) ?? 0), 0);
}
/** CPU ticks of a changing set of processes (database backends): per pid, end minus start (0 for new ones); vanished ones are lost. */
async function ticksBetween(pidsNow: () => Promise<number[]>, run: () => Promise<void>): Promise<number> {
  const start = new Map((await pidsNow()).map((pid) => [pid, ticksOf(pid) ?? 0]));
  await run();
  let sum = 0;
  for (const pid of await pidsNow()) {
    const t = ticksOf(pid);
    if (t !== undefined) sum += t - (start.get(pid) ?? 0);
  }
  return sum;
}

async function runWrk(o: { url: string; script?: string; seconds: number; args?: string[]; serverPid: number; databasePids?: () => Promise<number[]>; countsFile?: string; perfOut?: string }): Promise<WrkResult> {
  const cmd = ['wrk', `-t${WRK.threads}`, `-c${WRK.connections}`, `-d${o.seconds}s`, '--latency', ...(o.script ? ['-s', o.script] : []), o.url, ...(o.args?.length ? ['--', ...o.args] : [])];
  let proc!: Subprocess<'ignore', 'pipe', 'pipe'>;
  let out = '';
  let m0 = machineTicks();
  let s0 = 0;
  let t0 = 0;
  let m1 = m0;
  let wall = 0;
  const pgTicks = await ticksBetween(o.databasePids ?? (async () => []), async () => {
    [m0, s0, t0] = [machineTicks(), processTicks([o.serverPid]), performance.now()];
    proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, WRK_COUNTS: o.countsFile ?? '/dev/null' } });
    // Profiling (BENCH_PERF): where the database backends' CPU goes, sampled by perf during the run.
    const pids = o.perfOut && o.databasePids ? await o.databasePids() : [];
    const perf = pids.length
      ? Bun.spawn(['perf', 'record', '-F', '299', '-g', '-o', o.perfOut!, '-p', pids.join(','), '--', 'sleep', String(Math.max(1, o.seconds - 2))], { stdout: 'ignore', stderr: 'ignore' })
      : undefined;
    out = await new Response(proc.stdout).text();
    await proc.exited;
    await perf?.exited;
    wall = (performance.now() - t0) / 1000;
    m1 = machineTicks();
  });
  const usage = proc.resourceUsage();
  if (proc.exitCode !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const lat = (p: string) => toMs(out.match(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'))?.[1] ?? '');
  const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requestsPerSecond: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    p50Ms: lat('50'),
    p90Ms: lat('90'),
    p99Ms: lat('99'),
    requests: Number(out.match(/(\d+) requests in/)?.[1]),
    non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    cpu: {
      server: round((processTicks([o.serverPid]) - s0) / 100 / wall, 2),
      postgres: round(pgTicks / 100 / wall, 2),
      wrk: usage ? round((Number(usage.cpuTime.user) + Number(usage.cpuTime.system)) / 1e6 / wall, 2) : NaN,
      machine: round(((m1.busy - m0.busy) / (m1.total - m0.total)) * cpus().length, 2),
    },
  };
}

async function bareRun(seconds: number): Promise<WrkResult> {
  const bare = await startBare();
  try {
    await runWrk({ url: bare.url, seconds: 2, serverPid: bare.pid });
    return await runWrk({ url: bare.url, seconds, serverPid: bare.pid });
  } finally {
    await bare.stop();
  }
}

// --- setup -----------------------------------------------------------------------------------------

/** 2 owners x 10 calendars through the real path: link, calendar list, select, first sync, watch. */
async function setupHot(svc: ServiceChild, ctl: ReturnType<typeof emulatorControl>, prefix: string): Promise<void> {
  const owners: Array<{ ext: string; calendars: string[] }> = [];
  for (let o = 0; o < HOT_OWNERS; o++) {
    const email = `${prefix}${o}@example.com`;
    const { refreshToken } = await ctl.createUser(email);
    const calendars = [email];
    for (let c = 1; c < HOT_PER_OWNER; c++) calendars.push((await ctl.json('calendars', { owner: email, id: `${prefix}${o}-cal${c}@group.calendar.google.com`, summary: `Hot ${o}/${c}`, timeZone: 'UTC' })).id);
    // An event per calendar, so the mirror has something to compare with Google at the end.
    for (const cal of calendars) await ctl.putEvent(cal, `hot${prefix}0001`, { summary: 'Hot', start: { dateTime: '2030-01-01T10:00:00Z' }, end: { dateTime: '2030-01-01T11:00:00Z' } });
    await svc.trpc('links.event', { type: 'LINKED', externalOwnerId: `${prefix}owner-${o}`, refreshToken });
    owners.push({ ext: `${prefix}owner-${o}`, calendars });
  }
  const cals = (ext: string) =>
    svc.gql<{ owner: { calendars: Array<{ selected: boolean; lastSyncedAt: string | null; channel: { status: string } | null }> } | null }>(
      `query($e: String!) { owner(externalOwnerId: $e) { calendars { selected lastSyncedAt channel { status } } } }`,
      { e: ext },
    );
  for (const o of owners) {
    await waitFor(async () => (await cals(o.ext)).owner?.calendars.length === o.calendars.length, { what: `calendar list of ${o.ext}`, timeoutMs: 60_000, intervalMs: 200 });
    await Promise.all(o.calendars.slice(1).map((calendarId) => svc.trpc('calendars.setSelected', { externalOwnerId: o.ext, calendarId, selected: true })));
  }
  for (const o of owners) {
    await waitFor(
      async () => (await cals(o.ext)).owner!.calendars.every((c) => c.selected && c.lastSyncedAt && c.channel?.status === 'ACTIVE'),
      { what: `${o.ext}: calendars synced and watched`, timeoutMs: 120_000, intervalMs: 250 },
    );
  }
}

async function jobsIdle(sql: Sql, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => (await sql`select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active') and start_after <= now() and name like 'sync.%'`)[0]!.n === 0,
    { what: 'sync jobs done', timeoutMs, intervalMs: 250 },
  );
}

/** Calendar and channel rows as the real path leaves them (active, confirmed, synced), for `n` calendars. */
async function insertDistinct(sql: Sql, n: number): Promise<void> {
  const owners = await sql<Array<{ id: string; external_owner_id: string }>>`select id, external_owner_id from owners order by id`;
  const tokenHash = createHash('sha256').update(TOKEN).digest('hex');
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, k) => {
      const o = owners[(i + k) % owners.length]!;
      return { cal: randomUUID(), ch: randomUUID(), owner: o.id, ext: o.external_owner_id, g: `distinct${i + k}@group.calendar.google.com`, rid: `rid-distinct-${i + k}` };
    });
    const json = JSON.stringify(rows);
    await sql.begin(async (tx) => {
      await tx`insert into calendars (id, owner_id, external_owner_id, google_calendar_id, summary, time_zone, access_role, selected, sync_token, last_synced_at, last_full_sync_at)
        select (r->>'cal')::uuid, (r->>'owner')::uuid, r->>'ext', r->>'g', 'Distinct', 'UTC', 'owner', true, 'bench-sync-token', now(), now()
        from jsonb_array_elements((${json}::text)::jsonb) r`;
      await tx`insert into channels (id, owner_id, calendar_id, kind, resource_key, resource_id, resource_uri, token_hash, status, expires_at, confirmed_at, last_message_number, last_notified_at)
        select (r->>'ch')::uuid, (r->>'owner')::uuid, (r->>'cal')::uuid, 'events', 'events:' || (r->>'cal'), r->>'rid',
               'https://www.googleapis.com/calendar/v3/calendars/' || (r->>'g') || '/events?alt=json', ${tokenHash}, 'active',
               now() + interval '7 days', now(), 1, now()
        from jsonb_array_elements((${json}::text)::jsonb) r`;
    });
  }
}

// --- one load shape against one service ------------------------------------------------------------------

interface Check {
  settledMs: number;
  outboxLeft: number;
  channels: number;
  /** Channels whose stored number equals the highest sent. */
  numbersEqual: number;
  numbersBelow: number;
  numbersAbove: number;
  /** Largest shortfall below the highest number sent. */
  maxShortfall: number;
  countsStored: number;
  countsAnswered: number;
  calendarsWithTwoQueuedSyncs: number;
  calendarsNotRequested: number;
  finalNotification: { sent: number; answered204: number; stored: number };
  /** Answers 503 during the run (not noted durably, as far as the sender knows: Google would retry them). */
  answered503: number;
  ok: boolean;
}

/** Stored state of these channels. */
async function channelState(sql: Sql, ids: string[]) {
  const rows = await sql<Array<{ id: string; n: string; c: string }>>`
    select id::text, last_message_number::text as n, notifications_count::text as c from channels where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, { n: Number(r.n), c: Number(r.c) }]));
}

/** Waits until the outbox is empty and the stored numbers stop moving (the drain settled). */
async function settle(sql: Sql, ids: string[]): Promise<number> {
  const t0 = performance.now();
  let last = '';
  let stableSince = performance.now();
  for (;;) {
    const [{ n: outbox }] = (await sql`select count(*)::int as n from channel_sync_requests`) as unknown as [{ n: number }];
    const [{ s }] = (await sql`select coalesce(sum(last_message_number), 0)::text || '/' || coalesce(sum(notifications_count), 0)::text as s from channels where id = any(${ids}::uuid[])`) as unknown as [{ s: string }];
    if (s !== last) {
      last = s;
      stableSince = performance.now();
    }
    if (outbox === 0 && performance.now() - stableSince > 1500) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error(`drain did not settle (outbox ${outbox})`);
    await Bun.sleep(100);
  }
}

async function notify(url: string, ch: Channel, n: number): Promise<number> {
  const res = await fetch(`${url}/webhooks/google/calendar`, {
    method: 'POST',
    headers: {
      'X-Goog-Channel-ID': ch.id,
      'X-Goog-Channel-Token': TOKEN,
      'X-Goog-Resource-ID': ch.resourceId,
      'X-Goog-Resource-URI': 'https://www.googleapis.com/calendar/v3/calendars/bench/events?alt=json',
      'X-Goog-Resource-State': 'exists',
      'X-Goog-Message-Number': String(n),
    },
  });
  await res.arrayBuffer();
  return res.status;
}

async function loadShape(o: { svc: ServiceChild; sql: Sql; channels: Channel[]; name: string; dir: string; databasePids?: () => Promise<number[]> }) {
  const { svc, sql, channels } = o;
  const ids = channels.map((c) => c.id);
  const script = join(o.dir, `${o.name}.lua`);
  writeFileSync(script, luaScript(channels, '/webhooks/google/calendar'));
  const maxStored = async () => Math.max(0, ...[...(await channelState(sql, ids)).values()].map((v) => v.n));
  // Warm-up: fills the channel cache, JITs the path.
  let base = (await maxStored()) + 1;
  const warmCounts = join(o.dir, `${o.name}.warm.counts`);
  await runWrk({ url: `${svc.url}/webhooks/google/calendar`, script, seconds: 3, args: [String(base)], serverPid: svc.pid, countsFile: warmCounts });
  const warmSent = highestSent(channels, base, warmCounts);
  await settle(sql, ids);
  const before = await channelState(sql, ids);
  const outcomes0 = await svc.notificationOutcomes();
  const dbStats = async () =>
    o.databasePids
      ? ((await sql`select xact_commit::float8 as commits, xact_rollback::float8 as rollbacks, tup_inserted::float8 as inserted, tup_updated::float8 as updated,
                  tup_deleted::float8 as deleted, deadlocks::float8 as deadlocks
           from pg_stat_database where datname = current_database()`)[0] as Record<string, number>)
      : undefined;
  const db0 = await dbStats();
  const startedAt = new Date(Date.now() - 1000); // database clock may lag a little: generous
  base = Math.max(...warmSent.values(), ...[...before.values()].map((v) => v.n)) + 1;
  const counts = join(o.dir, `${o.name}.counts`);
  const perfOut = process.env.BENCH_PERF ? join(process.env.BENCH_PERF, `${o.name}.perf.data`) : undefined;
  const result = await runWrk({ url: `${svc.url}/webhooks/google/calendar`, script, seconds: WRK.seconds, args: [String(base)], serverPid: svc.pid, databasePids: o.databasePids, countsFile: counts, perfOut });
  const sent = highestSent(channels, base, counts);
  const settledMs = await settle(sql, ids);
  await Bun.sleep(600); // the statistics collector's flush interval
  const db1 = await dbStats();
  const outcomes1 = await svc.notificationOutcomes();
  const perRequest = db0 && db1 ? Object.fromEntries(Object.keys(db0).filter((k) => k !== 'deadlocks').map((k) => [k, round((db1[k]! - db0[k]!) / result.requests, 3)])) : undefined;
  const deadlocks = db0 && db1 ? db1.deadlocks! - db0.deadlocks! : undefined;
  const outcomes = Object.fromEntries(Object.keys(outcomes1).map((k) => [k, (outcomes1[k] ?? 0) - (outcomes0[k] ?? 0)]).filter(([, v]) => Number(v) > 0));
  const after = await channelState(sql, ids);
  let equal = 0;
  let below = 0;
  let above = 0;
  let maxShortfall = 0;
  let countsStored = 0;
  for (const ch of channels) {
    const s = after.get(ch.id)!;
    const hi = sent.get(ch.id) ?? before.get(ch.id)!.n;
    countsStored += s.c - before.get(ch.id)!.c;
    if (s.n === hi) equal++;
    else if (s.n < hi) {
      below++;
      maxShortfall = Math.max(maxShortfall, hi - s.n);
    } else above++;
  }
  const [{ n: outboxLeft }] = (await sql`select count(*)::int as n from channel_sync_requests`) as unknown as [{ n: number }];
  const [{ n: twice }] = (await sql`select count(*)::int as n from (select singleton_key from pgboss.job where name = 'sync.events' and state = 'created' group by 1 having count(*) > 1) x`) as unknown as [{ n: number }];
  const calendarIds = [...new Set(channels.filter((c) => sent.has(c.id)).map((c) => c.calendarId))];
  const [{ n: notRequested }] = (await sql`
    select count(*)::int as n from unnest(${calendarIds}::uuid[]) as c(id)
    where not exists (select 1 from calendar_sync_states s where s.calendar_id = c.id and s.requested_at >= ${startedAt})`) as unknown as [{ n: number }];
  // One more notification per channel, its number known exactly: it must end up stored.
  const finalN = Math.max(...sent.values(), ...[...after.values()].map((v) => v.n)) + 1;
  let answered = 0;
  for (let i = 0; i < channels.length; i += 50) {
    const statuses = await Promise.all(channels.slice(i, i + 50).map((ch) => notify(svc.url, ch, finalN)));
    answered += statuses.filter((s) => s === 204).length;
  }
  await settle(sql, ids);
  const final = await channelState(sql, ids);
  const finalStored = channels.filter((ch) => final.get(ch.id)!.n === finalN).length;
  const countsAnswered = (outcomes.accepted ?? 0) + (outcomes.coalesced ?? 0);
  const check: Check = {
    settledMs: Math.round(settledMs),
    outboxLeft,
    channels: channels.length,
    numbersEqual: equal,
    numbersBelow: below,
    numbersAbove: above,
    maxShortfall,
    countsStored,
    countsAnswered,
    calendarsWithTwoQueuedSyncs: twice,
    calendarsNotRequested: notRequested,
    finalNotification: { sent: channels.length, answered204: answered, stored: finalStored },
    answered503: outcomes.unavailable ?? 0,
    ok: outboxLeft === 0 && above === 0 && below === 0 && twice === 0 && notRequested === 0 && answered === channels.length && finalStored === channels.length && countsStored === countsAnswered,
  };
  return { result, outcomes, check, databasePerRequest: perRequest, deadlocks };
}

// --- run -------------------------------------------------------------------------------------------

if (!Bun.which('wrk')) {
  console.error('wrk is needed: apt-get install -y wrk');
  process.exit(1);
}

const started = new Date();
const loadStart = loadavg();
const commit = await git(SERVICE_ROOT, 'rev-parse', '--short', 'HEAD');
const dirty = (await git(SERVICE_ROOT, 'status', '--porcelain', '--', 'src', 'schema', 'drizzle', 'package.json', 'bun.lock')).length > 0;
if (dirty) console.warn(`warning: ${SERVICE_ROOT} has uncommitted changes in src/schema/drizzle/package files: the figures are not those of ${commit} alone`);
let othersSeen = false;
const dir = mkdtempSync(join(tmpdir(), 'calwatch-wrk-'));
const emulator = await startEmulatorChild();
const ctl = emulatorControl(emulator.url);

interface Row {
  design: string;
  database: string;
  shape: string;
  channels: number;
  bare: WrkResult;
  result: WrkResult;
  ratio: number;
  aim?: number;
  outcomes?: Record<string, number>;
  check?: Check;
  /** Database work per request during the run and its drain (pg_stat_database): commits, rows inserted/updated/deleted. */
  databasePerRequest?: Record<string, number>;
  /** Deadlocks Postgres detected in this database during the run (pg_stat_database; each costs deadlock_timeout, 1 s, of waiting). */
  deadlocks?: number;
}
const rows: Row[] = [];
const notes: string[] = [];
const syncAfterHot: Record<string, unknown> = {};
const conditions: Record<string, Conditions> = {};

async function runDesign(key: string, design: string, root: string, database: 'postgres' | 'embedded PGlite', shapes: { distinct: boolean }) {
  const db = database === 'postgres' ? await createDatabase() : undefined;
  const svc = await startServiceChild({ label: `${design} on ${database}`, root, databaseUrl: db?.url, googleUrl: emulator.url });
  const sql = postgres(svc.databaseUrl, { max: 1, onnotice: () => {} });
  const databasePids =
    database === 'postgres' ? async () => (await sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`).map((r) => Number(r.pid)) : undefined;
  try {
    const t0 = performance.now();
    await setupHot(svc, ctl, `w${key}`);
    await jobsIdle(sql);
    console.log(`${svc.label}: 20 hot channels set up in ${round((performance.now() - t0) / 1000)} s`);
    const waited = await waitQuiet(svc.label);
    const watch = watchOthers();
    const load0 = loadavg();

    // The app's own HTTP stack on a route that does nothing: the ceiling of any route of this app.
    await svc.control('/pause');
    if (!process.env.BENCH_SKIP_HEALTHZ) {
      const bareH = await bareRun(WRK.seconds);
      await runWrk({ url: `${svc.url}/healthz`, seconds: 2, serverPid: svc.pid });
      const health = await runWrk({ url: `${svc.url}/healthz`, seconds: WRK.seconds, serverPid: svc.pid, databasePids });
      rows.push({ design, database, shape: 'GET /healthz (framework, no database)', channels: 0, bare: bareH, result: health, ratio: round(health.requestsPerSecond / bareH.requestsPerSecond, 3) });
      console.log(`  /healthz: ${Math.round(health.requestsPerSecond)} req/s (bare ${Math.round(bareH.requestsPerSecond)})`);
    }

    const hot = (await sql<Channel[]>`select id::text, resource_id as "resourceId", calendar_id::text as "calendarId" from channels where kind = 'events' and status = 'active' order by id`).slice();
    if (hot.length !== HOT_OWNERS * HOT_PER_OWNER) throw new Error(`expected ${HOT_OWNERS * HOT_PER_OWNER} hot channels, found ${hot.length}`);
    const bare1 = await bareRun(WRK.seconds);
    const h = await loadShape({ svc, sql, channels: hot, name: `${key}-hot`, dir, databasePids });
    rows.push({ design, database, shape: '(i) 20 hot channels', channels: hot.length, bare: bare1, result: h.result, ratio: round(h.result.requestsPerSecond / bare1.requestsPerSecond, 3), aim: AIMS.hot, outcomes: h.outcomes, check: h.check, databasePerRequest: h.databasePerRequest, deadlocks: h.deadlocks });
    console.log(`  (i) hot: ${Math.round(h.result.requestsPerSecond)} req/s = ${round(h.result.requestsPerSecond / bare1.requestsPerSecond, 2)} of bare ${Math.round(bare1.requestsPerSecond)}; ${JSON.stringify(h.outcomes)}; check ${h.check.ok ? 'ok' : `FAILED ${JSON.stringify(h.check)}`}; database per request ${JSON.stringify(h.databasePerRequest ?? null)}, deadlocks ${h.deadlocks ?? '-'}`);

    // Workers back: the queued syncs run clean and the mirror still matches Google.
    const [{ q }] = (await sql`select count(*)::int as q from pgboss.job where name = 'sync.events' and state = 'created'`) as unknown as [{ q: number }];
    await svc.control('/resume');
    await jobsIdle(sql);
    const [{ failed }] = (await sql`select count(*)::int as failed from pgboss.job where name like 'sync.%' and state = 'failed'`) as unknown as [{ failed: number }];
    const mirrored = (await sql`select count(*)::int as n from calendar_events e join calendars c on c.id = e.calendar_id where e.google_event_id like ${`hotw${key}%`}`)[0]!.n as number;
    syncAfterHot[`${design} on ${database}`] = { syncJobsQueuedAfterRun: q, failedSyncJobs: failed, hotEventsMirrored: mirrored, of: hot.length };
    if (failed > 0 || mirrored !== hot.length) notes.push(`${design} on ${database}: after the hot run ${failed} sync jobs failed, ${mirrored}/${hot.length} events mirrored`);
    await svc.control('/pause');

    if (shapes.distinct) {
      const t1 = performance.now();
      await insertDistinct(sql, DISTINCT);
      const distinct = await sql<Channel[]>`select id::text, resource_id as "resourceId", calendar_id::text as "calendarId" from channels where resource_id like 'rid-distinct-%' order by id`;
      console.log(`  ${distinct.length} distinct channels inserted in ${round((performance.now() - t1) / 1000)} s`);
      const bare2 = await bareRun(WRK.seconds);
      const d = await loadShape({ svc, sql, channels: distinct, name: `${key}-distinct`, dir, databasePids });
      rows.push({ design, database, shape: `(ii) ${distinct.length.toLocaleString('en')} distinct channels`, channels: distinct.length, bare: bare2, result: d.result, ratio: round(d.result.requestsPerSecond / bare2.requestsPerSecond, 3), aim: AIMS.distinct, outcomes: d.outcomes, check: d.check, databasePerRequest: d.databasePerRequest, deadlocks: d.deadlocks });
      console.log(`  (ii) distinct: ${Math.round(d.result.requestsPerSecond)} req/s = ${round(d.result.requestsPerSecond / bare2.requestsPerSecond, 2)} of bare ${Math.round(bare2.requestsPerSecond)}; ${JSON.stringify(d.outcomes)}; check ${d.check.ok ? 'ok' : `FAILED ${JSON.stringify(d.check)}`}; database per request ${JSON.stringify(d.databasePerRequest ?? null)}, deadlocks ${d.deadlocks ?? '-'}`);
    }
    watch.stop();
    conditions[`${design} on ${database}`] = { waitedForOtherBenchSeconds: waited, otherBenchRunningDuring: watch.seen(), loadAverageStart: load0.map((x) => round(x, 2)), loadAverageEnd: loadavg().map((x) => round(x, 2)) };
    othersSeen ||= watch.seen();
    if (watch.seen()) console.warn(`  bench/scale.ts ran during these measurements`);
  } finally {
    await sql.end({ timeout: 2 });
    await svc.stop();
    await db?.drop();
  }
}

try {
  if (DESIGNS.includes('pg')) await runDesign('pg', 'calwatch (this commit)', SERVICE_ROOT, 'postgres', { distinct: true });
  if (DESIGNS.includes('base')) {
    if ((existsSync(join(BASELINE_DIR, 'src', 'composition', 'service.ts')) || existsSync(join(BASELINE_DIR, 'src', 'service.ts'))) && existsSync(join(BASELINE_DIR, 'node_modules'))) {
      const head = await git(BASELINE_DIR, 'rev-parse', '--short', 'HEAD');
      await runDesign('base', `previous design (${head})`, BASELINE_DIR, 'postgres', { distinct: true });
    } else notes.push(`baseline skipped: no worktree with node_modules at ${BASELINE_DIR}`);
  }
  if (DESIGNS.includes('lite')) await runDesign('lite', 'calwatch (this commit)', SERVICE_ROOT, 'embedded PGlite', { distinct: false });
} finally {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log('');
console.log('| design | database | load | req/s | bare Bun.serve req/s | ratio to bare | aim | p50 ms | p99 ms | non-2xx / socket errors | CPU cores: service / postgres / wrk / machine | deadlocks | check |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
for (const r of rows) {
  const c = r.result.cpu;
  console.log(
    `| ${r.design} | ${r.database} | ${r.shape} | ${Math.round(r.result.requestsPerSecond).toLocaleString('en')} | ${Math.round(r.bare.requestsPerSecond).toLocaleString('en')} | ${r.ratio} | ${r.aim ? `>= ${r.aim}` : ''} | ${r.result.p50Ms} | ${r.result.p99Ms} | ${r.result.non2xx} / ${r.result.socketErrors} | ${c.server} / ${c.postgres} / ${c.wrk} / ${c.machine} of ${cpus().length} | ${r.deadlocks ?? ''} | ${r.check ? (r.check.ok ? 'ok' : `FAILED${r.check.answered503 ? ` (${r.check.answered503} answered 503)` : ''}`) : ''} |`,
  );
}
const prev = (shape: string) => rows.find((r) => r.design.startsWith('previous') && r.shape.startsWith(shape));
const cur = (shape: string) => rows.find((r) => r.design.startsWith('calwatch') && r.database === 'postgres' && r.shape.startsWith(shape));
const versus: Record<string, number> = {};
for (const shape of ['(i)', '(ii)']) {
  const a = cur(shape);
  const b = prev(shape);
  if (a && b) {
    versus[shape] = round(a.result.requestsPerSecond / b.result.requestsPerSecond, 2);
    console.log(`${shape} on Postgres: this commit / previous design = ${versus[shape]}x`);
  }
}
console.log(`commit ${commit}${dirty ? ' (with uncommitted changes)' : ''}; load average ${loadStart.map((x) => round(x, 2)).join(' ')} at the start, ${loadavg().map((x) => round(x, 2)).join(' ')} at the end; ${cpus().length} CPUs; bench/scale.ts running during a measurement: ${othersSeen ? `yes (${Object.entries(conditions).filter(([, c]) => c.otherBenchRunningDuring).map(([k]) => k).join('; ')})` : 'no'}`);
for (const n of notes) console.log(n);

const result = {
  benchmark: 'webhook',
  at: started.toISOString(),
  commit,
  serviceRoot: SERVICE_ROOT === ROOT ? '.' : SERVICE_ROOT,
  uncommittedChanges: dirty,
  command: 'bun bench/webhook.ts',
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: round(totalmem() / 2 ** 30),
    bun: Bun.version,
    loadAverageStart: loadStart.map((x) => round(x, 2)),
    loadAverageEnd: loadavg().map((x) => round(x, 2)),
    otherBenchmarkRunning: othersSeen,
  },
  wrk: WRK,
  method: {
    processes: 'service (startService as src/composition/main.ts, plus a control port), bare Bun.serve, emulator and wrk: one process each',
    workers: 'every pg-boss worker of the service paused during load runs (offWork); the webhook, its outbox drain and the jobs it enqueues run',
    hot: `${HOT_OWNERS} owners x ${HOT_PER_OWNER} calendars through the real path`,
    distinct: `${DISTINCT} calendar + channel rows inserted by SQL (token hash = sha256(GOOGLE_WEBHOOK_TOKEN))`,
  },
  aims: AIMS,
  rows,
  thisCommitOverPrevious: versus,
  syncAfterHot,
  conditions,
  notes,
};
mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
writeFileSync(join(import.meta.dir, 'results', 'webhook.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('written bench/results/webhook.json');
