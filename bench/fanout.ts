// Benchmark (not a test): `bun bench/fanout.ts [changes] [burst|trickle]` (default 2000, both).
//
// Deliveries per second to a local receiver (its own process, verifying every signature), and the
// delay from a mirror change (the commit of its change set) to its delivery, p50 / p99:
//   - calwatch: change sets handed to fan-out in their transaction (as sync does), one delivery row
//     and one `fanout.deliver` job each, key_strict_fifo per (subscription, owner, calendar), a job
//     going on with the next deliveries of its stream while they succeed (drain);
//   - baseline "unordered queue": the same rows and the same handler (without the drain, which needs
//     the key's exclusivity) on a plain `standard` pg-boss queue: one job cycle per delivery, no order;
//   - baseline "sequential": no queue, no rows: sign and POST one after another in a loop (what
//     calling subscribers inline would do; nothing survives a crash, nothing is retried).
// Three shapes: a burst spread over 20 calendars; a burst in ONE calendar (one ordered stream: its
// deliveries cannot overlap); and a steady trickle of single changes, where the latency is the one a
// change sees on an idle queue (in bursts it is mostly the wait behind the burst). Prints a table
// and writes JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { z } from 'zod';
import { startEmulator } from '../src/emulator/index.ts';
import { defineJob } from '../src/jobs/index.ts';
import type { Ctx } from '../src/context/index.ts';
import { deliveries } from '../schema/fanout.ts';
import { bodyOf, enqueueMessages, streamKey } from '../src/fanout/publish.ts';
import { deliverOnce, sendOnce } from '../src/fanout/deliver.ts';
import { monotonicUuid } from '../src/fanout/ids.ts';
import type { Message } from '../src/fanout/types.ts';
import { startTestService, waitFor } from '../tests/support/service.ts';

const N = Number(process.argv[2] ?? 2000);
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

const UNORDERED = 'bench.fanout-unordered';
const unorderedJob = defineJob({
  name: UNORDERED,
  schema: z.object({ deliveryId: z.uuid() }),
  policy: 'standard',
  retryLimit: 100,
  retryBackoff: true,
  retryDelay: 15,
  concurrency: 16,
  pollDelayed: true,
  handler: (ctx, data, job) => deliverOnce(ctx, data.deliveryId, job, { drain: false }),
});

const emu = await startEmulator({ port: 0 });
const svc = await startTestService({
  name: 'bench-fanout',
  emulatorUrl: emu.url,
  env: { LOG_LEVEL: 'warn', PUBLIC_URL: '' },
  extraModules: [{ name: 'bench', jobs: [unorderedJob] }],
});
const ctx = svc.service.ctx;
const user = await (await fetch(`${emu.url}_emulator/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com' }) })).json();
const linked = await svc.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'bench', refreshToken: user.refreshToken });
const ownerId = linked.body.result!.data.ownerId;

async function subscribe(path: string): Promise<{ id: string; secret: string }> {
  const r = await svc.trpc<{ id: string; secret: string }>('subscriptions.create', { url: `${rxUrl}${path}`, externalOwnerId: 'bench', types: ['event.created'] });
  const sub = r.body.result!.data;
  await fetch(`${rxUrl}/_secret`, { method: 'POST', body: JSON.stringify({ path, secret: sub.secret }) });
  return sub;
}

function messages(n: number, calendars: number, syncedAt: () => Date, batch = BATCH): Array<{ calendarId: string; build: () => Message[] }> {
  const sets: Array<{ calendarId: string; build: () => Message[] }> = [];
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
          const at = syncedAt();
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

type Rec = { id: string; at: number; occurredAt: number; calendarId: string; seq: number; verified: boolean };
const stats = async (path: string): Promise<Rec[]> => (await fetch(`${rxUrl}/_stats?path=${encodeURIComponent(path)}`)).json();

function summarize(scenario: string, method: string, recs: Rec[], t0: number) {
  const lat = recs.map((r) => r.at - r.occurredAt).sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!;
  const seconds = (Math.max(...recs.map((r) => r.at)) - t0) / 1000;
  // In order per calendar: the seq of each calendar's deliveries never goes down.
  const last = new Map<string, number>();
  let ordered = true;
  for (const r of [...recs].sort((a, b) => a.at - b.at)) {
    if ((last.get(r.calendarId) ?? -1) > r.seq) ordered = false;
    last.set(r.calendarId, r.seq);
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

async function runQueued(scenario: string, n: number, calendars: number, ordered: boolean, gapMs = 0, batch = BATCH) {
  const path = `/${ordered ? 'ordered' : 'unordered'}-${calendars}-${gapMs}`;
  const sub = await subscribe(path);
  const sets = messages(n, calendars, () => new Date(), batch);
  const t0 = Date.now();
  for (const set of sets) {
    if (gapMs) await Bun.sleep(gapMs);
    await ctx.db.transaction(async (tx) => {
      const msgs = set.build();
      if (ordered) {
        await enqueueMessages(tx, ctx, msgs);
        return;
      }
      // The same rows, jobs on the unordered standard queue.
      const rows = msgs.map((m) => {
        const id = monotonicUuid();
        return { id, subscriptionId: sub.id, ownerId, type: m.type, calendarId: m.calendarId, streamKey: streamKey(sub.id, ownerId, m.calendarId), body: JSON.stringify(bodyOf(m)), jobId: id, occurredAt: m.occurredAt };
      });
      await tx.insert(deliveries).values(rows);
      await ctx.jobs.sendMany(UNORDERED, rows.map((row) => ({ data: { deliveryId: row.id }, id: row.id })), { tx });
    });
  }
  const enqueueSeconds = (Date.now() - t0) / 1000;
  await waitFor(async () => (await stats(path)).length >= n, { what: `${n} deliveries on ${path}`, timeoutMs: 300_000, intervalMs: 200 });
  return { ...summarize(scenario, ordered ? 'calwatch (key_strict_fifo per calendar)' : 'baseline: unordered standard queue', await stats(path), t0), enqueueSeconds: Number(enqueueSeconds.toFixed(2)) };
}

async function runSequential(scenario: string, n: number, calendars: number) {
  const path = `/sequential-${calendars}`;
  const sub = await subscribe(path);
  const [row] = await svc.service.db.sql`select * from subscriptions where id = ${sub.id}`;
  const sets = messages(n, calendars, () => new Date());
  const t0 = Date.now();
  for (const set of sets) {
    for (const m of set.build()) {
      await sendOnce(ctx as Ctx, { id: row!.id, url: row!.url, secretEnc: row!.secret_enc }, { id: monotonicUuid(), body: JSON.stringify(bodyOf(m)) });
    }
  }
  return { ...summarize(scenario, 'baseline: sequential POSTs, no queue', await stats(path), t0), enqueueSeconds: null };
}

const only = process.argv[3]; // optional: 'burst' or 'trickle'
const results = [];
for (const [scenario, n, calendars] of only === 'trickle' ? [] : [
  [`${N} changes over 20 calendars`, N, 20],
  [`${N / 2} changes in 1 calendar`, N / 2, 1],
] as const) {
  results.push(await runQueued(scenario, n, calendars, true));
  results.push(await runQueued(scenario, n, calendars, false));
  results.push(await runSequential(scenario, n, calendars));
}
// Steady trickle: one change every 20 ms (the queue idle between them): the latency a change sees.
const trickle = 'trickle: 200 single changes, 20 ms apart, 5 calendars';
if (only !== 'burst') {
  results.push(await runQueued(trickle, 200, 5, false, 20, 1));
  results.push(await runQueued(trickle, 200, 5, true, 20, 1));
}

console.table(results);
const out = {
  benchmark: 'fanout',
  at: new Date().toISOString(),
  runtime: `bun ${Bun.version}`,
  platform: `${process.platform} ${process.arch}`,
  database: 'postgres (TEST_DATABASE_URL or 127.0.0.1:5432)',
  cpus: cpus().length,
  // The machine is shared: its load during the run says how far to trust the absolute figures.
  loadAverage1mAtEnd: Number(loadavg()[0]!.toFixed(2)),
  command: `bun bench/fanout.ts ${N}`,
  notes: 'latency = receipt at the receiver - occurredAt (stamped just before the change set transaction); 16 worker slots; receiver verifies every signature',
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
