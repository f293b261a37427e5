// Benchmark (not a test): `bun bench/sync-full.ts [sizes...]` (default 5000 50000).
//
// For each size: seeds a calendar of N events in the emulator (its own process, so its memory is
// not counted), then
//   - calwatch's full sync (the real `sync.events` job: pages of 2,500, multi-row upserts, change
//     sets handed to every registered reactor), from `calendars.setSelected` to the last page
//     committed, with the job's own time per phase (Google, mirror writes, each reactor);
//   - Postgres's ceiling for the same rows: the mirror rows that sync wrote, dumped with COPY TO
//     (untimed), deleted, and written back with COPY FROM, one transaction per 2,500 rows, no
//     reactors; calwatch is reported as a ratio of it (its events/s over the ceiling's);
//   - a naive baseline over the same pages: one INSERT ... ON CONFLICT per event, autocommit
//     (BENCH_SKIP_NAIVE=1 leaves it out);
// in events/second and peak RSS above the baseline of this process (which runs the service); then
// an untimed pass of the same full sync that collects garbage after each page and records the live
// heap (flat memory: it does not grow with the number of events).
// Then a burst of 100 notifications for one calendar within one second, counting the incremental
// events.list calls it costs (GET /_emulator/requests).
// Prints a table and writes JSON to bench/results/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, getTableColumns } from 'drizzle-orm';
import postgres from 'postgres';
import { calendarEvents } from '../schema/sync.ts';
import { withCalendar } from '../src/links/index.ts';
import { type EventSyncResult, enqueueCalendarListSync, enqueueEventSync, findCalendar, getCalendar, setCalendarSelected } from '../src/sync/index.ts';
import { toRow } from '../src/sync/map-event.ts';
import { startTestService, waitFor } from '../tests/support/service.ts';
import { seedBenchEvents, startBenchEmulator } from './timing.ts';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [5_000, 50_000];
/** BENCH_SKIP_NAIVE=1 leaves the naive baseline out (while developing: it takes minutes at 50,000). */
const SKIP_NAIVE = process.env.BENCH_SKIP_NAIVE === '1';
const EMAIL = 'bench@example.com';

const { url: emuUrl, emu, stop: stopEmulator } = await startBenchEmulator();

let probe: ((calendarRowId: string) => void) | undefined;
const memoryProbe = { name: 'bench-memory-probe', reactions: { eventChanges: async (_ctx: unknown, cs: { calendarRowId: string }) => probe?.(cs.calendarRowId) } };
const svc = await startTestService({ name: 'bench-sync-full', emulatorUrl: emuUrl, env: { PUBLIC_URL: '', LOG_LEVEL: 'info' }, extraModules: [memoryProbe] });
const ctx = svc.service.ctx;

/** Peak RSS while `fn` runs, sampled every 10 ms, above the RSS just before it (after a GC). */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; baseRssMb: number; peakRssMb: number }> {
  Bun.gc(true);
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const t0 = performance.now();
  try {
    const result = await fn();
    const seconds = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, seconds, baseRssMb: base / 2 ** 20, peakRssMb: (peak - base) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

const seed = (calendarId: string, n: number) => seedBenchEvents(emu, calendarId, n, EMAIL);

/** The baseline: same pages from Google, one autocommitted upsert per event. */
async function naiveFullSync(calendarRowId: string): Promise<number> {
  const cal = (await getCalendar(ctx, calendarRowId))!;
  let pageToken: string | undefined;
  let n = 0;
  for (;;) {
    const { data } = await withCalendar(ctx, cal.ownerId, (client) =>
      client.events.list({ calendarId: cal.calendarId, maxResults: 2500, singleEvents: false, ...(pageToken ? { pageToken } : {}) }),
    );
    for (const e of data.items ?? []) {
      const row = toRow(e as never, { id: cal.id, ownerId: cal.ownerId }, cal.timeZone ?? 'UTC', 1);
      await ctx.db
        .insert(calendarEvents)
        .values(row)
        .onConflictDoUpdate({ target: [calendarEvents.calendarId, calendarEvents.googleEventId], set: { ...row } });
      n++;
    }
    if (!data.nextPageToken) return n;
    pageToken = data.nextPageToken;
  }
}

/** COPY runs on a connection of its own (the service's pool counts statements through a debug hook). */
if (!svc.database.url) throw new Error('the ceiling needs a Postgres URL (TEST_DATABASE_URL=embedded is not supported here)');
const copySql = postgres(svc.database.url, { max: 1, onnotice: () => {} });
/** COPY takes no bind parameters: a row id, checked, inlined. */
const uuidLiteral = (id: string) => {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a uuid: ${id}`);
  return id;
};
const rows: Array<Record<string, unknown>> = [];
const phases: Array<Record<string, unknown>> = [];
/** The mirror's columns (src/sync/mirror-writes.ts COLUMNS), in the order COPY takes them. */
const MIRROR_COLUMNS = Object.values(getTableColumns(calendarEvents)).map((c) => `"${c.name}"`).join(', ');
const memory: Array<Record<string, unknown>> = [];
const user = await emu('users', { email: EMAIL });
const linked = await svc.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'bench-owner', refreshToken: user.refreshToken });
const ownerId = linked.body.result!.data.ownerId;
await waitFor(async () => (await findCalendar(ctx, ownerId, 'primary'))?.lastFullSyncAt, { what: 'primary synced' });
let burstCalendar: string | undefined;

// Warm-up (not measured): the JIT and the connection pools see a first full sync before the timed ones.
{
  const warm = 'bench-warmup@group.calendar.google.com';
  await emu('calendars', { owner: EMAIL, id: warm, summary: 'warm-up', timeZone: 'UTC' });
  await seed(warm, 2500);
  await enqueueCalendarListSync(ctx, ownerId);
  const cal = await waitFor(async () => findCalendar(ctx, ownerId, warm), { what: 'warm-up calendar listed' });
  await setCalendarSelected(ctx, { ownerId, calendarId: warm, selected: true });
  await waitFor(async () => (await getCalendar(ctx, cal.id))?.lastFullSyncAt, { what: 'warm-up sync', timeoutMs: 120_000 });
}

/** The job's own account of its last full sync: time waiting for Google, writing, in reactors. */
async function lastJobTimings(
  calendarRowId: string,
): Promise<Partial<Pick<EventSyncResult, 'googleMs' | 'googleWaitMs' | 'writeMs' | 'mirrorMs' | 'reactorsMs' | 'reactorMs' | 'pages'>>> {
  const r = await svc.service.db.sql`
    select output from pgboss.job where name = 'sync.events' and singleton_key = ${calendarRowId} and state = 'completed'
    order by completed_on desc limit 1`;
  return (r[0]?.output ?? {}) as never;
}

for (const n of SIZES) {
  const calendarId = `bench-${n}@group.calendar.google.com`;
  await emu('calendars', { owner: EMAIL, id: calendarId, summary: `bench ${n}`, timeZone: 'UTC' });
  const seedStart = performance.now();
  await seed(calendarId, n);
  console.error(`seeded ${n} events in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  await enqueueCalendarListSync(ctx, ownerId);
  const cal = await waitFor(async () => findCalendar(ctx, ownerId, calendarId), { what: 'calendar listed' });

  // calwatch: the sync job started by selecting the calendar, until its last page commits.
  const fast = await measured(async () => {
    await setCalendarSelected(ctx, { ownerId, calendarId, selected: true });
    await waitFor(async () => (await getCalendar(ctx, cal.id))?.lastFullSyncAt, { what: 'full sync', timeoutMs: 600_000, intervalMs: 10 });
  });
  const count = Number((await ctx.db.$count(calendarEvents, eq(calendarEvents.calendarId, cal.id))));
  if (count !== n) throw new Error(`mirror holds ${count} events, expected ${n}`);
  const t = await lastJobTimings(cal.id);
  const sec = (ms: number | undefined) => (ms !== undefined ? +(ms / 1000).toFixed(2) : undefined);
  const calwatchRow: Record<string, unknown> = {
    events: n,
    method: 'calwatch (every reactor on)',
    seconds: +fast.seconds.toFixed(2),
    eventsPerSecond: Math.round(n / fast.seconds),
    peakRssAboveBaseMb: +fast.peakRssMb.toFixed(1),
    baseRssMb: +fast.baseRssMb.toFixed(1),
    pages: t.pages,
    // Google's answers overlap the writes of the page before: googleS is their total time, googleWaitS
    // the part the page loop waited for.
    googleS: sec(t.googleMs),
    googleWaitS: sec(t.googleWaitMs),
    pageTransactionsS: sec(t.writeMs),
    mirrorWriteS: sec(t.mirrorMs),
    reactorsS: sec(t.reactorsMs),
  };
  rows.push(calwatchRow);
  phases.push({ events: n, googleS: sec(t.googleMs), googleWaitS: sec(t.googleWaitMs), mirrorWriteS: sec(t.mirrorMs), ...Object.fromEntries(Object.entries(t.reactorMs ?? {}).map(([k, v]) => [`${k}S`, sec(v)])), otherInTransactionsS: t.writeMs !== undefined && t.mirrorMs !== undefined && t.reactorsMs !== undefined ? sec(t.writeMs - t.mirrorMs - t.reactorsMs) : undefined });

  // Postgres's ceiling for the same rows: the mirror rows this sync wrote, taken out with COPY TO
  // (untimed), deleted, and put back with COPY FROM in transactions of one page (2,500 rows) each.
  // No reactors, no Google, no JSON: only what Postgres itself needs to store these rows.
  // The dump goes through psql (a COPY TO stream read through postgres.js stalled once at 50,000 rows).
  const dumpFile = join(tmpdir(), `calwatch-bench-ceiling-${process.pid}.copy`);
  const dumped = Bun.spawnSync(['psql', svc.database.url!, '-v', 'ON_ERROR_STOP=1', '-Atc', `\\copy (select ${MIRROR_COLUMNS} from calendar_events where calendar_id = '${uuidLiteral(cal.id)}') to '${dumpFile}'`]);
  if (dumped.exitCode !== 0) throw new Error(`psql \\copy: ${dumped.stderr.toString()}`);
  const dump = readFileSync(dumpFile);
  rmSync(dumpFile, { force: true });
  const pageBuffers: Buffer[] = [];
  for (let start = 0, lines = 0, i = 0; i < dump.length; i++) {
    if (dump[i] !== 10) continue;
    if (++lines === 2500 || i === dump.length - 1) {
      pageBuffers.push(dump.subarray(start, i + 1));
      start = i + 1;
      lines = 0;
    }
  }
  await ctx.db.delete(calendarEvents).where(eq(calendarEvents.calendarId, cal.id));
  const ceiling = await measured(async () => {
    for (const buf of pageBuffers) {
      await copySql.begin(async (tx) => {
        const w = await tx.unsafe(`copy calendar_events (${MIRROR_COLUMNS}) from stdin`).writable();
        await new Promise<void>((resolve, reject) => {
          w.on('error', reject);
          w.on('finish', () => resolve());
          w.end(buf);
        });
      });
    }
  });
  const ceilingCount = Number(await ctx.db.$count(calendarEvents, eq(calendarEvents.calendarId, cal.id)));
  if (ceilingCount !== n) throw new Error(`ceiling wrote ${ceilingCount} rows, expected ${n}`);
  pageBuffers.length = 0;
  rows.push({ events: n, method: 'Postgres ceiling (COPY of the mirror rows, no reactors)', seconds: +ceiling.seconds.toFixed(2), eventsPerSecond: Math.round(n / ceiling.seconds), peakRssAboveBaseMb: +ceiling.peakRssMb.toFixed(1), baseRssMb: +ceiling.baseRssMb.toFixed(1) });
  calwatchRow.ratioToCeiling = +(ceiling.seconds / fast.seconds).toFixed(3);

  // The naive baseline, into the same (now deselected, emptied) calendar row.
  await setCalendarSelected(ctx, { ownerId, calendarId, selected: false });
  if (!SKIP_NAIVE) {
    const slow = await measured(() => naiveFullSync(cal.id));
    const naiveCount = Number(await ctx.db.$count(calendarEvents, and(eq(calendarEvents.calendarId, cal.id))));
    if (naiveCount !== n) throw new Error(`naive mirror holds ${naiveCount} events, expected ${n}`);
    rows.push({ events: n, method: 'naive (one upsert per event)', seconds: +slow.seconds.toFixed(2), eventsPerSecond: Math.round(n / slow.seconds), peakRssAboveBaseMb: +slow.peakRssMb.toFixed(1), baseRssMb: +slow.baseRssMb.toFixed(1) });
    await ctx.db.delete(calendarEvents).where(eq(calendarEvents.calendarId, cal.id));
  }

  // Memory pass (untimed): the same full sync again, with a probe that collects garbage after each
  // page and records what stays live. Flat memory means this does not grow with the calendar.
  const live: number[] = [];
  probe = (id) => {
    if (id !== cal.id) return;
    Bun.gc(true);
    live.push(process.memoryUsage().heapUsed / 2 ** 20);
  };
  const previousFull = (await getCalendar(ctx, cal.id))!.lastFullSyncAt!;
  await setCalendarSelected(ctx, { ownerId, calendarId, selected: true });
  await waitFor(async () => {
    const at = (await getCalendar(ctx, cal.id))?.lastFullSyncAt;
    return at && at > previousFull;
  }, { what: 'memory pass', timeoutMs: 600_000 });
  probe = undefined;
  memory.push({ events: n, pages: live.length, liveHeapAfterFirstPageMb: +live[0]!.toFixed(1), liveHeapAfterLastPageMb: +live.at(-1)!.toFixed(1), maxLiveHeapMb: +Math.max(...live).toFixed(1) });
  if (!burstCalendar) burstCalendar = calendarId;
  else await setCalendarSelected(ctx, { ownerId, calendarId, selected: false });
}

// A burst: 100 notifications for one calendar within one second, after one change at Google.
const burstCal = (await findCalendar(ctx, ownerId, burstCalendar!))!;
const waitIdle = () =>
  waitFor(async () => {
    const r = await svc.service.db.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${burstCal.id} and state in ('created','retry','active')`;
    return r[0]!.n === 0;
  }, { what: 'sync queue idle', timeoutMs: 60_000 });
await waitIdle();
await Bun.sleep(1100);
await emu(`calendars/${encodeURIComponent(burstCalendar!)}/events/burst00001`, { summary: 'burst', start: { dateTime: '2031-06-01T10:00:00Z' }, end: { dateTime: '2031-06-01T11:00:00Z' } }, 'PUT');
const mark = ((await emu('requests')).items as Array<{ id: number }>).at(-1)?.id ?? 0;
const burstStart = performance.now();
for (let i = 0; i < 100; i++) {
  await enqueueEventSync(ctx, burstCal.id, { reason: 'notification', notifiedAt: new Date() });
  await Bun.sleep(Math.max(0, burstStart + (i + 1) * 9.5 - performance.now()));
}
const burstSeconds = (performance.now() - burstStart) / 1000;
await waitIdle();
const listCalls = ((await emu(`requests?since=${mark}`)).items as Array<{ method: string; path: string; query: Record<string, string> }>).filter(
  (r) => r.method === 'GET' && r.path.includes(`/calendars/${encodeURIComponent(burstCalendar!)}/events`),
);
const mirrored = await ctx.db.$count(calendarEvents, and(eq(calendarEvents.calendarId, burstCal.id), eq(calendarEvents.googleEventId, 'burst00001')));
const burst = { notifications: 100, withinSeconds: +burstSeconds.toFixed(2), incrementalListCalls: listCalls.filter((r) => r.query.syncToken).length, totalListCalls: listCalls.length, changeMirrored: mirrored === 1 };

console.log('\nFull sync from the emulator (pages of 2,500; Postgres 15 on localhost)');
console.table(rows);
console.log('Time per phase of the calwatch full sync (seconds, summed over its pages)');
console.table(phases);
console.log('Live heap after each page of a full sync (garbage collected after each page)');
console.table(memory);
console.log('Burst of notifications for one calendar');
console.table([burst]);

const out = {
  benchmark: 'sync-full',
  command: `bun bench/sync-full.ts ${SIZES.join(' ')}`,
  cpus: navigator.hardwareConcurrency,
  loadAverageAtEnd: (await Bun.file('/proc/loadavg').text().catch(() => '')).trim(),
  at: new Date().toISOString(),
  runtime: `bun ${Bun.version}`,
  platform: `${process.platform} ${process.arch}`,
  database: 'postgres (TEST_DATABASE_URL or 127.0.0.1:5432)',
  fullSync: rows,
  phases,
  memory,
  burst,
};
mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
const file = join(import.meta.dir, 'results', 'sync-full.json');
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`written ${file}`);

await copySql.end();
await svc.stop();
stopEmulator();
process.exit(burst.incrementalListCalls <= 2 && burst.changeMirrored ? 0 : 1);
