// Onboarding at scale: `bun bench/scale.ts` (Postgres; env knobs below). Prints tables and writes
// bench/results/scale.json.
//
// Processes: the emulator in its own child process (this script with `__emulator`: Google's quotas
// enforced, BENCH_QUOTA per project and BENCH_USER_QUOTA per user per sliding 60 s window, plus a
// seeding port that drives the emulator's control API in-process), calwatch as real child processes
// (`bun src/composition/main.ts` through tests/support/process.ts: PUBLIC_URL is the process itself, so every
// selected calendar gets a channel), and a webhook load generator in a third child (`__load`). The
// service's RSS (/proc/<pid>/status) and CPU are its own. In one run:
//
//  A. onboarding on one process. BENCH_LOAD_OWNERS (50) owners are linked first (warm-up, not
//     timed); their channels then get valid push notifications from the load generator (open loop,
//     rising X-Goog-Message-Number per channel, the shared GOOGLE_WEBHOOK_TOKEN the service is
//     started with: per-channel tokens are random and only their hash is stored), latency per
//     request, plus GET /healthz at 10/s beside it (no database: the event loop's own delay).
//     A0, the probe: BENCH_PROBE_OWNERS (20) owners linked under BENCH_PROBE_RATE (200/s) for
//     BENCH_PROBE_S (60) s; then the load stops and the time until they converge is taken.
//     A1 and A2 under BENCH_LOAD_RATE (20/s): N/10 owners linked at once (tRPC links.event,
//     BENCH_LINK_CONCURRENCY 50 in flight), measured (RSS, database size), then the other 9N/10.
//     Each owner: a primary and a secondary calendar of BENCH_EVENTS (20) events; 1 %
//     (BENCH_BIG_SHARE) have BENCH_BIG_EVENTS (5,000) on the primary. calwatch selects the primary
//     by itself; the secondary is selected with calendars.setSelected as soon as it is listed in the
//     mirror (polled, as an app told by a calendar.added notification would). Done = every selected
//     calendar mirrored (last_full_sync_at) and watched (an active events channel).
//  R. restart of that process (SIGTERM, start): time until every selected calendar has had its
//     start-up catch-up sync (last_synced_at after the restart; SYNC_CATCHUP_PER_SECOND = 50). Then
//     every channel due at once: expires_at moved to now + 30 min and each channel's scheduled
//     renewal job (keyed by channel: the cron sweep's send would collapse into it) brought due, in
//     SQL: time until all are renewed. Then `calwatch channels renew --within 3600` once.
//  B. the same onboarding (BENCH_TWO_OWNERS, default N, no webhook load) with two calwatch
//     processes on one fresh database, links alternating between them.
//  U. baseline without pacing: GOOGLE_QUOTA_PER_MINUTE=10000000 against the same emulator quota,
//     BENCH_BASELINE_OWNERS (default N) owners.
//  T. a quota this machine can exceed, BENCH_TIGHT_QUOTA (1200/min), BENCH_TIGHT_OWNERS (300):
//     paced (the service told the quota), then unpaced; convergence awaited up to
//     BENCH_TIGHT_TIMEOUT_S (300), or until no onboarding work is left (stalled).
//
// Knobs: BENCH_OWNERS (1500), BENCH_QUOTA (30000), BENCH_USER_QUOTA (600), BENCH_LOAD_OWNERS,
// BENCH_LOAD_RATE, BENCH_PROBE_OWNERS, BENCH_PROBE_RATE, BENCH_PROBE_S, BENCH_EVENTS, BENCH_BIG_SHARE,
// BENCH_BIG_EVENTS, BENCH_LINK_CONCURRENCY, BENCH_TWO_OWNERS, BENCH_BASELINE_OWNERS, BENCH_TIGHT_QUOTA,
// BENCH_TIGHT_OWNERS, BENCH_TIGHT_TIMEOUT_S, BENCH_TIMEOUT_S (per wait, 1200), BENCH_BASELINE_TIMEOUT_S
// (600), BENCH_RENEW_CLI (1), BENCH_PHASES (comma list of onboard,restart,renew,two,baseline,tight;
// default all; restart and renew need onboard), BENCH_LOG_LEVEL (info), BENCH_SERVICE_BUN_OPTIONS
// (passed to the service processes as BUN_OPTIONS, e.g. "--cpu-prof --cpu-prof-md --cpu-prof-dir=/tmp/prof").
// SCALE_COMMIT names the commit when the script runs from an exported tree (git archive) of it.
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
const int = (name: string, dflt: number) => {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
};
// 5,000 owners take about an hour on the 2-core benchmark machine; 1,500 fit in the ~25 minutes
// a default run may take (BENCHMARKS.md has both).
const OWNERS = int('BENCH_OWNERS', 1500);
const QUOTA = int('BENCH_QUOTA', 30000);
const USER_QUOTA = int('BENCH_USER_QUOTA', 600);
const LOAD_OWNERS = int('BENCH_LOAD_OWNERS', 50);
const LOAD_RATE = int('BENCH_LOAD_RATE', 20);
const PROBE_RATE = int('BENCH_PROBE_RATE', 200);
const PROBE_OWNERS = int('BENCH_PROBE_OWNERS', 20);
const PROBE_S = int('BENCH_PROBE_S', 60);
const TIGHT_QUOTA = int('BENCH_TIGHT_QUOTA', 1200);
const TIGHT_OWNERS = int('BENCH_TIGHT_OWNERS', 300);
const TIGHT_TIMEOUT_S = int('BENCH_TIGHT_TIMEOUT_S', 300);
const RENEW_CLI = int('BENCH_RENEW_CLI', 1) > 0;
const EVENTS = int('BENCH_EVENTS', 20);
const BIG_SHARE = int('BENCH_BIG_SHARE', 0.01);
const BIG_EVENTS = int('BENCH_BIG_EVENTS', 5000);
const LINK_CONCURRENCY = int('BENCH_LINK_CONCURRENCY', 50);
const TWO_OWNERS = int('BENCH_TWO_OWNERS', OWNERS);
const BASELINE_OWNERS = int('BENCH_BASELINE_OWNERS', OWNERS);
const TIMEOUT_S = int('BENCH_TIMEOUT_S', 1200);
const BASELINE_TIMEOUT_S = int('BENCH_BASELINE_TIMEOUT_S', 600);
const PHASES = new Set((env.BENCH_PHASES ?? 'onboard,restart,renew,two,baseline,tight').split(',').map((s) => s.trim()).filter(Boolean));
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'info';
const UNPACED_QUOTA = 10_000_000;
const WEBHOOK_TOKEN = 'bench-scale-webhook-token-0123456789abcdef';
const CATCHUP_PER_SECOND = 50; // the service's default SYNC_CATCHUP_PER_SECOND (not overridden)

const email = (i: number | string) => `o${i}@scale.test`;
const secondaryId = (i: number | string) => `o${i}-team@group.calendar.google.com`;
/** Every 1/BIG_SHARE-th owner (the first included) has BIG_EVENTS on the primary. */
const bigEvery = BIG_SHARE > 0 ? Math.max(1, Math.round(1 / BIG_SHARE)) : 0;
const isBig = (i: number) => bigEvery > 0 && i % bigEvery === 0;

// ================================================================================================
// Child 1: the emulator, with a seeding port that drives its control API in-process.
// ================================================================================================

async function emulatorChild(): Promise<void> {
  const { startEmulator } = await import('../src/emulator/index.ts');
  const emu = await startEmulator({ port: Number(env.SCALE_EMU_PORT), quotaPerMinute: QUOTA || null, userQuotaPerMinute: USER_QUOTA || null });
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await emu.fetch(
      new Request(`${emu.url}_emulator/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const event = (calendarId: string, n: number, k: number) => {
    const day = new Date(Date.UTC(2031, 0, 1) + (k % 700) * 86_400_000).toISOString().slice(0, 10);
    const hour = String(8 + (k % 10)).padStart(2, '0');
    return control('PUT', `calendars/${encodeURIComponent(calendarId)}/events/ev${n.toString(32)}x${k.toString(32)}`, {
      summary: `event ${k}`,
      start: { dateTime: `${day}T${hour}:00:00Z` },
      end: { dateTime: `${day}T${hour}:30:00Z` },
    });
  };
  Bun.serve({
    port: Number(env.SCALE_SEED_PORT),
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(req) {
      // {owners: [{key, n, big}]}: a user, its secondary calendar, their events; answers the refresh tokens.
      const spec = (await req.json()) as { owners: Array<{ key: string; n: number; big: boolean }>; events: number; bigEvents: number };
      const tokens: string[] = [];
      for (const o of spec.owners) {
        const u = await control('POST', 'users', { email: email(o.key), timeZone: 'UTC' });
        await control('POST', 'calendars', { owner: email(o.key), id: secondaryId(o.key), summary: `team ${o.key}`, timeZone: 'UTC' });
        const primaryEvents = o.big ? spec.bigEvents : spec.events;
        for (let k = 0; k < primaryEvents; k++) await event(email(o.key), o.n, k);
        for (let k = 0; k < spec.events; k++) await event(secondaryId(o.key), o.n, k + 1_000_000);
        tokens.push(u.refreshToken);
      }
      return Response.json({ tokens });
    },
  });
  console.log('ready');
}

// ================================================================================================
// Child 2: the webhook load: valid notifications at a steady rate (open loop), latency per request.
// ================================================================================================

async function loadChild(): Promise<void> {
  const spec = JSON.parse(readFileSync(env.SCALE_LOAD_SPEC!, 'utf8')) as { url: string; rate: number; token: string; channels: Array<{ id: string; resourceId: string }>; out: string };
  const sentAt: number[] = [];
  const latency: number[] = [];
  const status: number[] = [];
  let stopping = false;
  let inFlight = 0;
  const counters = new Map<string, number>();
  const base = Date.now();
  const interval = 1000 / spec.rate;
  const start = performance.now();
  const send = (i: number) => {
    const ch = spec.channels[i % spec.channels.length]!;
    const k = (counters.get(ch.id) ?? 0) + 1;
    counters.set(ch.id, k);
    const t0 = performance.now();
    const at = Date.now();
    inFlight++;
    fetch(`${spec.url}/webhooks/google/calendar`, {
      method: 'POST',
      headers: {
        'X-Goog-Channel-ID': ch.id,
        'X-Goog-Channel-Token': spec.token,
        'X-Goog-Resource-ID': ch.resourceId,
        'X-Goog-Resource-State': 'exists',
        'X-Goog-Message-Number': String(base + k),
        'X-Goog-Channel-Expiration': 'Tue, 25 Jan 2039 19:22:58 GMT',
        'User-Agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
      },
      signal: AbortSignal.timeout(10_000),
    }).then(
      async (res) => {
        await res.arrayBuffer();
        sentAt.push(at);
        latency.push(performance.now() - t0);
        status.push(res.status);
      },
      () => {
        sentAt.push(at);
        latency.push(performance.now() - t0);
        status.push(0);
      },
    ).finally(() => inFlight--);
  };
  // Beside the webhook: GET /healthz (no database) at 10/s, to tell a blocked event loop from a
  // slow database.
  const hSentAt: number[] = [];
  const hLatency: number[] = [];
  const probeTimer = setInterval(() => {
    const t0 = performance.now();
    const at = Date.now();
    inFlight++;
    fetch(`${spec.url}/healthz`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined)
      .finally(() => {
        hSentAt.push(at);
        hLatency.push(performance.now() - t0);
        inFlight--;
      });
  }, 100);
  process.on('SIGTERM', async () => {
    stopping = true;
    clearInterval(probeTimer);
    const deadline = Date.now() + 5000;
    while (inFlight > 0 && Date.now() < deadline) await Bun.sleep(20);
    writeFileSync(spec.out, JSON.stringify({ sentAt, latency, status, healthz: { sentAt: hSentAt, latency: hLatency } }));
    process.exit(0);
  });
  console.log('ready');
  for (let i = 0; !stopping; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    if (stopping) break;
    send(i);
  }
}

// ================================================================================================
// The bench itself.
// ================================================================================================

type Sql = import('postgres').Sql;
type ServiceProcess = import('../tests/support/process.ts').ServiceProcess;

const round = (x: number, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN);
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

function ticksOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  if (!pid) return NaN;
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
/**
 * CPU ticks of the local Postgres server's processes that work for `database`: its backends and
 * the server's own (WAL writer, checkpointer...), not other databases' backends (other test runs).
 */
function postgresTicks(database: string | undefined): number {
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const backend = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(cmd);
      if (backend && database && !cmd.includes(` ${database} `)) continue;
      const f = stat.split(') ')[1]!.split(' ');
      sum += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return sum;
}
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return { busy: f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, total: f.reduce((a, b) => a + b, 0) };
}

/**
 * CPU cores used between the call and read(): the given processes, this database's share of
 * Postgres, this script, the machine, and `other` = the machine minus all of those (other work on
 * the machine; backends that ended meanwhile land there too).
 */
function cpuMeter(pids: () => Record<string, number | undefined>, database?: string) {
  const t0 = performance.now();
  const p0 = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, ticksOf(pid)]));
  const pg0 = postgresTicks(database);
  const lp = loadPid;
  const self0 = ticksOf(process.pid);
  const load0 = ticksOf(lp);
  const m0 = machineTicks();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const [k, pid] of Object.entries(pids())) {
      const t = (ticksOf(pid) - (p0[k] ?? 0)) / 100;
      ours += t;
      out[k] = round(t / wall, 2);
    }
    const pg = (postgresTicks(database) - pg0) / 100;
    // A load generator that exited meanwhile reads 0: its share is then left in `other`.
    const self = (ticksOf(process.pid) - self0 + Math.max(0, ticksOf(lp) - load0)) / 100;
    out.postgres = round(pg / wall, 2);
    out.benchAndLoad = round(self / wall, 2);
    const m1 = machineTicks();
    const machine = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * cpus().length;
    out.machine = round(machine, 2);
    out.other = round(Math.max(0, machine - (ours + pg + self) / wall), 2);
    return out;
  };
}
/** The load generator's pid while one runs (its CPU is counted with the bench's). */
let loadPid: number | undefined;

async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        await fn(items[i]!, i);
      }
    }),
  );
}

interface QuotaSnapshot {
  admitted: number;
  rejected: { rateLimitExceeded: number; userRateLimitExceeded: number; quotaExceeded: number };
  peakPerMinute: number;
  peakUserPerMinute: number;
  currentPerMinute: number;
  users: Record<string, { admitted: number; rejected: number; peakPerMinute: number }>;
  perMinute: Array<{ start: string; admitted: number; rejected: number }>;
}

async function main(): Promise<void> {
  const postgres = (await import('postgres')).default;
  const { createTestDatabase } = await import('../tests/support/db.ts');
  const { startServiceProcess } = await import('../tests/support/process.ts');
  const { callTrpc, freePort, waitFor, LOG_DIR } = await import('../tests/support/service.ts');

  const runStarted = performance.now();
  const loadAverageAtStart = loadavg().map((x) => round(x, 2));
  // SCALE_COMMIT: when run from an exported tree (git archive) of a commit, outside the repository.
  const commit = env.SCALE_COMMIT ?? (Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: join(import.meta.dir, '..') }).stdout.toString().trim() || 'unknown');
  const dirty = Bun.spawnSync(['git', 'status', '--porcelain', '--', 'src', 'schema', 'drizzle'], { cwd: join(import.meta.dir, '..') }).stdout.toString().trim() !== '';
  log(`calwatch ${commit}${dirty ? ' (+ uncommitted changes in src/schema/drizzle)' : ''}; owners ${OWNERS} (+${LOAD_OWNERS} load owners), quota ${QUOTA}/min, user quota ${USER_QUOTA}/min, phases ${[...PHASES].join(',')}`);

  // --- the emulator ------------------------------------------------------------------------------
  const emuPort = await freePort();
  const seedPort = await freePort();
  const emuProc = Bun.spawn(['bun', import.meta.path, '__emulator'], {
    env: { ...env, SCALE_EMU_PORT: String(emuPort), SCALE_SEED_PORT: String(seedPort) },
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const emuUrl = `http://127.0.0.1:${emuPort}/`;
  await waitFor(async () => (await fetch(`${emuUrl}_emulator/quota`)).ok, { what: 'emulator', timeoutMs: 30_000, intervalMs: 100 });
  const emu = async <T = any>(path: string, body?: unknown, method?: string): Promise<T> => {
    const res = await fetch(`${emuUrl}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  const resetQuota = (perMinute = QUOTA) => emu('quota', { projectPerMinute: perMinute || null, userPerMinute: USER_QUOTA || null, windowMs: 60_000, reset: true });
  const quota = () => emu<QuotaSnapshot>('quota');

  // --- seeding (not measured) --------------------------------------------------------------------
  const maxOwners = Math.max(PHASES.has('onboard') ? OWNERS + PROBE_OWNERS : 0, PHASES.has('tight') ? TIGHT_OWNERS : 0, PHASES.has('two') ? TWO_OWNERS : 0, PHASES.has('baseline') ? BASELINE_OWNERS : 0);
  const seedStart = performance.now();
  const tokens = new Map<string, string>();
  const seedKeys: Array<{ key: string; n: number; big: boolean }> = [];
  for (let i = 0; i < LOAD_OWNERS; i++) seedKeys.push({ key: `load${i}`, n: 1_000_000 + i, big: false });
  for (let i = 0; i < maxOwners; i++) seedKeys.push({ key: String(i), n: i, big: isBig(i) });
  for (let i = 0; i < seedKeys.length; i += 250) {
    const chunk = seedKeys.slice(i, i + 250);
    const res = await fetch(`http://127.0.0.1:${seedPort}/`, { method: 'POST', body: JSON.stringify({ owners: chunk, events: EVENTS, bigEvents: BIG_EVENTS }) });
    if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
    const { tokens: t } = (await res.json()) as { tokens: string[] };
    chunk.forEach((o, k) => tokens.set(o.key, t[k]!));
    if ((i / 250) % 4 === 3) log(`seeded ${i + chunk.length}/${seedKeys.length} owners`);
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const seededEvents = seedKeys.reduce((a, o) => a + (o.big ? BIG_EVENTS : EVENTS) + EVENTS, 0);
  log(`seeded ${seedKeys.length} Google users, ${seedKeys.length * 2} calendars, ${seededEvents} events in ${round(seedSeconds)} s`);

  // --- helpers over a service and its database -----------------------------------------------------
  const databases: Array<{ drop(): Promise<void> }> = [];
  const services: ServiceProcess[] = [];
  const sqls: Sql[] = [];

  async function newDatabase() {
    const db = await createTestDatabase();
    if (db.kind !== 'postgres') throw new Error('this benchmark needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432)');
    databases.push(db);
    log(`database ${db.url.split('/').pop()}`);
    const sql = postgres(db.url, { max: 4, onnotice: () => {} });
    sqls.push(sql);
    return { ...db, sql };
  }

  async function startService(name: string, databaseUrl: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    rmSync(join(LOG_DIR, `${name}.log`), { force: true });
    const s = await startServiceProcess({
      name,
      databaseUrl,
      googleUrl: emuUrl,
      readyTimeoutMs: 120_000,
      env: {
        GOOGLE_QUOTA_PER_MINUTE: String(QUOTA),
        GOOGLE_USER_QUOTA_PER_MINUTE: String(USER_QUOTA),
        GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        LOG_LEVEL,
        // The production default (the test harness uses 0.5).
        JOBS_POLL_SECONDS: '2',
        // e.g. "--cpu-prof --cpu-prof-md --cpu-prof-dir=/tmp/prof": profiles each service process.
        ...(env.BENCH_SERVICE_BUN_OPTIONS ? { BUN_OPTIONS: env.BENCH_SERVICE_BUN_OPTIONS } : {}),
        ...extra,
      },
    });
    services.push(s);
    return s;
  }

  /** Links owners at LINK_CONCURRENCY, each through one of `via` in turn. */
  async function linkOwners(via: ServiceProcess[], keys: string[], prefix: string) {
    const t0 = performance.now();
    const failures: string[] = [];
    await pool(keys, LINK_CONCURRENCY, async (key, i) => {
      for (let attempt = 0; ; attempt++) {
        const r = await callTrpc(via[i % via.length]!.url, 'links.event', { type: 'LINKED', externalOwnerId: `${prefix}${key}`, refreshToken: tokens.get(key) }).catch((err) => ({ status: 0, body: String(err) }));
        if (r.status === 200) return;
        if (attempt >= 2) {
          failures.push(`${key}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          return;
        }
        await Bun.sleep(200);
      }
    });
    return { seconds: (performance.now() - t0) / 1000, failures };
  }

  /**
   * The app's side of selection: as each owner's secondary calendar appears in the mirror, it is
   * selected through calendars.setSelected. Runs until stop() resolves it or all are selected.
   */
  function selectSecondaries(via: ServiceProcess[], sql: Sql, prefix: string, count: number) {
    let stopped = false;
    let requests = 0;
    let failed = 0;
    let lastAnsweredAt = 0;
    const selected = new Set<string>();
    const done = (async () => {
      while (!stopped && selected.size < count) {
        const rows = await sql<Array<{ external_owner_id: string; google_calendar_id: string }>>`
          select external_owner_id, google_calendar_id from calendars
          where external_owner_id like ${`${prefix}%`} and not "primary" and not selected and not deleted`;
        const todo = rows.filter((r) => !selected.has(r.external_owner_id));
        await pool(todo, LINK_CONCURRENCY, async (r, i) => {
          requests++;
          const res = await callTrpc(via[i % via.length]!.url, 'calendars.setSelected', { externalOwnerId: r.external_owner_id, calendarId: r.google_calendar_id, selected: true }).catch(() => ({ status: 0 }));
          lastAnsweredAt = performance.now();
          if (res.status === 200) selected.add(r.external_owner_id);
          else failed++;
        });
        if (todo.length === 0) await Bun.sleep(250);
      }
    })();
    return {
      stats: () => ({ requests, failed, selected: selected.size, lastAnsweredAt }),
      stop: async () => {
        stopped = true;
        await done;
      },
      done,
    };
  }

  /**
   * Samples pg_stat_activity of the database every 250 ms: what its busy backends are doing and
   * waiting on (the service's client side included: ClientRead = the backend waits for the service).
   */
  function activitySampler(sql: Sql) {
    const counts = new Map<string, number>();
    let samples = 0;
    let stopped = false;
    const done = (async () => {
      while (!stopped) {
        try {
          const rows = await sql<Array<{ k: string }>>`
            select state || ' | ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') || ' | ' || left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 60) as k
            from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`;
          samples++;
          for (const r of rows) counts.set(r.k, (counts.get(r.k) ?? 0) + 1);
        } catch {
          // the sampler is best effort
        }
        await Bun.sleep(250);
      }
    })();
    return async () => {
      stopped = true;
      await done;
      const byWait = new Map<string, number>();
      for (const [k, n] of counts) {
        const w = k.split(' | ').slice(0, 2).join(' | ');
        byWait.set(w, (byWait.get(w) ?? 0) + n);
      }
      const top = (m: Map<string, number>, n: number) =>
        [...m].sort((x, y) => y[1] - x[1]).slice(0, n).map(([what, c]) => ({ what, backendsOnAverage: round(c / Math.max(1, samples), 2) }));
      return { samples, byWait: top(byWait, 8), byStatement: top(counts, 12), lockWaits: top(new Map([...counts].filter(([k]) => k.includes('| Lock:'))), 6) };
    };
  }

  async function convergence(sql: Sql, prefix: string) {
    const [r] = await sql<Array<{ calendars: number; selected: number; mirrored: number; watched: number; lists: number }>>`
      select count(*)::int as calendars,
             count(*) filter (where c.selected)::int as selected,
             count(*) filter (where c.selected and c.last_full_sync_at is not null)::int as mirrored,
             count(*) filter (where c.selected and c.last_full_sync_at is not null and exists (
               select 1 from channels ch where ch.calendar_id = c.id and ch.kind = 'events' and ch.status = 'active'))::int as watched,
             (select count(distinct ch.owner_id)::int from channels ch join owners o on o.id = ch.owner_id
               where ch.kind = 'calendarList' and ch.status = 'active' and o.external_owner_id like ${`${prefix}%`}) as lists
      from calendars c where c.external_owner_id like ${`${prefix}%`} and not c.deleted`;
    return r!;
  }

  async function queueState(sql: Sql) {
    return sql<Array<{ name: string; state: string; n: number }>>`
      select name, state, count(*)::int as n from pgboss.job
      where state in ('created', 'active', 'retry', 'failed') and start_after <= now()
      group by name, state order by name, state`;
  }

  /**
   * Links `keys` (externalOwnerId prefix+key) through `via`, selects their secondaries, and waits
   * until every selected calendar is mirrored and watched; samples RSS meanwhile.
   */
  async function onboard(opts: { label: string; via: ServiceProcess[]; sql: Sql; keys: string[]; prefix: string; timeoutS: number; quotaPerMinute?: number }) {
    const { via, sql, keys, prefix } = opts;
    const limit = opts.quotaPerMinute ?? QUOTA;
    await resetQuota(limit);
    const q0 = await quota();
    const [{ db: dbName }] = (await sql<Array<{ db: string }>>`select current_database() as db`) as unknown as [{ db: string }];
    const cpu = cpuMeter(() => Object.fromEntries([...via.map((s, i) => [`service${via.length > 1 ? i + 1 : ''}`, s.pid]), ['emulator', emuProc.pid]]), dbName);
    const peakRss = via.map(() => 0);
    const sampler = setInterval(() => via.forEach((s, i) => (peakRss[i] = Math.max(peakRss[i]!, rssMb(s.pid)))), 500);
    const activity = activitySampler(sql);
    const dbStats = () => sql<Array<{ xact: number; ins: number; upd: number; del: number }>>`
      select (xact_commit + xact_rollback)::float8 as xact, tup_inserted::float8 as ins, tup_updated::float8 as upd, tup_deleted::float8 as del
      from pg_stat_database where datname = current_database()`;
    const [s0] = await dbStats();
    const startedAt = Date.now();
    const t0 = performance.now();
    const selector = selectSecondaries(via, sql, prefix, keys.length);
    const link = await linkOwners(via, keys, prefix);
    log(`${opts.label}: ${keys.length} owners linked in ${round(link.seconds, 2)} s${link.failures.length ? ` (${link.failures.length} failed: ${link.failures[0]})` : ''}`);
    const expected = keys.length * 2;
    let mirroredAt: number | undefined;
    let watchedAt: number | undefined;
    let listsAt: number | undefined;
    let last = { calendars: 0, selected: 0, mirrored: 0, watched: 0, lists: 0 };
    let lastLog = 0;
    let lastStallCheck = 0;
    let idleSince: number | undefined;
    let stalled = false;
    let q1: QuotaSnapshot | undefined;
    const deadline = performance.now() + opts.timeoutS * 1000;
    while (performance.now() < deadline) {
      const dead = via.find((s) => !s.running);
      if (dead) throw new Error(`${opts.label}: the service process ${dead.name} is gone (see ${dead.logFile})`);
      last = await convergence(sql, prefix);
      const now = performance.now();
      if (mirroredAt === undefined && last.mirrored >= expected) mirroredAt = now;
      if (watchedAt === undefined && last.watched >= expected) {
        watchedAt = now;
        q1 = await quota();
      }
      if (listsAt === undefined && last.lists >= keys.length) listsAt = now;
      if (watchedAt !== undefined && listsAt !== undefined) break;
      if (watchedAt === undefined && now - t0 > 20_000 && now - lastStallCheck > 2_000) {
        lastStallCheck = now;
        const [p] = await sql<Array<{ n: number }>>`
          select count(*)::int as n from pgboss.job
          where name in ('sync.events', 'sync.calendarList', 'channels.create', 'channels.ensureOwner') and state in ('created', 'active', 'retry')`;
        if (p!.n === 0) idleSince ??= now;
        else idleSince = undefined;
        if (idleSince !== undefined && now - idleSince > 15_000) {
          stalled = true;
          log(`${opts.label}: stalled (no onboarding work queued, retrying or running for 15 s)`);
          break;
        }
      }
      if (now - lastLog > 10_000) {
        lastLog = now;
        const q = await quota();
        log(`${opts.label}: ${round((now - t0) / 1000)} s: ${JSON.stringify(last)}; admitted ${q.admitted - q0.admitted}, rejected ${JSON.stringify(q.rejected)}, ${q.currentPerMinute}/min now`);
      }
      await Bun.sleep(250);
    }
    clearInterval(sampler);
    await selector.stop();
    const databaseActivity = await activity();
    const [s1] = await dbStats();
    const perOwner = (k: 'xact' | 'ins' | 'upd' | 'del') => round((s1![k] - s0![k]) / keys.length);
    // pg_stat_database counts every session of the database (the bench's own polling included, a few per second).
    const databaseWorkPerOwner = { transactions: perOwner('xact'), rowsInserted: perOwner('ins'), rowsUpdated: perOwner('upd'), rowsDeleted: perOwner('del') };
    const cpuUse = cpu();
    q1 ??= await quota();
    const end = watchedAt ?? performance.now();
    const seconds = (end - t0) / 1000;
    const admitted = q1.admitted - q0.admitted;
    const rejected = q1.rejected.rateLimitExceeded + q1.rejected.userRateLimitExceeded + q1.rejected.quotaExceeded;
    const boundSeconds = (admitted / limit) * 60;
    const sel = selector.stats();
    const failedJobs = await sql<Array<{ name: string; n: number }>>`select name, count(*)::int as n from pgboss.job where state = 'failed' group by name`;
    const retried = await sql<Array<{ name: string; n: number }>>`select name, count(*)::int as n from pgboss.job where retry_count > 0 and created_on >= ${new Date(startedAt)} group by name`;
    const pendingJobs = await sql<Array<{ name: string; state: string; n: number }>>`
      select name, state, count(*)::int as n from pgboss.job
      where name in ('sync.events', 'sync.calendarList', 'channels.create', 'channels.ensureOwner') and state in ('created', 'active', 'retry', 'failed')
      group by 1, 2 order by 1, 2`;
    const result = {
      owners: keys.length,
      processes: via.length,
      converged: watchedAt !== undefined,
      stalled,
      quotaPerMinute: limit,
      state: last,
      linkSeconds: round(link.seconds, 2),
      linkFailures: link.failures.length,
      setSelected: { requests: sel.requests, failed: sel.failed, lastAnsweredAfterSeconds: sel.lastAnsweredAt ? round((sel.lastAnsweredAt - t0) / 1000) : null },
      mirroredSeconds: mirroredAt !== undefined ? round((mirroredAt - t0) / 1000) : null,
      seconds: round(seconds),
      calendarListChannelsSeconds: listsAt !== undefined ? round((listsAt - t0) / 1000) : null,
      calendarRequests: admitted,
      quotaBoundSeconds: round(boundSeconds),
      ratio: round(seconds / Math.max(boundSeconds, 0.001), 2),
      peakPerMinute: q1.peakPerMinute,
      peakUserPerMinute: q1.peakUserPerMinute,
      rejected: q1.rejected,
      rejectedTotal: rejected,
      requestsPerSecond: round(admitted / seconds),
      perMinute: q1.perMinute,
      cpuCores: cpuUse,
      peakRssMb: peakRss.map((x) => round(x)),
      failedJobs,
      retriedJobs: retried,
      onboardingJobsAtEnd: pendingJobs,
      databaseActivity,
      databaseWorkPerOwner,
      startedAt,
      endedAt: startedAt + Math.round(end - t0),
      quotaSnapshot: q1,
    };
    log(
      `${opts.label}: ${result.converged ? 'converged' : 'NOT converged'} in ${result.seconds} s (mirrored ${result.mirroredSeconds} s); ` +
        `${admitted} Calendar requests, bound ${result.quotaBoundSeconds} s, ratio ${result.ratio}; peak ${q1.peakPerMinute}/min; rejected ${rejected}; cpu ${JSON.stringify(cpuUse)}`,
    );
    return result;
  }

  async function footprint(s: ServiceProcess[], sql: Sql, owners: number) {
    const [db] = await sql<Array<{ bytes: number }>>`select pg_database_size(current_database())::float8 as bytes`;
    const tables = await sql<Array<{ name: string; bytes: number }>>`
      select n.nspname || '.' || c.relname as name, pg_total_relation_size(c.oid)::float8 as bytes
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
      order by 2 desc limit 8`;
    const [events] = await sql<Array<{ n: number }>>`select count(*)::int as n from calendar_events`;
    const [jobs] = await sql<Array<{ n: number }>>`select count(*)::int as n from pgboss.job`;
    const [pub] = await sql<Array<{ bytes: number }>>`
      select coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname = 'public'`;
    return {
      owners,
      rssMb: s.map((p) => round(rssMb(p.pid))),
      hwmMb: s.map((p) => round(rssMb(p.pid, 'VmHWM'))),
      databaseMb: round(db!.bytes / 2 ** 20),
      databaseKbPerOwner: round(db!.bytes / 1024 / owners),
      /** calwatch's own tables (the mirror, channels, owners...), pg-boss's job tables excluded. */
      publicTablesKbPerOwner: round(pub!.bytes / 1024 / owners),
      mirroredEvents: events!.n,
      pgbossJobs: jobs!.n,
      largestTables: tables.map((t) => ({ name: t.name, mb: round(t.bytes / 2 ** 20) })),
    };
  }

  async function waitQueuesIdle(sql: Sql, what: string, timeoutS: number, ignore: (row: { name: string }) => boolean = () => false) {
    const t0 = performance.now();
    try {
      await waitFor(async () => (await queueState(sql)).filter((r) => r.state !== 'failed' && !ignore(r)).length === 0, { what, timeoutMs: timeoutS * 1000, intervalMs: 500 });
      return round((performance.now() - t0) / 1000);
    } catch {
      log(`${what}: still busy after ${timeoutS} s: ${JSON.stringify(await queueState(sql))}`);
      return null;
    }
  }

  const results: Record<string, unknown> = {};
  const loadOut = join(tmpdir(), `scale-load-${process.pid}.json`);
  const loadSpecFile = join(tmpdir(), `scale-load-spec-${process.pid}.json`);
  let loadProc: ReturnType<typeof Bun.spawn> | undefined;

  try {
    // ============================ A. onboarding, one process ============================
    if (PHASES.has('onboard')) {
      const dbA = await newDatabase();
      const a = await startService('bench-scale-a', dbA.url);
      log(`service A pid ${a.pid} on ${a.url}`);
      const baseRss = rssMb(a.pid);

      // Warm-up: the load owners, linked and converged before anything is measured.
      const loadKeys = Array.from({ length: LOAD_OWNERS }, (_, i) => `load${i}`);
      let warm: Awaited<ReturnType<typeof onboard>> | undefined;
      if (LOAD_OWNERS > 0) {
        warm = await onboard({ label: 'warm-up (load owners)', via: [a], sql: dbA.sql, keys: loadKeys, prefix: 'scale-load-', timeoutS: 300 });
        await waitQueuesIdle(dbA.sql, 'warm-up queues idle', 120);
      }

      // The webhook load over the load owners' channels, in its own process.
      const loadRows = await dbA.sql<Array<{ id: string; resource_id: string }>>`
        select ch.id, ch.resource_id from channels ch join owners o on o.id = ch.owner_id
        where ch.status = 'active' and ch.resource_id is not null and o.external_owner_id like 'scale-load-%' order by ch.id`;
      const loadChannels = loadRows.map((r) => ({ id: r.id, resourceId: r.resource_id }));
      const startLoad = async (rate: number) => {
        rmSync(loadOut, { force: true });
        writeFileSync(loadSpecFile, JSON.stringify({ url: a.url, rate, token: WEBHOOK_TOKEN, channels: loadChannels, out: loadOut }));
        const proc = Bun.spawn(['bun', import.meta.path, '__load'], { env: { ...env, SCALE_LOAD_SPEC: loadSpecFile }, stdout: 'pipe', stderr: 'inherit' });
        loadProc = proc;
        loadPid = proc.pid;
        const reader = proc.stdout.getReader();
        await reader.read();
        reader.releaseLock();
        log(`webhook load: ${rate}/s over ${loadChannels.length} channels`);
        const startedAt = Date.now();
        return {
          startedAt,
          /** Stops the load; latency statistics per window of send times. */
          async stop() {
            proc.kill('SIGTERM');
            await proc.exited;
            loadProc = undefined;
            loadPid = undefined;
            const raw = JSON.parse(readFileSync(loadOut, 'utf8')) as { sentAt: number[]; latency: number[]; status: number[]; healthz: { sentAt: number[]; latency: number[] } };
            const healthz = (from: number, to: number) => {
              const lat = raw.healthz.latency.filter((_, i) => raw.healthz.sentAt[i]! >= from && raw.healthz.sentAt[i]! < to).sort((x, y) => x - y);
              return { requests: lat.length, p50Ms: round(pct(lat, 50), 2), p99Ms: round(pct(lat, 99), 2), maxMs: round(lat.at(-1) ?? NaN, 1) };
            };
            /** Webhook requests slower than 100 ms: when they were sent, and how long they took. */
            const slow = (from: number, to: number) =>
              raw.sentAt.flatMap((at, i) => (at >= from && at < to && raw.latency[i]! > 100 ? [{ at, ms: round(raw.latency[i]!) }] : []));
            return (from: number, to: number) => ({ ...webhookStats(from, to), healthz: healthz(from, to), slowRequests: slow(from, to) });
            function webhookStats(from: number, to: number) {
              const lat: number[] = [];
              const statuses: Record<string, number> = {};
              for (let i = 0; i < raw.sentAt.length; i++) {
                if (raw.sentAt[i]! < from || raw.sentAt[i]! >= to) continue;
                lat.push(raw.latency[i]!);
                statuses[raw.status[i]!] = (statuses[raw.status[i]!] ?? 0) + 1;
              }
              lat.sort((x, y) => x - y);
              return {
                requests: lat.length,
                perSecond: round(lat.length / ((to - from) / 1000)),
                p50Ms: round(pct(lat, 50), 2),
                p90Ms: round(pct(lat, 90), 2),
                p99Ms: round(pct(lat, 99), 2),
                maxMs: round(lat.at(-1) ?? NaN, 1),
                statuses,
              };
            }
          },
        };
      };
      const loadUsers = (s: QuotaSnapshot | undefined) =>
        s ? Object.entries(s.users).filter(([u]) => u.startsWith('oload')).reduce((sum, [, v]) => sum + v.admitted, 0) : 0;
      const strip = (r: Awaited<ReturnType<typeof onboard>> | undefined) => {
        if (!r) return r;
        const { quotaSnapshot, ...rest } = r;
        return { ...rest, requestsByLoadOwners: loadUsers(quotaSnapshot) };
      };

      // A0. The probe: a small burst of links under the heavy webhook load (PROBE_RATE), for
      // PROBE_S seconds; then the load stops and the probe's owners are awaited.
      let probe: Record<string, unknown> | undefined;
      if (PROBE_OWNERS > 0 && PROBE_RATE > 0 && loadChannels.length > 0) {
        const load = await startLoad(PROBE_RATE);
        await Bun.sleep(5000);
        const keys = Array.from({ length: PROBE_OWNERS }, (_, i) => String(OWNERS + i));
        const r = await onboard({ label: `A0 probe (${PROBE_OWNERS} owners under ${PROBE_RATE}/s)`, via: [a], sql: dbA.sql, keys, prefix: 'scale-p-', timeoutS: PROBE_S });
        const queues = await dbA.sql<Array<{ name: string; state: string; priority: number; reason: string | null; n: number; oldest_s: number }>>`
          select name, state, priority, data->>'reason' as reason, count(*)::int as n,
                 round(extract(epoch from now() - min(created_on)))::int as oldest_s
          from pgboss.job where name like 'sync.%' and state in ('created', 'active', 'retry') and start_after <= now()
          group by 1, 2, 3, 4 order by 1, 2, 3 desc`;
        const byKind = await dbA.sql<Array<{ primary: boolean; mirrored: number; n: number }>>`
          select "primary", count(*) filter (where last_full_sync_at is not null)::int as mirrored, count(*)::int as n
          from calendars where external_owner_id like 'scale-p-%' and selected group by 1 order by 1`;
        const stats = await load.stop();
        const stoppedAt = performance.now();
        log(`probe: load stopped; queues were ${JSON.stringify(queues)}; calendars ${JSON.stringify(byKind)}`);
        let after: number | null = null;
        const selector = selectSecondaries([a], dbA.sql, 'scale-p-', PROBE_OWNERS);
        try {
          await waitFor(async () => (await convergence(dbA.sql, 'scale-p-')).watched >= PROBE_OWNERS * 2, { what: 'probe owners after the load', timeoutMs: 300_000, intervalMs: 250 });
          after = round((performance.now() - stoppedAt) / 1000);
        } catch {
          // reported as null
        }
        await selector.stop();
        probe = {
          ...strip(r),
          loadPerSecond: PROBE_RATE,
          calendarsAtEnd: byKind,
          syncQueuesAtEnd: queues,
          convergedSecondsAfterLoadStopped: after,
          webhook: { beforeBurst: stats(load.startedAt, r.startedAt), duringProbe: stats(r.startedAt, r.endedAt) },
        };
        log(`probe: ${JSON.stringify({ converged: r.converged, state: r.state, after, webhook: probe.webhook })}`);
        await waitQueuesIdle(dbA.sql, 'probe queues idle', 120);
        writePartial({ ...results, probe });
      }

      // A1 and A2 under the steady load (LOAD_RATE).
      const load = LOAD_RATE > 0 && loadChannels.length > 0 ? await startLoad(LOAD_RATE) : undefined;
      if (load) await Bun.sleep(5000); // steady state before the burst

      const tenth = Math.max(1, Math.round(OWNERS / 10));
      const keys1 = Array.from({ length: tenth }, (_, i) => String(i));
      const keys2 = Array.from({ length: OWNERS - tenth }, (_, i) => String(tenth + i));
      const first = await onboard({ label: `A1 (${keys1.length} owners)`, via: [a], sql: dbA.sql, keys: keys1, prefix: 'scale-a1-', timeoutS: TIMEOUT_S });
      // The last owners' calendar-list channels and the tail of the queues, then the footprint.
      await waitQueuesIdle(dbA.sql, 'A1 queues idle', 120, (r) => r.name === 'sync.events' || r.name === 'sync.calendarList');
      const atTenth = await footprint([a], dbA.sql, LOAD_OWNERS + PROBE_OWNERS + keys1.length);
      log(`footprint at N/10: ${JSON.stringify(atTenth)}`);
      const second = keys2.length > 0 ? await onboard({ label: `A2 (${keys2.length} owners)`, via: [a], sql: dbA.sql, keys: keys2, prefix: 'scale-a2-', timeoutS: TIMEOUT_S }) : undefined;
      await waitQueuesIdle(dbA.sql, 'A2 queues idle', 120, (r) => r.name === 'sync.events' || r.name === 'sync.calendarList');
      const atN = await footprint([a], dbA.sql, LOAD_OWNERS + PROBE_OWNERS + OWNERS);
      log(`footprint at N: ${JSON.stringify(atN)}`);

      // The webhook's latencies during each batch, and without a burst (the steady 5 s before).
      let webhook: Record<string, unknown> | undefined;
      if (load) {
        const stats = await load.stop();
        webhook = {
          rate: LOAD_RATE,
          channels: loadChannels.length,
          beforeBurst: stats(load.startedAt, first.startedAt),
          duringA1: stats(first.startedAt, first.endedAt),
          duringA2: second ? stats(second.startedAt, second.endedAt) : undefined,
          wholeOnboarding: stats(first.startedAt, (second ?? first).endedAt),
        };
        // Where the slow answers fall: inside the full syncs of the big calendars (many pages), or not.
        const big = await dbA.sql<Array<{ started: Date; completed: Date; pages: number }>>`
          select started_on as started, completed_on as completed, (output->>'pages')::int as pages from pgboss.job
          where name = 'sync.events' and state = 'completed' and (output->>'pages')::int > 1
            and started_on >= ${new Date(first.startedAt)} order by started_on`;
        const windows = big.map((b) => [new Date(b.started).getTime(), new Date(b.completed).getTime()] as const);
        const slowAll = [...((webhook.duringA1 as any)?.slowRequests ?? []), ...((webhook.duringA2 as any)?.slowRequests ?? [])] as Array<{ at: number; ms: number }>;
        const inside = slowAll.filter((x) => windows.some(([s0, s1]) => x.at + x.ms >= s0 && x.at <= s1)).length;
        const bigMs = windows.reduce((sum, [s0, s1]) => sum + (s1 - s0), 0);
        const span = (second ?? first).endedAt - first.startedAt;
        webhook.slowVersusBigFullSyncs = {
          bigFullSyncs: windows.length,
          shareOfOnboardingTime: round(bigMs / span, 3),
          slowRequests: slowAll.length,
          slowDuringABigFullSync: inside,
          bigFullSyncSeconds: windows.map(([s0, s1]) => round((s1 - s0) / 1000, 2)),
        };
        log(`webhook latency: ${JSON.stringify(webhook, (k, v) => (k === 'slowRequests' && Array.isArray(v) ? v.length : v))}`);
      }
      results.onboarding = {
        baseRssMb: round(baseRss),
        warmUp: strip(warm),
        probe,
        tenth: strip(first),
        rest: strip(second),
        footprintAtTenth: atTenth,
        footprintAtN: atN,
        rssRatio: round(atN.rssMb[0]! / atTenth.rssMb[0]!, 2),
        webhook,
      };
      writePartial(results);

      // ============================ R. restart and renewal ============================
      if (PHASES.has('restart')) {
        const [{ n: selectedCalendars }] = (await dbA.sql<Array<{ n: number }>>`select count(*)::int as n from calendars where selected and not deleted`) as unknown as [{ n: number }];
        const stop0 = performance.now();
        await a.stop(30_000);
        const stopSeconds = (performance.now() - stop0) / 1000;
        await resetQuota();
        const [{ at: restartAt }] = (await dbA.sql<Array<{ at: Date }>>`select clock_timestamp() as at`) as unknown as [{ at: Date }];
        const cpu = cpuMeter(() => ({ service: a.pid, emulator: emuProc.pid }), dbA.url.split('/').pop());
        const t0 = performance.now();
        await a.start();
        const readySeconds = (performance.now() - t0) / 1000;
        log(`restart: stopped in ${round(stopSeconds, 2)} s, ready again in ${round(readySeconds, 2)} s; ${selectedCalendars} selected calendars to catch up`);
        let caughtUp: number | undefined;
        let lastLog = 0;
        const deadline = performance.now() + TIMEOUT_S * 1000;
        let pending = selectedCalendars;
        while (performance.now() < deadline) {
          if (!a.running) throw new Error(`restart: the service process is gone (see ${a.logFile})`);
          const [r] = await dbA.sql<Array<{ n: number }>>`select count(*)::int as n from calendars where selected and not deleted and (last_synced_at is null or last_synced_at < ${restartAt})`;
          pending = r!.n;
          if (pending === 0) {
            caughtUp = performance.now();
            break;
          }
          if (performance.now() - lastLog > 15_000) {
            lastLog = performance.now();
            log(`restart: ${pending} calendars not yet caught up after ${round((performance.now() - t0) / 1000)} s`);
          }
          await Bun.sleep(500);
        }
        const q = await quota();
        const seconds = ((caughtUp ?? performance.now()) - t0) / 1000;
        results.restart = {
          selectedCalendars,
          stopSeconds: round(stopSeconds, 2),
          readySeconds: round(readySeconds, 2),
          caughtUp: caughtUp !== undefined,
          notCaughtUp: pending,
          seconds: round(seconds),
          catchupBoundSeconds: round(selectedCalendars / CATCHUP_PER_SECOND),
          ratio: round(seconds / (selectedCalendars / CATCHUP_PER_SECOND), 2),
          calendarRequests: q.admitted,
          peakPerMinute: q.peakPerMinute,
          rejected: q.rejected,
          cpuCores: cpu(),
          rssMb: round(rssMb(a.pid)),
        };
        log(`restart: ${JSON.stringify(results.restart)}`);
        await waitQueuesIdle(dbA.sql, 'restart queues idle', 120);
        writePartial(results);
      }

      if (PHASES.has('renew')) {
        // Every active channel due at once: its expiry moved to now + 30 min (inside the renewal
        // margin) and its scheduled renewal job (keyed by channel; the cron sweep's own send would
        // collapse into it) brought due. Then the service renews them through its queue.
        await resetQuota();
        const due = await dbA.sql<Array<{ id: string }>>`
          update channels set expires_at = clock_timestamp() + interval '30 minutes' where status = 'active' returning id`;
        const [{ at: dueAt }] = (await dbA.sql<Array<{ at: Date }>>`select clock_timestamp() as at`) as unknown as [{ at: Date }];
        const moved = await dbA.sql`
          update pgboss.job set start_after = clock_timestamp() where name = 'channels.renew' and state = 'created' and start_after > clock_timestamp()
          and singleton_key in (select id::text from channels where status = 'active' and expires_at < ${new Date(dueAt.getTime() + 3600_000)}) returning id`;
        log(`renewal: ${due.length} active channels now expire in 30 min; ${moved.length} scheduled renewal jobs brought due`);
        const cpu = cpuMeter(() => ({ service: a.pid, emulator: emuProc.pid }), dbA.url.split('/').pop());
        const t0 = performance.now();
        let renewedAt: number | undefined;
        let lastLog = 0;
        let left = due.length;
        const deadline = performance.now() + TIMEOUT_S * 1000;
        while (performance.now() < deadline) {
          if (!a.running) throw new Error(`renewal: the service process is gone (see ${a.logFile})`);
          const [r] = await dbA.sql<Array<{ left: number; fresh: number }>>`
            select count(*) filter (where status = 'active' and expires_at < ${new Date(dueAt.getTime() + 3600_000)})::int as left,
                   count(*) filter (where status = 'active' and created_at >= ${dueAt})::int as fresh
            from channels`;
          left = r!.left;
          if (left === 0) {
            renewedAt = performance.now();
            break;
          }
          if (performance.now() - lastLog > 15_000) {
            lastLog = performance.now();
            const q = await quota();
            log(`renewal: ${left} left, ${r!.fresh} new after ${round((performance.now() - t0) / 1000)} s; ${q.currentPerMinute}/min, rejected ${JSON.stringify(q.rejected)}`);
          }
          await Bun.sleep(500);
        }
        const q1 = await quota();
        const seconds = ((renewedAt ?? performance.now()) - t0) / 1000;
        const idle = await waitQueuesIdle(dbA.sql, 'renewal follow-ups (stops, syncs) done', 300);
        const q2 = await quota();
        const cpuUse = cpu();
        const [{ n: renewed }] = (await dbA.sql<Array<{ n: number }>>`select count(*)::int as n from channels where status = 'superseded' and id = any(${due.map((r) => r.id)}::uuid[])`) as unknown as [{ n: number }];

        // The operator's command on the same situation, once: `calwatch channels renew --within 3600`.
        let cli: Record<string, unknown> | undefined;
        if (RENEW_CLI) {
          const again = await dbA.sql<Array<{ id: string }>>`
            update channels set expires_at = clock_timestamp() + interval '30 minutes' where status = 'active' returning id`;
          const { TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY, TEST_SERVICE_TOKEN } = await import('../tests/support/service.ts');
          const c0 = performance.now();
          const proc = Bun.spawn(['bun', 'src/cli/index.ts', 'channels', 'renew', '--within', '3600'], {
            cwd: join(import.meta.dir, '..'),
            env: {
              PATH: env.PATH ?? '/usr/bin:/bin',
              HOME: env.HOME ?? tmpdir(),
              NODE_ENV: 'test',
              DATA_DIR: tmpdir(),
              DATABASE_URL: dbA.url,
              PUBLIC_URL: a.url,
              SERVICE_TOKEN: TEST_SERVICE_TOKEN,
              ADMIN_TOKEN: TEST_ADMIN_TOKEN,
              ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
              GOOGLE_CLIENT_ID: 'calwatch-dev',
              GOOGLE_CLIENT_SECRET: 'calwatch-dev-secret',
              GOOGLE_REDIRECT_URI: `${a.url}/oauth/google/callback`,
              GOOGLE_API_URL: emuUrl,
              GOOGLE_AUTH_URL: `${emuUrl}o/oauth2/v2/auth`,
              GOOGLE_TOKEN_URL: `${emuUrl}token`,
              GOOGLE_REVOKE_URL: `${emuUrl}revoke`,
              GOOGLE_QUOTA_PER_MINUTE: String(QUOTA),
              GOOGLE_USER_QUOTA_PER_MINUTE: String(USER_QUOTA),
              GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
              LOG_LEVEL: 'warn',
            },
            stdout: 'pipe',
            stderr: 'pipe',
          });
          const text = (await new Response(proc.stdout).text()).replace(/\r/g, '\n');
          const errText = await new Response(proc.stderr).text();
          await proc.exited;
          const cliSeconds = (performance.now() - c0) / 1000;
          const [r] = await dbA.sql<Array<{ n: number }>>`select count(*)::int as n from channels where status = 'superseded' and id = any(${again.map((d) => d.id)}::uuid[])`;
          cli = {
            command: 'calwatch channels renew --within 3600',
            channelsDue: again.length,
            exitCode: proc.exitCode,
            seconds: round(cliSeconds),
            renewed: r!.n,
            notRenewed: again.length - r!.n,
            perSecond: round(r!.n / cliSeconds),
            summary: text.trim().split('\n').filter(Boolean).at(-1) ?? errText.trim().split('\n').at(-1),
          };
          log(`renewal: the CLI: ${JSON.stringify(cli)}`);
          await waitQueuesIdle(dbA.sql, 'CLI renewal follow-ups done', 120);
        }
        results.renewal = {
          channels: due.length,
          renewalJobsBroughtDue: moved.length,
          renewed,
          allRenewed: renewedAt !== undefined,
          left,
          seconds: round(seconds),
          channelsPerSecond: round(renewed / seconds),
          calendarRequests: q1.admitted,
          quotaBoundSeconds: round((q1.admitted / QUOTA) * 60),
          ratio: round(seconds / Math.max((q1.admitted / QUOTA) * 60, 0.001), 2),
          followUpsDoneAfterSeconds: idle === null ? null : round(seconds + idle),
          calendarRequestsWithFollowUps: q2.admitted,
          peakPerMinute: q2.peakPerMinute,
          rejected: q2.rejected,
          cpuCores: cpuUse,
          perMinute: q2.perMinute,
          cli,
        };
        log(`renewal: ${JSON.stringify(results.renewal)}`);
        writePartial(results);
      }
      await a.stop(30_000);
    }

    // ============================ B. two processes on one database ============================
    if (PHASES.has('two') && TWO_OWNERS > 0) {
      const dbB = await newDatabase();
      const b1 = await startService('bench-scale-b1', dbB.url);
      const b2 = await startService('bench-scale-b2', dbB.url);
      const keys = Array.from({ length: TWO_OWNERS }, (_, i) => String(i));
      const r = await onboard({ label: `B (${TWO_OWNERS} owners, 2 processes)`, via: [b1, b2], sql: dbB.sql, keys, prefix: 'scale-b-', timeoutS: TIMEOUT_S });
      const { quotaSnapshot: _q, ...rest } = r;
      const fp = await footprint([b1, b2], dbB.sql, TWO_OWNERS);
      results.twoProcesses = { ...rest, footprint: fp };
      writePartial(results);
      await Promise.all([b1.stop(30_000), b2.stop(30_000)]);
    }

    // ============================ U. baseline without pacing ============================
    if (PHASES.has('baseline') && BASELINE_OWNERS > 0) {
      const dbU = await newDatabase();
      const u = await startService('bench-scale-unpaced', dbU.url, { GOOGLE_QUOTA_PER_MINUTE: String(UNPACED_QUOTA) });
      const keys = Array.from({ length: BASELINE_OWNERS }, (_, i) => String(i));
      const r = await onboard({ label: `U (${BASELINE_OWNERS} owners, unpaced)`, via: [u], sql: dbU.sql, keys, prefix: 'scale-u-', timeoutS: BASELINE_TIMEOUT_S });
      const { quotaSnapshot: _q, ...rest } = r;
      const [rl] = await dbU.sql<Array<{ n: number }>>`select count(*)::int as n from pgboss.job where output::text like '%rateLimitExceeded%' or output::text like '%Rate Limit%'`;
      results.unpaced = { ...rest, serviceQuotaPerMinute: UNPACED_QUOTA, jobsFailedOnRateLimits: rl!.n };
      writePartial(results);
      await u.stop(30_000);
    }

    // ============================ T. a quota this machine can exceed: paced, then unpaced ============================
    if (PHASES.has('tight') && TIGHT_OWNERS > 0) {
      const tight: Record<string, unknown> = {};
      for (const [label, serviceQuota] of [['paced', TIGHT_QUOTA], ['unpaced', UNPACED_QUOTA]] as const) {
        const dbT = await newDatabase();
        const t = await startService(`bench-scale-tight-${label}`, dbT.url, { GOOGLE_QUOTA_PER_MINUTE: String(serviceQuota) });
        const keys = Array.from({ length: TIGHT_OWNERS }, (_, i) => String(i));
        const r = await onboard({ label: `T ${label} (${TIGHT_OWNERS} owners, quota ${TIGHT_QUOTA}/min)`, via: [t], sql: dbT.sql, keys, prefix: `scale-t${label[0]}-`, timeoutS: TIGHT_TIMEOUT_S, quotaPerMinute: TIGHT_QUOTA });
        const { quotaSnapshot: _q, ...rest } = r;
        tight[label] = { ...rest, serviceQuotaPerMinute: serviceQuota };
        await t.stop(30_000);
        writePartial({ ...results, tight });
      }
      results.tight = tight;
      await resetQuota();
    }
  } finally {
    if (loadProc) {
      loadProc.kill('SIGTERM');
      await loadProc.exited;
    }
    for (const s of services) if (s.running) await s.stop(30_000).catch(() => {});
    for (const s of sqls) await s.end({ timeout: 2 }).catch(() => {});
    for (const d of databases) await d.drop().catch(() => {});
    emuProc.kill();
    await emuProc.exited;
    rmSync(loadOut, { force: true });
    rmSync(loadSpecFile, { force: true });
  }

  const total = (performance.now() - runStarted) / 1000;
  const out = {
    benchmark: 'scale',
    command: commandLine(),
    commit,
    uncommittedChanges: dirty,
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30), bun: Bun.version, loadAverageAtStart, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) },
    setup: {
      owners: OWNERS,
      loadOwners: LOAD_OWNERS,
      quotaPerMinute: QUOTA,
      userQuotaPerMinute: USER_QUOTA,
      emulatorWindowMs: 60_000,
      eventsPerCalendar: EVENTS,
      bigOwners: `every ${bigEvery}th (${BIG_SHARE * 100} %) with ${BIG_EVENTS} events on the primary`,
      linkConcurrency: LINK_CONCURRENCY,
      webhookLoadPerSecond: LOAD_RATE,
      probe: { owners: PROBE_OWNERS, webhookLoadPerSecond: PROBE_RATE, seconds: PROBE_S },
      tight: { quotaPerMinute: TIGHT_QUOTA, owners: TIGHT_OWNERS, timeoutSeconds: TIGHT_TIMEOUT_S },
      twoProcessOwners: TWO_OWNERS,
      baselineOwners: BASELINE_OWNERS,
      emulator: 'child process',
      service: 'child process (bun src/composition/main.ts), JOBS_POLL_SECONDS=2, LOG_LEVEL=' + LOG_LEVEL,
      seedSeconds: round(seedSeconds),
      seededEvents,
    },
    ...results,
    totalSeconds: round(total),
  };
  mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dir, 'results', 'scale.json'), `${JSON.stringify(out, null, 2)}\n`);
  rmSync(join(import.meta.dir, 'results', 'scale.json.tmp'), { force: true });
  printSummary(out as never);
  console.log(`written bench/results/scale.json (run took ${round(total / 60)} min)`);
}

function commandLine(): string {
  const knobs = Object.entries(env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  return [...knobs, 'bun bench/scale.ts'].join(' ');
}

function writePartial(results: Record<string, unknown>): void {
  mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dir, 'results', 'scale.json.tmp'), `${JSON.stringify(results, null, 2)}\n`);
}

function webhookRow(window: string, v: any) {
  return { window, requests: v.requests, 'per s': v.perSecond, 'p50 ms': v.p50Ms, 'p90 ms': v.p90Ms, 'p99 ms': v.p99Ms, 'max ms': v.maxMs, statuses: JSON.stringify(v.statuses), 'healthz p99 ms': v.healthz?.p99Ms, 'healthz max ms': v.healthz?.maxMs };
}

function printSummary(out: Record<string, any>): void {
  const rows: Array<Record<string, unknown>> = [];
  const o = out.onboarding;
  const line = (phase: string, r: any, aim = '') =>
    r &&
    rows.push({
      phase,
      owners: r.owners,
      procs: r.processes,
      converged: r.converged,
      'done s': r.seconds,
      'Calendar req': r.calendarRequests,
      'bound s': r.quotaBoundSeconds,
      ratio: r.ratio,
      'peak/min': r.peakPerMinute,
      '403/429': r.rejectedTotal,
      'req/s': r.requestsPerSecond,
      aim,
    });
  if (o) {
    if (o.probe) line(`A0: probe under ${o.probe.loadPerSecond}/s webhook load`, o.probe);
    line('A1: N/10 under webhook load', o.tenth, 'ratio <= 1.2, 0 rejected');
    line('A2: the rest under webhook load', o.rest, 'ratio <= 1.2, 0 rejected');
  }
  line('B: two processes', out.twoProcesses, 'ratio <= 1.2, 0 rejected');
  line('U: unpaced baseline', out.unpaced);
  if (out.tight) {
    line(`T: quota ${out.tight.paced?.quotaPerMinute}/min, paced`, out.tight.paced, 'ratio <= 1.2, 0 rejected');
    line(`T: quota ${out.tight.unpaced?.quotaPerMinute}/min, unpaced`, out.tight.unpaced);
  }
  console.log(`\nOnboarding at scale (quota ${out.setup.quotaPerMinute}/min project, ${out.setup.userQuotaPerMinute}/min user; commit ${out.commit})`);
  console.table(rows);
  if (o) {
    console.log('Footprint');
    console.table([
      { at: `N/10 (${o.footprintAtTenth.owners} owners)`, 'RSS MB': o.footprintAtTenth.rssMb[0], 'DB MB': o.footprintAtTenth.databaseMb, 'DB KB/owner': o.footprintAtTenth.databaseKbPerOwner, 'calwatch tables KB/owner': o.footprintAtTenth.publicTablesKbPerOwner, 'pg-boss jobs': o.footprintAtTenth.pgbossJobs },
      { at: `N (${o.footprintAtN.owners} owners)`, 'RSS MB': o.footprintAtN.rssMb[0], 'DB MB': o.footprintAtN.databaseMb, 'DB KB/owner': o.footprintAtN.databaseKbPerOwner, 'calwatch tables KB/owner': o.footprintAtN.publicTablesKbPerOwner, 'pg-boss jobs': o.footprintAtN.pgbossJobs },
    ]);
    console.log(`RSS at N / RSS at N/10: ${o.rssRatio} (aim <= 1.5)`);
    if (o.probe) {
      console.log(`Probe: ${o.probe.owners} owners linked under ${o.probe.loadPerSecond}/s for ${o.probe.seconds} s; calendars mirrored at the end: ${JSON.stringify(o.probe.calendarsAtEnd)}; converged ${o.probe.convergedSecondsAfterLoadStopped} s after the load stopped`);
      console.table(Object.entries(o.probe.webhook).map(([window, v]: [string, any]) => webhookRow(window, v)));
    }
    if (o.webhook) {
      console.log(`Webhook under ${o.webhook.rate}/s over ${o.webhook.channels} channels (aim p99 <= 50 ms)`);
      console.table(
        ['beforeBurst', 'duringA1', 'duringA2', 'wholeOnboarding'].filter((k) => o.webhook[k]).map((k) => webhookRow(k, o.webhook[k])),
      );
      console.log(`slow (> 100 ms) webhook answers during a big calendar's full sync: ${JSON.stringify(o.webhook.slowVersusBigFullSyncs)}`);
    }
  }
  if (out.restart) {
    console.log('Restart');
    console.table([{ calendars: out.restart.selectedCalendars, 'ready s': out.restart.readySeconds, 'caught up s': out.restart.seconds, 'bound s (catch-up rate)': out.restart.catchupBoundSeconds, ratio: out.restart.ratio, 'peak/min': out.restart.peakPerMinute, rejected: JSON.stringify(out.restart.rejected) }]);
  }
  if (out.renewal) {
    console.log('All channels due for renewal at once');
    if (out.renewal.cli) console.log(`then the CLI once (${out.renewal.cli.command}): ${out.renewal.cli.renewed} of ${out.renewal.cli.channelsDue} due renewed in ${out.renewal.cli.seconds} s (${out.renewal.cli.perSecond}/s): "${out.renewal.cli.summary}"`);
    console.table([{ channels: out.renewal.channels, renewed: out.renewal.renewed, 'done s': out.renewal.seconds, 'per s': out.renewal.channelsPerSecond, 'Calendar req': out.renewal.calendarRequests, 'bound s': out.renewal.quotaBoundSeconds, ratio: out.renewal.ratio, 'follow-ups done s': out.renewal.followUpsDoneAfterSeconds, 'peak/min': out.renewal.peakPerMinute, rejected: JSON.stringify(out.renewal.rejected) }]);
  }
}

if (process.argv[2] === '__emulator') await emulatorChild();
else if (process.argv[2] === '__load') await loadChild();
else {
  await main();
  process.exit(0);
}
