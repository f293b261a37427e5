// Benchmark of availability: `bun bench/availability.ts`.
//
// One owner, 5 calendars (Europe/Berlin), 20,000 Google events over one year (one-off meetings,
// all-day events, daily and weekly series with moved and cancelled instances), fed through the
// change-set handler in pages of 2,500 as a full sync would. Then, in one run:
// - availability.busy over one year (and over one week), p50/p99: the verb reading blocked_times;
// - the naive baseline: expanding every event at query time from the stored sources;
// - re-expanding one changed series (a change set with its master), p50/p99, against the naive
//   baseline of recomputing all of the owner's blocked times on any change.
// Prints a table and writes bench/results/availability.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { runMigrations } from '../src/db/index.ts';
import { createLogger } from '../src/log/index.ts';
import { systemClock, type Ctx } from '../src/context/index.ts';
import type { ChangeSet, EventChange, MirrorEvent } from '../src/sync/index.ts';
import { busyIntervals } from '../src/availability/index.ts';
import { applyChangeSet } from '../src/availability/apply-changes.ts';
import { blockedTimesFor, DEFAULT_PREFERENCES } from '../src/availability/blocked-times.ts';
import { mergeIntervals, clipIntervals } from '../src/availability/intervals.ts';
import { groupSeries, rebuildSeries } from '../src/availability/rebuild.ts';
import { fromSourceRow, loadOwnerSources } from '../src/availability/store.ts';
import { horizonAt } from '../src/availability/horizon.ts';
import { createTestDatabase } from '../tests/support/db.ts';

const EVENTS = 20_000;
const CALENDARS = 5;
const TZ = 'Europe/Berlin';
const DAY = 86_400_000;
const PAGE = 2500;

// --- deterministic data -------------------------------------------------------------------------

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A Berlin wall time as Google writes it (the offset is looked up with Intl, not with our code). */
function berlin(dayMs: number, minutes: number): string {
  const wall = dayMs + minutes * 60_000;
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: TZ, timeZoneName: 'longOffset' }).formatToParts(new Date(wall - 3600_000));
  const off = parts.find((p) => p.type === 'timeZoneName')!.value.replace('GMT', '') || '+00:00';
  return `${ymd(dayMs)}T${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}:00${off}`;
}
const id = (prefix: string, n: number) => `${prefix}${n.toString(32).padStart(6, '0')}`;

interface GEvent {
  calendar: number;
  raw: Record<string, any>;
}

function generate(startDay: number): { events: GEvent[]; seriesMasters: GEvent[] } {
  const events: GEvent[] = [];
  const seriesMasters: GEvent[] = [];
  const series = 100;
  const exceptions = 200;
  const allDay = 200;
  const singles = EVENTS - series - exceptions - allDay;
  for (let i = 0; i < series; i++) {
    const d = startDay + Math.floor(rand() * 60) * DAY;
    const minutes = (8 + Math.floor(rand() * 9)) * 60;
    const weekly = i % 2 === 0;
    const rule = weekly ? `RRULE:FREQ=WEEKLY;BYDAY=${pick(['MO', 'TU', 'WE', 'TH', 'FR'])}` : 'RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR';
    const exdate = `EXDATE;TZID=${TZ}:${ymd(d + 14 * DAY).replace(/-/g, '')}T${pad(minutes / 60)}0000`;
    const ev: GEvent = {
      calendar: i % CALENDARS,
      raw: {
        id: id('ser', i),
        status: 'confirmed',
        summary: `Series ${i}`,
        start: { dateTime: berlin(d, minutes), timeZone: TZ },
        end: { dateTime: berlin(d, minutes + 30), timeZone: TZ },
        recurrence: [rule, exdate],
      },
    };
    events.push(ev);
    seriesMasters.push(ev);
  }
  for (let i = 0; i < exceptions; i++) {
    const m = seriesMasters[i % series]!;
    const d = Date.parse(`${m.raw.start.dateTime.slice(0, 10)}T00:00:00Z`) + (7 * (1 + Math.floor(i / series)) + 0) * DAY;
    const minutes = Number(m.raw.start.dateTime.slice(11, 13)) * 60;
    const original = berlin(d, minutes);
    const suffix = new Date(original).toISOString().replace(/[-:]/g, '').replace('.000', '');
    const cancelled = i % 3 === 0;
    events.push({
      calendar: m.calendar,
      raw: cancelled
        ? { id: `${m.raw.id}_${suffix}`, status: 'cancelled', recurringEventId: m.raw.id, originalStartTime: { dateTime: original, timeZone: TZ } }
        : {
            id: `${m.raw.id}_${suffix}`,
            status: 'confirmed',
            summary: 'moved',
            recurringEventId: m.raw.id,
            originalStartTime: { dateTime: original, timeZone: TZ },
            start: { dateTime: berlin(d + DAY, minutes + 120), timeZone: TZ },
            end: { dateTime: berlin(d + DAY, minutes + 150), timeZone: TZ },
          },
    });
  }
  for (let i = 0; i < allDay; i++) {
    const d = startDay + Math.floor(rand() * 365) * DAY;
    const days = 1 + Math.floor(rand() * 3);
    events.push({ calendar: i % CALENDARS, raw: { id: id('all', i), status: 'confirmed', summary: 'Off', start: { date: ymd(d) }, end: { date: ymd(d + days * DAY) } } });
  }
  for (let i = 0; i < singles; i++) {
    const d = startDay + Math.floor(rand() * 365) * DAY;
    const minutes = (7 + Math.floor(rand() * 11)) * 60 + pick([0, 15, 30, 45]);
    const length = pick([15, 30, 45, 60, 90, 120]);
    const extra = rand() < 0.05 ? { transparency: 'transparent' } : rand() < 0.05 ? { status: 'tentative' } : {};
    events.push({
      calendar: i % CALENDARS,
      raw: { id: id('one', i), status: 'confirmed', summary: 'Meeting', start: { dateTime: berlin(d, minutes) }, end: { dateTime: berlin(d, minutes + length) }, ...extra },
    });
  }
  return { events, seriesMasters };
}

// --- harness --------------------------------------------------------------------------------------

function mirror(raw: Record<string, any>, cal: { id: string; googleId: string }, ownerId: string): MirrorEvent {
  const start = raw.start ?? {};
  const end = raw.end ?? {};
  return {
    ownerId,
    externalOwnerId: 'bench-owner',
    calendarRowId: cal.id,
    calendarId: cal.googleId,
    calendarTimeZone: TZ,
    googleEventId: raw.id,
    status: raw.status ?? 'confirmed',
    summary: raw.summary ?? null,
    startAt: start.dateTime ? new Date(start.dateTime) : null,
    endAt: end.dateTime ? new Date(end.dateTime) : null,
    startDate: start.date ?? null,
    endDate: end.date ?? null,
    timeZone: start.timeZone ?? null,
    allDay: !!start.date,
    transparency: raw.transparency ?? 'opaque',
    eventType: 'default',
    recurrence: raw.recurrence ?? null,
    recurringEventId: raw.recurringEventId ?? null,
    originalStartTime: raw.originalStartTime?.dateTime ?? null,
    organizerEmail: null,
    attendees: [],
    updated: null,
    etag: null,
    raw,
  };
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
async function measure(n: number, fn: () => Promise<unknown>, warmup = 3): Promise<{ p50: number; p99: number; mean: number; n: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((a, b) => a + b, 0) / n, n };
}

async function main() {
  const database = await createTestDatabase();
  await runMigrations(database.url);
  const client = postgres(database.url, { max: 4, onnotice: () => {} });
  const db = drizzle(client);
  const ctx = {
    db,
    log: createLogger({ level: 'silent' }),
    clock: systemClock,
    config: { availability: { horizonDays: 180 } },
  } as unknown as Ctx;

  try {
    const [owner] = await client`insert into owners (external_owner_id, status) values ('bench-owner', 'active') returning id`;
    const ownerId = owner!.id as string;
    const cals: Array<{ id: string; googleId: string }> = [];
    for (let c = 0; c < CALENDARS; c++) {
      const googleId = c === 0 ? 'bench@example.com' : `cal${c}@group.calendar.google.com`;
      const [row] = await client`insert into calendars (owner_id, external_owner_id, google_calendar_id, time_zone, "primary", selected)
        values (${ownerId}, 'bench-owner', ${googleId}, ${TZ}, ${c === 0}, true) returning id`;
      cals.push({ id: row!.id as string, googleId });
    }

    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const { events, seriesMasters } = generate(today);

    // Ingest as a full sync would: pages of 2,500 per calendar, each in its own transaction.
    const t0 = performance.now();
    let pages = 0;
    for (let c = 0; c < CALENDARS; c++) {
      const mine = events.filter((e) => e.calendar === c);
      for (let i = 0; i < mine.length; i += PAGE) {
        const changes: EventChange[] = mine.slice(i, i + PAGE).map((e) => ({ kind: 'created', event: mirror(e.raw, cals[c]!, ownerId) }));
        const cs: ChangeSet = {
          ownerId,
          externalOwnerId: 'bench-owner',
          calendarRowId: cals[c]!.id,
          calendarId: cals[c]!.googleId,
          calendarTimeZone: TZ,
          fullSync: true,
          syncedAt: new Date(),
          changes,
        };
        await db.transaction((tx) => applyChangeSet(tx, ctx, cs));
        pages++;
      }
    }
    const ingestMs = performance.now() - t0;
    const [{ n: blockedRows }] = (await client`select count(*)::int as n from blocked_times`) as unknown as [{ n: number }];
    // A steady-state table: autovacuum has set the visibility map (index-only scans skip the heap).
    await client`vacuum analyze`;

    const from = new Date(today);
    const yearTo = new Date(today + 365 * DAY);
    const weekTo = new Date(today + 7 * DAY);
    const yearly = await busyIntervals(ctx, { ownerId, from, to: yearTo });

    const busyYear = await measure(200, () => busyIntervals(ctx, { ownerId, from, to: yearTo }));
    const busyWeek = await measure(500, () => busyIntervals(ctx, { ownerId, from, to: weekTo }));

    // Naive baseline: no table of blocked times, every event expanded at query time.
    const naive = async (to: Date) => {
      const rows = await loadOwnerSources(db, ownerId);
      const groups = groupSeries(rows.map((r) => ({ ...r, source: fromSourceRow(r) })));
      // The same horizon as the table (series up to today + 180 days), so that both answer the same.
      const h = horizonAt(new Date(), 180);
      const window = { from: h.from, until: Math.min(to.getTime(), h.until) };
      const all = groups.flatMap((g) => blockedTimesFor(g.members, g.calendarTimeZone, DEFAULT_PREFERENCES, window));
      return mergeIntervals(clipIntervals(mergeIntervals(all), from.getTime(), to.getTime()));
    };
    const naiveYearResult = await naive(yearTo);
    const same = JSON.stringify(naiveYearResult) === JSON.stringify(yearly.map((i) => ({ start: i.start.getTime(), end: i.end.getTime() })));
    const naiveYear = await measure(20, () => naive(yearTo), 2);
    const naiveWeek = await measure(20, () => naive(weekTo), 2);

    // Re-expanding a changed series: a change set carrying its master (moved by 15 minutes, back and forth).
    const target = seriesMasters[1]!; // a daily series (weekdays) with instances
    const cal = cals[target.calendar]!;
    let flip = false;
    const changeSeries = async () => {
      flip = !flip;
      const start = target.raw.start.dateTime as string;
      const shifted = { ...target.raw, start: { ...target.raw.start, dateTime: flip ? start.replace(/:00:00/, ':15:00') : start } };
      const cs: ChangeSet = {
        ownerId,
        externalOwnerId: 'bench-owner',
        calendarRowId: cal.id,
        calendarId: cal.googleId,
        calendarTimeZone: TZ,
        fullSync: false,
        syncedAt: new Date(),
        changes: [{ kind: 'updated', event: mirror(shifted, cal, ownerId), previous: mirror(target.raw, cal, ownerId) }],
      };
      await db.transaction((tx) => applyChangeSet(tx, ctx, cs));
    };
    const [{ n: seriesRows }] = (await client`select count(*)::int as n from blocked_times where series_id = ${target.raw.id}`) as unknown as [{ n: number }];
    const reexpand = await measure(100, changeSeries);

    // Naive baseline for a change: recompute every blocked time of the owner.
    const rebuildAll = async () => {
      await db.transaction(async (tx) => {
        const rows = await loadOwnerSources(tx, ownerId);
        const groups = groupSeries(rows.map((r) => ({ ...r, source: fromSourceRow(r) })));
        await rebuildSeries(tx, ctx, groups, () => DEFAULT_PREFERENCES, horizonAt(new Date(), 180));
      });
    };
    const rebuild = await measure(5, rebuildAll, 1);

    const [{ v: pgVersion }] = (await client`select current_setting('server_version') as v`) as unknown as [{ v: string }];
    const ms = (x: number) => Math.round(x * 100) / 100;
    const table = [
      ['availability.busy, 1 year (blocked_times)', busyYear],
      ['naive: expand at query time, 1 year', naiveYear],
      ['availability.busy, 1 week (blocked_times)', busyWeek],
      ['naive: expand at query time, 1 week', naiveWeek],
      ['re-expand one changed series (change set)', reexpand],
      ['naive: recompute all blocked times of the owner', rebuild],
    ] as const;

    console.log(`\navailability benchmark: ${EVENTS} events, ${CALENDARS} calendars, 1 owner (${TZ}), ${blockedRows} blocked-time rows`);
    console.log(`ingest through the change-set handler: ${pages} pages of up to ${PAGE} in ${ms(ingestMs)} ms`);
    console.log(`busy over 1 year: ${yearly.length} merged intervals; naive baseline gives the same answer: ${same}`);
    console.log(`changed series: ${seriesRows} blocked-time rows replaced per change`);
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)} (other work on the machine inflates every figure)\n`);
    console.log(`${'case'.padEnd(50)} ${'p50 ms'.padStart(10)} ${'p99 ms'.padStart(10)} ${'mean ms'.padStart(10)} ${'runs'.padStart(6)}`);
    for (const [name, r] of table) {
      console.log(`${name.padEnd(50)} ${String(ms(r.p50)).padStart(10)} ${String(ms(r.p99)).padStart(10)} ${String(ms(r.mean)).padStart(10)} ${String(r.n).padStart(6)}`);
    }

    const result = {
      benchmark: 'availability',
      command: 'bun bench/availability.ts',
      at: new Date().toISOString(),
      machine: { loadAverage1m: Math.round(loadavg()[0]! * 100) / 100, cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), bun: Bun.version, postgres: pgVersion, database: database.kind },
      data: { events: EVENTS, calendars: CALENDARS, timeZone: TZ, blockedTimeRows: blockedRows, mergedIntervalsOneYear: yearly.length, seriesRowsPerChange: seriesRows },
      ingest: { pages, ms: ms(ingestMs) },
      naiveMatchesTable: same,
      results: Object.fromEntries(table.map(([name, r]) => [name, { p50Ms: ms(r.p50), p99Ms: ms(r.p99), meanMs: ms(r.mean), runs: r.n }])),
    };
    const dir = join(import.meta.dir, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'availability.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwritten: bench/results/availability.json`);
    if (!same) process.exitCode = 1;
  } finally {
    await client.end({ timeout: 2 });
    await database.drop();
  }
}

await main();
