// Benchmark (not a test): `bun bench/fanout.ts [changes] [part,...]` (default 10000 changes; parts
// burst, one, slow, trickle, growth; default all).
//
// Deliveries per second to a local receiver (its own process, verifying every signature), and the
// delay from a mirror change (just before its change set's transaction) to its receipt, p50 / p99:
//   - calwatch: change sets handed to fan-out in their transaction (as sync does), one delivery row
//     and one `fanout.deliver` job each, key_strict_fifo per (subscription, owner, calendar), a job
//     going on with the next deliveries of its stream while they succeed (the drain);
//   - the ceiling, in the same run, to the same receiver: a plain loop of signed POSTs (no queue, no
//     rows, no retries, one at a time: what calling subscribers inline would do). calwatch is
//     reported as a ratio of it.
// Parts:
//   burst    N changes over 20 calendars, one subscriber, enqueued page by page (50 changes per
//            transaction, the 20 calendars' pages side by side, as their syncs run), timed from the
//            first page; the same committed at once, timed from the commit (the drain alone); the loop
//            before and after them (calwatch's ratio is to their mean)
//   one      N/4 changes in ONE calendar (one ordered stream: its deliveries cannot overlap), both
//            ways; the loop
//   slow     N changes over 20 calendars to two subscribers, one of them answering in 500 ms: the
//            fast one's throughput beside its throughput alone (burst)
//   trickle  200 single changes, 20 ms apart, 5 calendars: the latency a change sees on an idle queue
//   growth   1x and 10x: calendars (N/10 over 2 calendars, N over 20) and subscribers (N/10 changes
//            over 20 calendars to 1 and to 10 subscribers): time per delivery and peak RSS above
//            the RSS before the part
// Each part deletes its subscriptions afterwards, so that the next one sends only its own.
// Prints a table and writes JSON to bench/results/fanout.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { startEmulator } from '../src/emulator/index.ts';
import type { Ctx } from '../src/context/index.ts';
import { bodyOf, enqueueMessages } from '../src/fanout/publish.ts';
import { sendOnce } from '../src/fanout/deliver.ts';
import { monotonicUuid } from '../src/fanout/ids.ts';
import type { Message } from '../src/fanout/types.ts';
import { startTestService, waitFor } from '../tests/support/service.ts';

const N = Number(process.argv[2] ?? 10000);
const parts = new Set((process.argv[3] ?? 'burst,one,slow,trickle,growth').split(','));
const BATCH = 50; // changes per change set (one transaction each, like one sync page)

// Receiver in its own process; it prints its port on its first line.
const rxProc = Bun.spawn(['bun', 'run', join(import.meta.dir, 'fanout-receiver.ts')], { stdout: 'pipe', stderr: 'inherit' });
const rxPort = await firstLine(rxProc.stdout).then(Number);
const rxUrl = `http://127.0.0.1:${rxPort}`;

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split('\n')[0]!.trim();
}

const emu = await startEmulator({ port: 0 });
const svc = await startTestService({
  name: 'bench-fanout',
  emulatorUrl: emu.url,
  env: { LOG_LEVEL: 'warn', PUBLIC_URL: '' },
});
const ctx = svc.service.ctx;
const user = await (await fetch(`${emu.url}_emulator/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com' }) })).json();
const linked = await svc.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'bench', refreshToken: user.refreshToken });
const ownerId = linked.body.result!.data.ownerId;

let pathSeq = 0;
async function subscribe(name: string): Promise<{ id: string; secret: string; path: string }> {
  const path = `/${name}-${pathSeq++}`;
  const r = await svc.trpc<{ id: string; secret: string }>('subscriptions.create', { url: `${rxUrl}${path}`, externalOwnerId: 'bench', types: ['event.created'] });
  const sub = r.body.result!.data;
  await fetch(`${rxUrl}/_secret`, { method: 'POST', body: JSON.stringify({ path, secret: sub.secret }) });
  return { ...sub, path };
}
const unsubscribe = (id: string) => svc.trpc('subscriptions.delete', { id });

type ChangeSet = { calendarId: string; build: () => Message[]; committedAt?: number };
function messages(n: number, calendars: number, batch = BATCH): ChangeSet[] {
  const sets: ChangeSet[] = [];
  const perCalendar = Math.ceil(n / calendars);
  let seq = 0;
  for (let start = 0; start < perCalendar; start += batch) {
    for (let c = 0; c < calendars; c++) {
      const calendarId = `bench-${c}@example.com`;
      const count = Math.min(batch, perCalendar - start);
      const first = seq;
      seq += count;
      sets.push({
        calendarId,
        build: () => {
          const at = new Date();
          return Array.from({ length: count }, (_, i) => ({
            type: 'event.created' as const,
            ownerId,
            externalOwnerId: 'bench',
            calendarId,
            data: { googleEventId: `ev${first + i}`, seq: start + i, summary: `bench ${first + i}`, start: '2031-01-01T10:00:00Z', end: '2031-01-01T11:00:00Z' },
            occurredAt: at,
          }));
        },
      });
    }
  }
  return sets;
}

type Rec = { id: string; at: number; occurredAt: number; calendarId: string; seq: number; verified: boolean; path?: string };
const stats = async (path: string): Promise<Rec[]> => (await fetch(`${rxUrl}/_stats?path=${encodeURIComponent(path)}`)).json();
const count = async (path: string): Promise<number> => (await fetch(`${rxUrl}/_count?path=${encodeURIComponent(path)}`)).json();

/** Peak RSS and peak JS heap while `fn` runs, sampled every 20 ms, above their values just before. */
async function withMemory<T>(fn: () => Promise<T>): Promise<T & { peakRssAboveBaseMB: number; peakHeapAboveBaseMB: number; heapUsedAfterMB: number }> {
  Bun.gc(true);
  const base = process.memoryUsage();
  let peak = base.rss;
  let peakHeap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 20);
  const mb = (b: number) => Number((b / 2 ** 20).toFixed(1));
  try {
    const out = await fn();
    sample();
    Bun.gc(true);
    return { ...out, peakRssAboveBaseMB: mb(peak - base.rss), peakHeapAboveBaseMB: mb(peakHeap - base.heapUsed), heapUsedAfterMB: mb(process.memoryUsage().heapUsed) };
  } finally {
    clearInterval(timer);
  }
}

function summarize(scenario: string, method: string, recs: Rec[], t0: number) {
  const lat = recs.map((r) => r.at - r.occurredAt).sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!;
  const seconds = (Math.max(...recs.map((r) => r.at)) - t0) / 1000;
  // In order per calendar: the seq of each calendar's deliveries never goes down.
  const last = new Map<string, number>();
  let ordered = true;
  for (const r of [...recs].sort((a, b) => a.at - b.at)) {
    const key = `${r.path}:${r.calendarId}`;
    if ((last.get(key) ?? -1) > r.seq) ordered = false;
    last.set(key, r.seq);
  }
  return {
    scenario,
    method,
    deliveries: recs.length,
    unique: new Set(recs.map((r) => r.id)).size,
    verified: recs.every((r) => r.verified),
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(recs.length / seconds),
    p50Ms: pct(50),
    p99Ms: pct(99),
    inOrderPerCalendar: ordered,
  };
}

/**
 * Enqueues the change sets as sync does, one transaction each, in order per calendar; the
 * calendars' chains side by side (as the sync jobs of different calendars run), `gapMs` apart.
 * `oneCommit`: every change set in one transaction instead (a burst that becomes visible at once:
 * what follows its commit is the drain alone).
 */
async function enqueue(sets: ChangeSet[], opts: { gapMs?: number; oneCommit?: boolean } = {}): Promise<{ enqueueSeconds: number; committedAt: number }> {
  const t0 = Date.now();
  if (opts.oneCommit) {
    await ctx.db.transaction(async (tx) => {
      for (const set of sets) await enqueueMessages(tx, ctx, set.build());
    });
  } else if (opts.gapMs) {
    for (const set of sets) {
      await Bun.sleep(opts.gapMs);
      await ctx.db.transaction(async (tx) => {
        await enqueueMessages(tx, ctx, set.build());
      });
      set.committedAt = Date.now();
    }
  } else {
    const chains = new Map<string, ChangeSet[]>();
    for (const set of sets) chains.set(set.calendarId, [...(chains.get(set.calendarId) ?? []), set]);
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const set of chain) {
          await ctx.db.transaction(async (tx) => {
            await enqueueMessages(tx, ctx, set.build());
          });
        }
      }),
    );
  }
  return { enqueueSeconds: Number(((Date.now() - t0) / 1000).toFixed(2)), committedAt: Date.now() };
}

/** calwatch: the change sets enqueued, then every subscriber's receipts awaited. */
async function runQueued(scenario: string, n: number, calendars: number, opts: { subscribers?: number; gapMs?: number; batch?: number; oneCommit?: boolean } = {}) {
  const subs = await Promise.all(Array.from({ length: opts.subscribers ?? 1 }, () => subscribe('fast')));
  const sets = messages(n, calendars, opts.batch ?? BATCH);
  const t0 = Date.now();
  const { enqueueSeconds, committedAt } = await enqueue(sets, opts);
  for (const s of subs) await waitFor(async () => (await count(s.path)) >= n, { what: `${n} deliveries on ${s.path}`, timeoutMs: 600_000, intervalMs: 50 });
  const recs = (await Promise.all(subs.map(async (s) => (await stats(s.path)).map((r) => ({ ...r, path: s.path }))))).flat();
  for (const s of subs) await unsubscribe(s.id);
  const method = `calwatch${opts.oneCommit ? ', one commit' : ''}${subs.length > 1 ? `, ${subs.length} subscribers` : ''}`;
  // With single changes (the trickle): the part after the commit (notification, fetch, sign, POST).
  const commits = new Map<string, number>();
  for (const set of sets) if (set.committedAt) for (const m of set.build()) commits.set(`${m.calendarId}:${(m.data as { seq: number }).seq}`, set.committedAt);
  const afterCommit = recs.filter((r) => commits.has(`${r.calendarId}:${r.seq}`)).map((r) => r.at - commits.get(`${r.calendarId}:${r.seq}`)!).sort((a, b) => a - b);
  const split = afterCommit.length
    ? { commitToReceiptP50Ms: afterCommit[Math.floor(afterCommit.length / 2)]!, commitToReceiptP99Ms: afterCommit[Math.min(afterCommit.length - 1, Math.floor(afterCommit.length * 0.99))]! }
    : {};
  return { ...summarize(scenario, method, recs, opts.oneCommit ? committedAt : t0), enqueueSeconds, ...split };
}

/** The ceiling: the same messages signed and POSTed one after another, nothing stored. */
async function runLoop(scenario: string, n: number, calendars: number) {
  const sub = await subscribe('loop');
  const [row] = await svc.service.db.sql`select * from subscriptions where id = ${sub.id}`;
  const sets = messages(n, calendars);
  const t0 = Date.now();
  for (const set of sets) {
    for (const m of set.build()) {
      await sendOnce(ctx as Ctx, { id: row!.id, url: row!.url, secretEnc: row!.secret_enc }, { id: monotonicUuid(), body: JSON.stringify(bodyOf(m)) });
    }
  }
  const out = summarize(scenario, 'ceiling: a loop of POSTs, no queue', await stats(sub.path), t0);
  await unsubscribe(sub.id);
  return { ...out, enqueueSeconds: null };
}

type Row = Record<string, unknown>;
const results: Row[] = [];
const ratio = (a: Row, b: Row) => Number(((a.perSecond as number) / (b.perSecond as number)).toFixed(2));

// The machine is shared: the loop runs before and after calwatch, and calwatch is compared with
// the mean of the two.
async function withCeiling(scenario: string, n: number, calendars: number) {
  const before = await runLoop(scenario, n, calendars);
  const q = await runQueued(scenario, n, calendars);
  const drain = await runQueued(scenario, n, calendars, { oneCommit: true });
  const after = await runLoop(scenario, n, calendars);
  const loop = { perSecond: Math.round(((before.perSecond as number) + (after.perSecond as number)) / 2) };
  results.push({ ...q, ofCeiling: ratio(q, loop) }, { ...drain, ofCeiling: ratio(drain, loop) }, { ...before, method: `${before.method} (before)` }, { ...after, method: `${after.method} (after)` });
}
if (parts.has('burst')) await withCeiling(`${N} changes over 20 calendars`, N, 20);
if (parts.has('one')) await withCeiling(`${N / 4} changes in 1 calendar`, N / 4, 1);
if (parts.has('slow')) {
  // The fast subscriber alone, then beside one whose every answer takes 500 ms (same calendars).
  const scenario = `${N} changes over 20 calendars, 2 subscribers`;
  const alone = await runQueued(`${N} changes over 20 calendars, fast subscriber alone`, N, 20);
  const slow = await subscribe('slow');
  const withSlow = await runQueued(scenario, N, 20);
  const slowGot = await count(slow.path);
  await unsubscribe(slow.id);
  results.push(alone, { ...withSlow, method: 'calwatch: the fast one, beside one answering in 500 ms', ofAlone: ratio(withSlow, alone), slowReceivedMeanwhile: slowGot });
  // Let the slow one's last drains end (its deliveries are gone with it) before the next part.
  await waitFor(async () => {
    const [r] = await svc.service.db.sql`select count(*)::int as n from pgboss.job where name = 'fanout.deliver' and state in ('created', 'active', 'retry')`;
    return r!.n === 0;
  }, { what: 'the slow subscriber gone from the queue', timeoutMs: 120_000, intervalMs: 200 });
}
if (parts.has('trickle')) {
  results.push(await runQueued('trickle: 200 single changes, 20 ms apart, 5 calendars', 200, 5, { gapMs: 20, batch: 1 }));
}
if (parts.has('growth')) {
  const n1 = N / 10;
  const c1 = await withMemory(() => runQueued(`growth 1x calendars: ${n1} changes over 2 calendars`, n1, 2));
  const c10 = await withMemory(() => runQueued(`growth 10x calendars: ${N} changes over 20 calendars`, N, 20));
  const s1 = await withMemory(() => runQueued(`growth 1x subscribers: ${n1} changes over 20 calendars, 1 subscriber`, n1, 20));
  const s10 = await withMemory(() => runQueued(`growth 10x subscribers: ${n1} changes over 20 calendars, 10 subscribers`, n1, 20, { subscribers: 10 }));
  const per = (r: Row) => Number((((r.seconds as number) * 1000) / (r.deliveries as number)).toFixed(3));
  for (const [one, ten] of [[c1, c10], [s1, s10]] as const) {
    results.push({ ...one, msPerDelivery: per(one) }, { ...ten, msPerDelivery: per(ten), timePerDeliveryVs1x: Number((per(ten) / per(one)).toFixed(2)), peakRssVs1x: Number((ten.peakRssAboveBaseMB / Math.max(0.1, one.peakRssAboveBaseMB)).toFixed(2)) });
  }
}

console.table(
  results.map(({ scenario, method, deliveries, perSecond, p50Ms, p99Ms, inOrderPerCalendar, ofCeiling, ofAlone, peakRssAboveBaseMB, msPerDelivery, commitToReceiptP99Ms }) => ({
    scenario, method, deliveries, perSecond, p50Ms, p99Ms, inOrderPerCalendar, ofCeiling, ofAlone, peakRssAboveBaseMB, msPerDelivery, commitToReceiptP99Ms,
  })),
);
const out = {
  benchmark: 'fanout',
  at: new Date().toISOString(),
  runtime: `bun ${Bun.version}`,
  platform: `${process.platform} ${process.arch}`,
  database: 'postgres (TEST_DATABASE_URL or 127.0.0.1:5432)',
  cpus: cpus().length,
  // The machine is shared: its load during the run says how far to trust the absolute figures.
  loadAverage1mAtEnd: Number(loadavg()[0]!.toFixed(2)),
  command: `bun bench/fanout.ts ${process.argv.slice(2).join(' ')}`.trim(),
  notes: 'latency = receipt at the receiver - occurredAt (stamped just before the change set transaction); deliveries/s from the first enqueue to the last receipt; receiver verifies every signature',
  results,
};
mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
const file = join(import.meta.dir, 'results', 'fanout.json');
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${file}`);

await svc.stop();
await emu.stop();
rxProc.kill();
process.exit(0);
