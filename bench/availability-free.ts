// Benchmark of availability.free for several owners: `bun bench/availability-free.ts`.
//
// Ten owners, one calendar each, in ten European and African zones (each owner's working hours read
// in its own zone), 2,000 one-off meetings, 60 all-day events and 10 weekly series per owner over
// one year, fed through the change-set handler as a full sync would. Then, in one run, p50/p99 of
// the verb behind availability.free (findFreeSlots, no HTTP), 30-minute slots every 30 minutes with
// 10-minute buffers before and after busy time, weekday working hours 09:00-17:00:
// - one owner (the single-owner form), over 1 year and over 4 weeks;
// - ten owners, required "all", over 1 year and over 4 weeks (the aim: p99 under 50 ms for 4 weeks);
// - ten owners, required 5 (each slot with who is free), over 1 year and over 4 weeks.
// Each ten-owner answer is checked against the single-owner answers of the same ten owners (a slot
// is in it exactly when enough of them have it). Where the time goes: the busy read alone
// (busyOfOwners, the one statement of merged busy rows of all ten owners) over the same ranges, and
// the statement before #23 (windows partitioned by owner, then grouped) in the same run.
// Prints a table, writes bench/results/availability-free.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { inTransaction, type ChangeSet, type EventChange, type MirrorEvent } from '../src/context/index.ts';
import { applyChangeSet } from '../src/availability/apply-changes.ts';
import { findFreeSlots, type FreeInput, type FreeSlot } from '../src/availability/free.ts';
import { busyOfOwners, ownerByExternalId } from '../src/availability/busy.ts';
import { measure, openAvailabilityBench } from './timing.ts';

const OWNERS = 10;
const MEETINGS = 2000;
const ALL_DAY = 60;
const SERIES = 10;
const ZONES = ['Europe/Berlin', 'Europe/London', 'Europe/Lisbon', 'Europe/Paris', 'Europe/Madrid', 'Africa/Lagos', 'Europe/Amsterdam', 'Europe/Rome', 'Europe/Stockholm', 'Europe/Dublin'];
const DAY = 86_400_000;
const PAGE = 2500;

// --- deterministic data -------------------------------------------------------------------------

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A wall time in `tz` as Google writes it (the offset looked up with Intl, not with our code). */
function local(tz: string, dayMs: number, minutes: number): string {
  const wall = dayMs + minutes * 60_000;
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(new Date(wall - 3600_000));
  const off = parts.find((p) => p.type === 'timeZoneName')!.value.replace('GMT', '') || '+00:00';
  return `${ymd(dayMs)}T${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}:00${off}`;
}

function generate(tz: string, startDay: number, n: number): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  const weekday = (): number => {
    for (;;) {
      const d = startDay + Math.floor(rand() * 365) * DAY;
      const wd = new Date(d).getUTCDay();
      if (wd !== 0 && wd !== 6) return d;
    }
  };
  for (let i = 0; i < SERIES; i++) {
    const d = startDay + Math.floor(rand() * 14) * DAY;
    const minutes = (9 + Math.floor(rand() * 7)) * 60;
    out.push({
      id: `o${n}ser${i}`,
      status: 'confirmed',
      start: { dateTime: local(tz, d, minutes), timeZone: tz },
      end: { dateTime: local(tz, d, minutes + 30), timeZone: tz },
      recurrence: [`RRULE:FREQ=WEEKLY;BYDAY=${pick(['MO', 'TU', 'WE', 'TH', 'FR'])}`],
    });
  }
  for (let i = 0; i < ALL_DAY; i++) {
    const d = weekday();
    out.push({ id: `o${n}all${i}`, status: 'confirmed', start: { date: ymd(d) }, end: { date: ymd(d + DAY) } });
  }
  for (let i = 0; i < MEETINGS; i++) {
    const d = weekday();
    const minutes = (8 + Math.floor(rand() * 10)) * 60 + pick([0, 15, 30, 45]);
    const length = pick([15, 30, 45, 60, 90]);
    const extra = rand() < 0.05 ? { transparency: 'transparent' } : {};
    out.push({ id: `o${n}one${i}`, status: 'confirmed', start: { dateTime: local(tz, d, minutes) }, end: { dateTime: local(tz, d, minutes + length) }, ...extra });
  }
  return out;
}

// --- harness --------------------------------------------------------------------------------------

interface Cal {
  ownerId: string;
  externalOwnerId: string;
  id: string;
  googleId: string;
  tz: string;
}

function mirror(raw: Record<string, any>, cal: Cal): MirrorEvent {
  const start = raw.start ?? {};
  const end = raw.end ?? {};
  return {
    ownerId: cal.ownerId,
    externalOwnerId: cal.externalOwnerId,
    calendarRowId: cal.id,
    calendarId: cal.googleId,
    calendarTimeZone: cal.tz,
    googleEventId: raw.id,
    status: raw.status ?? 'confirmed',
    summary: null,
    startAt: start.dateTime ? new Date(start.dateTime) : null,
    endAt: end.dateTime ? new Date(end.dateTime) : null,
    startDate: start.date ?? null,
    endDate: end.date ?? null,
    timeZone: start.timeZone ?? null,
    allDay: !!start.date,
    transparency: raw.transparency ?? 'opaque',
    eventType: 'default',
    recurrence: raw.recurrence ?? null,
    recurringEventId: null,
    originalStartTime: null,
    organizerEmail: null,
    attendees: [],
    updated: null,
    etag: null,
    raw,
  };
}


async function main() {
  const { database, client, db, ctx } = await openAvailabilityBench();

  try {
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const cals: Cal[] = [];
    for (let n = 0; n < OWNERS; n++) {
      const externalOwnerId = `bench-free-${n}`;
      const tz = ZONES[n]!;
      const [owner] = await client`insert into owners (external_owner_id, status) values (${externalOwnerId}, 'active') returning id`;
      const googleId = `owner${n}@example.com`;
      const [row] = await client`insert into calendars (owner_id, external_owner_id, google_calendar_id, time_zone, "primary", selected)
        values (${owner!.id}, ${externalOwnerId}, ${googleId}, ${tz}, true, true) returning id`;
      cals.push({ ownerId: owner!.id as string, externalOwnerId, id: row!.id as string, googleId, tz });
    }

    const t0 = performance.now();
    let events = 0;
    for (let n = 0; n < OWNERS; n++) {
      const cal = cals[n]!;
      const raws = generate(cal.tz, today, n);
      events += raws.length;
      for (let i = 0; i < raws.length; i += PAGE) {
        const changes: EventChange[] = raws.slice(i, i + PAGE).map((raw) => ({ kind: 'created', event: mirror(raw, cal) }));
        const cs: ChangeSet = {
          ownerId: cal.ownerId,
          externalOwnerId: cal.externalOwnerId,
          calendarRowId: cal.id,
          calendarId: cal.googleId,
          calendarTimeZone: cal.tz,
          fullSync: true,
          syncedAt: new Date(),
          changes,
        };
        await db.transaction((tx) => applyChangeSet(inTransaction(ctx, tx), cs));
      }
    }
    const ingestMs = performance.now() - t0;
    const [{ n: blockedRows }] = (await client`select count(*)::int as n from blocked_times`) as unknown as [{ n: number }];
    await client`vacuum analyze`;

    const ids = cals.map((c) => c.externalOwnerId);
    const from = new Date(today + DAY);
    const yearTo = new Date(from.getTime() + 365 * DAY);
    const weeksTo = new Date(from.getTime() + 28 * DAY);
    const common = {
      durationMinutes: 30,
      slotStepMinutes: 30,
      bufferBeforeMinutes: 10,
      bufferAfterMinutes: 10,
      workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    } satisfies Partial<FreeInput>;
    const single = (to: Date): FreeInput => ({ ...common, externalOwnerId: ids[0]!, from, to });
    const all = (to: Date): FreeInput => ({ ...common, externalOwnerIds: ids, from, to });
    const five = (to: Date): FreeInput => ({ ...common, externalOwnerIds: ids, required: 5, from, to });

    // The check: a slot is in the ten-owner answer exactly when enough owners have it on their own.
    const key = (s: FreeSlot) => s.start.getTime();
    const perOwner = await Promise.all(ids.map(async (id) => new Set((await findFreeSlots(ctx, { ...common, externalOwnerId: id, from, to: yearTo })).map(key))));
    const check = (got: FreeSlot[], required: number): boolean => {
      const counted = new Map<number, string[]>();
      perOwner.forEach((set, n) => {
        for (const k of set) counted.set(k, [...(counted.get(k) ?? []), ids[n]!]);
      });
      const expected = [...counted].filter(([, who]) => who.length >= required).sort((a, b) => a[0] - b[0]);
      if (expected.length !== got.length) return false;
      return expected.every(([k, who], i) => got[i]!.start.getTime() === k && (required === OWNERS || JSON.stringify(got[i]!.externalOwnerIds) === JSON.stringify(who)));
    };
    const allYear = await findFreeSlots(ctx, all(yearTo));
    const fiveYear = await findFreeSlots(ctx, five(yearTo));
    const singleYear = await findFreeSlots(ctx, single(yearTo));
    const same = check(allYear, OWNERS) && check(fiveYear, 5) && singleYear.length === perOwner[0]!.size;

    // The busy read alone, as findFreeSlots asks it (widened by the buffers), and the previous statement.
    const ownerRows = await Promise.all(ids.map((id) => ownerByExternalId(ctx, id)));
    const widened = (to: Date): [Date, Date] => [new Date(from.getTime() - 10 * 60_000), new Date(to.getTime() + 10 * 60_000)];
    const busyRead = (to: Date) => busyOfOwners(ctx, ownerRows.map((owner) => ({ owner })), ...widened(to));
    const previous = (to: Date) =>
      client.unsafe(
        `with b as (select owner_id::text as o, start_at as s, end_at as e from blocked_times where owner_id = any($1::uuid[]) and start_at < $3::timestamptz and end_at > $2::timestamptz),
        o as (select o, s, e, max(e) over w as prev_end from b window w as (partition by o order by s, e rows between unbounded preceding and 1 preceding)),
        g as (select o, s, e, sum(case when prev_end is null or s > prev_end then 1 else 0 end) over (partition by o order by s, e rows unbounded preceding) as island from o)
        select o, (extract(epoch from greatest(min(s), $2::timestamptz)) * 1000)::float8 as s, (extract(epoch from least(max(e), $3::timestamptz)) * 1000)::float8 as e
        from g group by o, island order by o, 2`,
        [ownerRows.map((o) => o.id), ...widened(to).map((d) => d.toISOString())],
      );
    const nowRead = await busyRead(yearTo);
    const before = await previous(yearTo);
    const beforeByOwner = (id: string) => before.filter((r: any) => r.o === id).map((r: any) => [Number(r.s), Number(r.e)]);
    const readSame = ownerRows.every((o) => JSON.stringify((nowRead.get(o.id) ?? []).map((i) => [i.start, i.end])) === JSON.stringify(beforeByOwner(o.id)));

    const table = [
      ['busy read alone, 10 owners, 1 year', await measure(30, () => busyRead(yearTo))],
      ['  previous busy statement, 1 year', await measure(30, () => previous(yearTo))],
      ['busy read alone, 10 owners, 4 weeks', await measure(200, () => busyRead(weeksTo))],
      ['  previous busy statement, 4 weeks', await measure(200, () => previous(weeksTo))],
      ['1 owner, 1 year', await measure(50, () => findFreeSlots(ctx, single(yearTo)))],
      ['1 owner, 4 weeks', await measure(200, () => findFreeSlots(ctx, single(weeksTo)))],
      ['10 owners, required all, 1 year', await measure(30, () => findFreeSlots(ctx, all(yearTo)))],
      ['10 owners, required all, 4 weeks', await measure(200, () => findFreeSlots(ctx, all(weeksTo)))],
      ['10 owners, required 5, 1 year', await measure(30, () => findFreeSlots(ctx, five(yearTo)))],
      ['10 owners, required 5, 4 weeks', await measure(200, () => findFreeSlots(ctx, five(weeksTo)))],
    ] as const;

    const [{ v: pgVersion }] = (await client`select current_setting('server_version') as v`) as unknown as [{ v: string }];
    const ms = (x: number) => Math.round(x * 100) / 100;
    console.log(`\navailability.free benchmark: ${OWNERS} owners, ${events} events, ${blockedRows} blocked-time rows`);
    console.log(`ingest through the change-set handler: ${ms(ingestMs)} ms`);
    console.log(`slots over 1 year: 1 owner ${singleYear.length}, 10 owners all ${allYear.length}, 10 owners 5 of 10 ${fiveYear.length}; matches the single-owner answers: ${same}; busy read equals the previous statement's: ${readSame}`);
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)} (other work on the machine inflates every figure)\n`);
    console.log(`${'case'.padEnd(40)} ${'p50 ms'.padStart(10)} ${'p99 ms'.padStart(10)} ${'mean ms'.padStart(10)} ${'runs'.padStart(6)}`);
    for (const [name, r] of table) {
      console.log(`${name.padEnd(40)} ${String(ms(r.p50)).padStart(10)} ${String(ms(r.p99)).padStart(10)} ${String(ms(r.mean)).padStart(10)} ${String(r.n).padStart(6)}`);
    }

    const result = {
      benchmark: 'availability-free',
      command: 'bun bench/availability-free.ts',
      at: new Date().toISOString(),
      machine: { loadAverage1m: ms(loadavg()[0]!), cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), bun: Bun.version, postgres: pgVersion, database: database.kind },
      data: { owners: OWNERS, zones: ZONES, events, blockedTimeRows: blockedRows, slotsOneYear: { single: singleYear.length, all: allYear.length, fiveOfTen: fiveYear.length } },
      query: common,
      ingestMs: ms(ingestMs),
      matchesSingleOwnerAnswers: same,
      busyReadMatchesPreviousStatement: readSame,
      results: Object.fromEntries(table.map(([name, r]) => [name, { p50Ms: ms(r.p50), p99Ms: ms(r.p99), meanMs: ms(r.mean), runs: r.n }])),
    };
    const dir = join(import.meta.dir, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'availability-free.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwritten: bench/results/availability-free.json`);
    if (!same || !readSame) process.exitCode = 1;
  } finally {
    await client.end({ timeout: 2 });
    await database.drop();
  }
}

await main();
