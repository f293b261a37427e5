// Benchmark (not a test): `bun bench/changes-feed.ts [feedRows] [syncEvents]` (default 1000000 50000).
//
// 1. Feed read throughput: `feedRows` changes written straight into the feed (one owner, 20
//    calendars, an events.list-shaped event of about 450 bytes each, 100,000 per transaction), then
//    paged through from the start, 1,000 per page: with the verb (`listChanges`, in process), over
//    HTTP (`changes.list` through tRPC, what a client sees), filtered by one calendar (1/20 of the
//    rows), and the ceiling: the same keyset query in plain SQL without the snapshot bound or the
//    mapping to items. Changes per second.
// 2. What the feed adds to a full sync: four calendars of `syncEvents` events each, synced in full
//    one after the other in this run, off, on, off, on (off: the feed's reactor replaced by a
//    no-op); the sync job's own time per reactor (`reactorMs.changes`) beside the totals.
// Prints a table and writes JSON to bench/results/changes-feed.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import postgres from 'postgres';
import { listChanges } from '../src/changes/index.ts';
import { enqueueCalendarListSync, findCalendar, getCalendar, setCalendarSelected, type EventSyncResult } from '../src/sync/index.ts';
import { startTestService, waitFor } from '../tests/support/service.ts';
import { seedBenchEvents, startBenchEmulator } from './timing.ts';
import type { CalwatchModule } from '../src/context/index.ts';

const FEED_ROWS = Number(process.argv[2] ?? 1_000_000);
const SYNC_EVENTS = Number(process.argv[3] ?? 50_000);
const EMAIL = 'feed-bench@example.com';

const { url: emuUrl, emu, stop: stopEmulator } = await startBenchEmulator();

/** The feed's change-set reactor, switched on and off between the timed syncs (the same service, the same run). */
let feedOn = true;
const switchableFeed = (builtIn: CalwatchModule[]) =>
  builtIn.map((m) => {
    const record = m.name === 'changes' ? m.reactions?.eventChanges : undefined;
    return record ? { ...m, reactions: { ...m.reactions, eventChanges: async (c: Parameters<typeof record>[0], cs: Parameters<typeof record>[1]) => (feedOn ? record(c, cs) : undefined) } } : m;
  });
const svc = await startTestService({ name: 'bench-changes-feed', emulatorUrl: emuUrl, env: { PUBLIC_URL: '', LOG_LEVEL: 'warn' }, adjustModules: switchableFeed });
const ctx = svc.service.ctx;
const raw = postgres(svc.database.url!, { max: 1, onnotice: () => {} });
const user = await emu('users', { email: EMAIL });
const linked = await svc.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'feed-bench', refreshToken: user.refreshToken });
const ownerId = linked.body.result!.data.ownerId;
await waitFor(async () => (await findCalendar(ctx, ownerId, 'primary'))?.lastFullSyncAt, { what: 'primary synced' });
const rows: Array<Record<string, unknown>> = [];
const started = new Date().toISOString();

// --- 1. read throughput -----------------------------------------------------------------------
{
  const t0 = performance.now();
  for (let from = 0; from < FEED_ROWS; from += 100_000) {
    const to = Math.min(FEED_ROWS, from + 100_000);
    await raw`
      insert into changes (type, owner_id, external_owner_id, calendar_id, google_event_id, event, occurred_at)
      select 'event.created', ${ownerId}::uuid, 'feed-bench', 'cal' || (i % 20) || '@example.com', 'ev' || i,
             jsonb_build_object('googleEventId', 'ev' || i, 'calendarId', 'cal' || (i % 20) || '@example.com', 'status', 'confirmed',
               'summary', 'bench event ' || i, 'start', '2031-01-01T10:00:00.000Z', 'end', '2031-01-01T10:30:00.000Z', 'allDay', false,
               'transparency', 'opaque', 'eventType', 'default',
               'attendees', jsonb_build_array(jsonb_build_object('email', ${EMAIL}::text, 'responseStatus', 'accepted', 'self', true),
                                              jsonb_build_object('email', 'guest' || (i % 50) || '@example.com', 'responseStatus', 'needsAction')),
               'updated', '2030-12-01T09:00:00.000Z'),
             now()
        from generate_series(${from}::int, ${to - 1}::int) as i`;
  }
  await raw`vacuum analyze changes`;
  console.error(`wrote ${FEED_ROWS} feed rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const pageThrough = async (method: string, page: (after: string | undefined) => Promise<{ n: number; next: string | undefined }>, expected: number) => {
    const t = performance.now();
    let after: string | undefined;
    let total = 0;
    for (;;) {
      const { n, next } = await page(after);
      if (n === 0) break;
      total += n;
      after = next;
    }
    const seconds = (performance.now() - t) / 1000;
    if (total < expected) throw new Error(`${method}: read ${total}, expected at least ${expected}`);
    rows.push({ part: 'read', method, changes: total, seconds: +seconds.toFixed(2), changesPerSecond: Math.round(total / seconds) });
    console.error(rows.at(-1));
  };
  // The ceiling: the keyset query alone, rows as Postgres returns them.
  await pageThrough('ceiling: keyset select in SQL, 1,000 per page', async (after) => {
    const [x = '0', s = '0'] = after ? after.split('.') : [];
    const r = await raw`select xid::text as xid, seq, type, external_owner_id, calendar_id, google_event_id, occurred_at, event, data
                          from changes where (xid, seq) > (${x}::xid8, ${s}::bigint) order by changes.xid, changes.seq limit 1000`;
    const last = r.at(-1);
    return { n: r.length, next: last ? `${last.xid}.${last.seq}` : undefined };
  }, FEED_ROWS);
  await pageThrough('changes.list verb (in process), 1,000 per page', async (after) => {
    const r = await listChanges(ctx, { ...(after ? { after } : {}), limit: 1000 });
    return { n: r.items.length, next: r.nextCursor ?? undefined };
  }, FEED_ROWS);
  await pageThrough('changes.list over HTTP (tRPC), 1,000 per page', async (after) => {
    const r = await svc.trpc<{ items: unknown[]; nextCursor: string | null }>('changes.list', { ...(after ? { after } : {}), limit: 1000 });
    const data = r.body.result!.data;
    return { n: data.items.length, next: data.nextCursor ?? undefined };
  }, FEED_ROWS);
  await pageThrough('changes.list verb, one calendar of 20, 1,000 per page', async (after) => {
    const r = await listChanges(ctx, { ...(after ? { after } : {}), calendarId: 'cal7@example.com', limit: 1000 });
    return { n: r.items.length, next: r.nextCursor ?? undefined };
  }, FEED_ROWS / 20);
  await raw`delete from changes`;
}

// --- 2. the feed's cost in a full sync ---------------------------------------------------------
const seed = (calendarId: string, n: number) => seedBenchEvents(emu, calendarId, n, EMAIL);

async function fullSync(calendarId: string, feed: boolean): Promise<void> {
  await emu('calendars', { owner: EMAIL, id: calendarId, summary: calendarId, timeZone: 'UTC' });
  await seed(calendarId, SYNC_EVENTS);
  await enqueueCalendarListSync(ctx, ownerId);
  const cal = await waitFor(async () => findCalendar(ctx, ownerId, calendarId), { what: 'calendar listed' });
  feedOn = feed;
  const t0 = performance.now();
  await setCalendarSelected(ctx, { ownerId, calendarId, selected: true });
  await waitFor(async () => (await getCalendar(ctx, cal.id))?.lastFullSyncAt, { what: 'full sync', timeoutMs: 600_000, intervalMs: 10 });
  const seconds = (performance.now() - t0) / 1000;
  // The job completes just after its last page commits: its own timings are read once it has.
  const job = await waitFor(async () => {
    const [j] = await raw`select output from pgboss.job where name = 'sync.events' and singleton_key = ${cal.id} and state = 'completed' order by completed_on desc limit 1`;
    return j;
  }, { what: 'the sync job completed' });
  const out = (job?.output ?? {}) as Partial<EventSyncResult>;
  const [{ n }] = (await raw`select count(*)::int as n from changes where calendar_id = ${calendarId}`) as unknown as [{ n: number }];
  rows.push({
    part: 'full sync',
    method: feed ? 'feed reactor on' : 'feed reactor off (no-op)',
    events: SYNC_EVENTS,
    seconds: +seconds.toFixed(2),
    eventsPerSecond: Math.round(SYNC_EVENTS / seconds),
    pageTransactionsS: out.writeMs !== undefined ? +(out.writeMs / 1000).toFixed(2) : undefined,
    reactorsS: out.reactorsMs !== undefined ? +(out.reactorsMs / 1000).toFixed(2) : undefined,
    feedReactorS: out.reactorMs?.changes !== undefined ? +(out.reactorMs.changes / 1000).toFixed(2) : undefined,
    feedRows: n,
  });
  console.error(rows.at(-1));
}
// Warm-up (not measured), then off and on.
{
  await emu('calendars', { owner: EMAIL, id: 'warm@example.com', summary: 'warm', timeZone: 'UTC' });
  await seed('warm@example.com', 2500);
  await enqueueCalendarListSync(ctx, ownerId);
  const cal = await waitFor(async () => findCalendar(ctx, ownerId, 'warm@example.com'), { what: 'warm-up listed' });
  await setCalendarSelected(ctx, { ownerId, calendarId: 'warm@example.com', selected: true });
  await waitFor(async () => (await getCalendar(ctx, cal.id))?.lastFullSyncAt, { what: 'warm-up sync', timeoutMs: 120_000 });
}
// Alternated, twice: the machine's load moves between runs.
await fullSync('off1@example.com', false);
await fullSync('on1@example.com', true);
await fullSync('off2@example.com', false);
await fullSync('on2@example.com', true);

console.table(rows);
const result = { started, finished: new Date().toISOString(), cpus: cpus().length, loadavg: loadavg(), feedRows: FEED_ROWS, syncEvents: SYNC_EVENTS, rows };
mkdirSync(join(import.meta.dir, 'results'), { recursive: true });
writeFileSync(join(import.meta.dir, 'results', 'changes-feed.json'), JSON.stringify(result, null, 2));
console.log(`wrote bench/results/changes-feed.json`);
await raw.end();
await svc.stop();
stopEmulator();
process.exit(0);
