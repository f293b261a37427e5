// Benchmark of availability: `bun bench/availability.ts [events ...]` (default: 2000 20000).
//
// One owner, 5 calendars (Europe/Berlin), N Google events over one year (one-off meetings, all-day
// events, daily and weekly series with moved and cancelled instances; at 20,000: 19,500 one-off,
// 200 all-day, 100 series, 200 instances, the same proportions at other sizes), fed through the
// change-set handler in pages of 2,500 as a full sync would, and written to the sync's mirror
// (calendar_events) as the sync would. Then, for each size, in one run:
// - availability.busy over one year (and over one week), p50/p99: the verb reading blocked_times,
//   merged in one SQL pass; its EXPLAIN ANALYZE, and the same statement under work_mem = 64 kB
//   (temp blocks written: 0 means the merge needs no more memory than that at this size);
// - the SQL baseline: the same answer from the mirror without the precomputed rows, in one query
//   (one-off events by the mirror's own (owner, start) index, series expanded with generate_series,
//   EXDATEs and moved/cancelled instances taken out, merged with range_agg), checked equal;
// - the process's heap and RSS growth over the busy loop;
// at 20,000 events also the older JS baseline (expanding every stored source at query time) and
// re-expanding one changed series against recomputing the owner's blocked times.
// Prints tables and writes bench/results/availability.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { inTransaction, type ChangeSet, type EventChange, type MirrorEvent } from '../src/context/index.ts';
import { busyIntervals } from '../src/availability/index.ts';
import { busyStatement } from '../src/availability/busy.ts';
import { PgDialect } from 'drizzle-orm/pg-core';
import { calendarEvents } from '../schema/sync.ts';
import { applyChangeSet } from '../src/availability/apply-changes.ts';
import { blockedTimesFor, DEFAULT_PREFERENCES } from '../src/availability/blocked-times.ts';
import { mergeIntervals, clipIntervals } from '../src/availability/intervals.ts';
import { groupSeries, rebuildSeries } from '../src/availability/rebuild.ts';
import { fromSourceRow, loadOwnerSources } from '../src/availability/store.ts';
import { horizonAt } from '../src/availability/horizon.ts';
import { measure, openAvailabilityBench } from './timing.ts';

const SIZES = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n >= 1000);
if (SIZES.length === 0) SIZES.push(2000, 20_000);
const MAIN = 20_000;
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

function generate(EVENTS: number, startDay: number): { events: GEvent[]; seriesMasters: GEvent[] } {
  seed = 42;
  const events: GEvent[] = [];
  const seriesMasters: GEvent[] = [];
  const series = Math.round(EVENTS / 200);
  const exceptions = 2 * series;
  const allDay = Math.round(EVENTS / 100);
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


/** The baseline without precomputed rows: the mirror's events, series expanded in the same query. */
const BASELINE_SQL = `
with cal as (select id, coalesce(time_zone, 'UTC') as tz from calendars where owner_id = $1),
ev as materialized (
  -- the rows that may block: one-off events and instances overlapping the range (by the mirror's
  -- (owner, start) index), every master; the owner's answer is the attendee with the owner's
  -- address, else the one marked self
  select e.calendar_id, e.google_event_id, e.start_at, e.end_at, e.time_zone, e.all_day, e.recurrence,
    e.recurring_event_id, e.original_start_time, cal.tz as cal_tz
  from (select * from calendar_events where owner_id = $1 and start_at < $3 and end_at > $2 and recurrence is null
        union all select * from calendar_events where owner_id = $1 and recurrence is not null) e
  join cal on cal.id = e.calendar_id
  where e.status = 'confirmed' and e.transparency <> 'transparent' and e.event_type not in ('workingLocation', 'birthday')
    and coalesce((select a->>'responseStatus' from jsonb_array_elements(coalesce(e.attendees, '[]'::jsonb)) a
      where lower(a->>'email') = $6 or a->>'self' = 'true' order by (lower(a->>'email') = $6) desc limit 1), '') not in ('declined', 'tentative')
),
one_off as (
  select start_at as s, end_at as e from ev where recurrence is null and recurring_event_id is null
),
instance as (
  -- a moved instance blocks its own time when its original start is in the series horizon
  select i.start_at as s, i.end_at as e from ev i
  cross join lateral (select case when i.original_start_time like '%T%' then i.original_start_time::timestamptz
    else (i.original_start_time::date)::timestamp at time zone i.cal_tz end as origin) o
  where i.recurring_event_id is not null and i.recurrence is null and o.origin >= $4 and o.origin < $5
    and not exists (select 1 from calendar_events m where m.calendar_id = i.calendar_id and m.google_event_id = i.recurring_event_id and m.status = 'cancelled')
),
master as materialized (
  -- parsed once per series (inlined, every reference to a parsed part would parse again per day)
  select m.dur, r.tz, (m.start_at at time zone r.tz) as local0,
    substring(r.rule from 'FREQ=([A-Z]+)') as freq,
    coalesce(substring(r.rule from 'INTERVAL=([0-9]+)')::int, 1) as step,
    string_to_array(substring(r.rule from 'BYDAY=([A-Z,]+)'), ',') as byday,
    substring(r.rule from 'COUNT=([0-9]+)')::int as count,
    case when r.rule ~ 'UNTIL=[0-9]{8}T[0-9]{6}Z' then (substring(r.rule from 'UNTIL=([0-9]{8}T[0-9]{6})Z')::timestamp at time zone 'UTC') end as until_at,
    case when r.rule ~ 'UNTIL=[0-9]{8}(;|$)' then substring(r.rule from 'UNTIL=([0-9]{8})')::date end as until_day,
    -- EXDATE instants and the slots moved or cancelled instances took, once per series
    array(select case when v like '%Z' then rtrim(v, 'Z')::timestamp at time zone 'UTC'
                      else v::timestamp at time zone coalesce(substring(l from 'TZID=([^;:]+)'), r.tz) end
          from unnest(m.recurrence) l cross join lateral unnest(string_to_array(substring(l from ':(.*)$'), ',')) v
          where l like 'EXDATE%' and l not like '%VALUE=DATE:%') as ex_at,
    array(select v::date from unnest(m.recurrence) l cross join lateral unnest(string_to_array(substring(l from ':(.*)$'), ',')) v
          where l like 'EXDATE%VALUE=DATE:%') as ex_day,
    array(select i.original_start_time::timestamptz from calendar_events i
          where i.calendar_id = m.calendar_id and i.recurring_event_id = m.google_event_id and i.original_start_time like '%T%') as taken
  from (select *, end_at - start_at as dur from ev) m
  cross join lateral (select coalesce(m.time_zone, m.cal_tz) as tz,
    (select substring(l from 7) from unnest(m.recurrence) l where l like 'RRULE:%' limit 1) as rule) r
  where m.recurrence is not null and m.recurring_event_id is null and not m.all_day
),
occurrence as (
  select o.s, o.s + m.dur as e
  from master m
  cross join lateral (
    select (d::date + m.local0::time) at time zone m.tz as s, d::date as day, row_number() over (order by d) as n
    from generate_series(
      -- a rule with COUNT is walked from DTSTART (the count needs every earlier occurrence)
      case when m.count is null then greatest(m.local0::date, ($4::timestamptz at time zone m.tz)::date - 7) else m.local0::date end,
      ($5::timestamptz at time zone m.tz)::date + 1, interval '1 day') d
    -- DTSTART is always the first occurrence, matching the rule or not (RFC 5545)
    where d::date >= m.local0::date
      and (d::date = m.local0::date or case m.freq
        when 'DAILY' then (d::date - m.local0::date) % m.step = 0
          and (m.byday is null or left(to_char(d, 'DY'), 2) = any (m.byday))
        when 'WEEKLY' then ((date_trunc('week', d)::date - date_trunc('week', m.local0)::date) / 7) % m.step = 0
          and left(to_char(d, 'DY'), 2) = any (coalesce(m.byday, array[left(to_char(m.local0, 'DY'), 2)]))
        else false end)
  ) o
  where m.freq in ('DAILY', 'WEEKLY')
    and (m.count is null or o.n <= m.count)
    and (m.until_at is null or o.s <= m.until_at) and (m.until_day is null or o.day <= m.until_day)
    and o.s >= $4 and o.s < $5 and o.s < $3 and o.s + m.dur > $2
    and o.s <> all (m.ex_at) and o.day <> all (m.ex_day) and o.s <> all (m.taken)
)
select (extract(epoch from lower(r)) * 1000)::float8 as s, (extract(epoch from upper(r)) * 1000)::float8 as e
from unnest((
  select range_agg(tstzrange(x.s, x.e)) * tstzmultirange(tstzrange($2, $3))
  from (select * from one_off union all select * from instance union all select * from occurrence) x where x.e > x.s
)) r`;

/** Node types, sort/hash memory and temp blocks of an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plan. */
function planSummary(plan: any): { nodes: string[]; tempWrittenBlocks: number; sortOrHashKb: number; executionMs: number } {
  const nodes: string[] = [];
  let temp = 0;
  let mem = 0;
  const walk = (n: any) => {
    nodes.push(n['Index Name'] ? `${n['Node Type']} (${n['Index Name']})` : n['Node Type']);
    temp += (n['Temp Written Blocks'] ?? 0) + (n['Local Written Blocks'] ?? 0);
    mem += (n['Sort Space Used'] ?? 0) + (n['Peak Memory Usage'] ?? 0);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan[0].Plan);
  return { nodes, tempWrittenBlocks: temp, sortOrHashKb: mem, executionMs: Math.round(plan[0]['Execution Time'] * 100) / 100 };
}

async function runSize(EVENTS: number) {
  const full = EVENTS === MAIN;
  const { database, client, db, ctx } = await openAvailabilityBench();

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
    const { events, seriesMasters } = generate(EVENTS, today);

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
        await db.transaction((tx) => applyChangeSet(inTransaction(ctx, tx), cs));
        pages++;
      }
    }
    const ingestMs = performance.now() - t0;
    // The mirror rows, as the sync writes them (all-day: midnight to midnight in the calendar's zone).
    for (let i = 0; i < events.length; i += 2000) {
      const rows = events.slice(i, i + 2000).map((e) => {
        const m = mirror(e.raw, cals[e.calendar]!, ownerId);
        return {
          calendarId: m.calendarRowId,
          ownerId,
          googleEventId: m.googleEventId,
          status: m.status,
          summary: m.summary,
          startAt: m.startAt,
          endAt: m.endAt,
          startDate: m.startDate,
          endDate: m.endDate,
          timeZone: m.timeZone,
          allDay: m.allDay,
          transparency: m.transparency,
          eventType: m.eventType,
          recurrence: m.recurrence,
          recurringEventId: m.recurringEventId,
          originalStartTime: m.originalStartTime ?? e.raw.originalStartTime?.date ?? null,
          attendees: [],
          raw: m.raw,
        };
      });
      await db.insert(calendarEvents).values(rows);
    }
    await client`update calendar_events e set start_at = e.start_date::timestamp at time zone c.time_zone, end_at = e.end_date::timestamp at time zone c.time_zone
      from calendars c where c.id = e.calendar_id and e.all_day`;
    const [{ n: blockedRows }] = (await client`select count(*)::int as n from blocked_times`) as unknown as [{ n: number }];
    // A steady-state table: autovacuum has set the visibility map (index-only scans skip the heap).
    await client`vacuum analyze`;

    const from = new Date(today);
    const yearTo = new Date(today + 365 * DAY);
    const weekTo = new Date(today + 7 * DAY);
    const yearly = await busyIntervals(ctx, { ownerId, from, to: yearTo });
    const weekly = await busyIntervals(ctx, { ownerId, from, to: weekTo });
    const asMs = (xs: Array<{ start: Date; end: Date }>) => xs.map((i) => ({ start: i.start.getTime(), end: i.end.getTime() }));

    // The process's memory over the busy loop: heap and RSS growth from a collected start.
    Bun.gc(true);
    const mem0 = process.memoryUsage();
    let heapPeak = mem0.heapUsed;
    let rssPeak = mem0.rss;
    const runs = EVENTS > MAIN ? 50 : 200;
    const busyYear = await measure(runs, async () => {
      await busyIntervals(ctx, { ownerId, from, to: yearTo });
      const m = process.memoryUsage();
      heapPeak = Math.max(heapPeak, m.heapUsed);
      rssPeak = Math.max(rssPeak, m.rss);
    });
    const busyWeek = await measure(500, () => busyIntervals(ctx, { ownerId, from, to: weekTo }));

    // The SQL baseline over the mirror, same horizon for series as the table (today - 31 d .. + 180 d).
    const h = horizonAt(new Date(), 180);
    const baselineArgs = (to: Date) => [ownerId, from.toISOString(), to.toISOString(), new Date(h.from).toISOString(), new Date(h.until).toISOString(), 'bench@example.com'];
    const baseline = async (to: Date) => (await client.unsafe(BASELINE_SQL, baselineArgs(to))).map((r: any) => ({ start: Number(r.s), end: Number(r.e) }));
    const baselineSame = JSON.stringify(await baseline(yearTo)) === JSON.stringify(asMs(yearly)) && JSON.stringify(await baseline(weekTo)) === JSON.stringify(asMs(weekly));
    if (!baselineSame) {
      const got = await baseline(yearTo);
      const want = asMs(yearly);
      const k = want.findIndex((w, n) => got[n]?.start !== w.start || got[n]?.end !== w.end);
      const iso = (x?: { start: number; end: number }) => (x ? `${new Date(x.start).toISOString()}..${new Date(x.end).toISOString()}` : 'none');
      console.log(`baseline differs at interval ${k} of ${want.length} (baseline has ${got.length}): table ${iso(want[k])}, baseline ${iso(got[k])}`);
    }
    const baseRuns = EVENTS > MAIN ? 10 : 50;
    const sqlYear = await measure(baseRuns, () => baseline(yearTo), 2);
    const sqlWeek = await measure(baseRuns, () => baseline(weekTo), 2);

    // Plans: the verb's statement as it runs, and under 64 kB of work_mem; the baseline's.
    const stmt = new PgDialect().sqlToQuery(await busyStatement(ctx, [{ owner: { id: ownerId, status: 'active' } as never }], from, yearTo));
    const explain = async (text: string, params: unknown[], workMem?: string, format = 'json') =>
      client.begin(async (tx) => {
        if (workMem) await tx.unsafe(`set local work_mem = '${workMem}'`);
        return tx.unsafe(`explain (analyze, buffers, format ${format}) ${text}`, params as never[]);
      });
    const busyPlanText = (await explain(stmt.sql, stmt.params, undefined, 'text')).map((r: any) => r['QUERY PLAN']).join('\n');
    const busyPlan = planSummary((await explain(stmt.sql, stmt.params))[0]!['QUERY PLAN']);
    const busyPlan64k = planSummary((await explain(stmt.sql, stmt.params, '64kB'))[0]!['QUERY PLAN']);
    const basePlan = planSummary((await explain(BASELINE_SQL, baselineArgs(yearTo)))[0]!['QUERY PLAN']);

    let extra: Record<string, { p50: number; p99: number; mean: number; n: number }> = {};
    let naiveSame: boolean | null = null;
    let seriesRows: number | null = null;
    if (full) {
      // The older JS baseline: no table of blocked times, every stored source expanded at query time.
      const naive = async (to: Date) => {
        const rows = await loadOwnerSources(db, ownerId);
        const groups = groupSeries(rows.map((r) => ({ ...r, source: fromSourceRow(r) })));
        const window = { from: h.from, until: Math.min(to.getTime(), h.until) };
        const all = groups.flatMap((g) => blockedTimesFor(g.members, g.calendarTimeZone, DEFAULT_PREFERENCES, window));
        return mergeIntervals(clipIntervals(mergeIntervals(all), from.getTime(), to.getTime()));
      };
      naiveSame = JSON.stringify(await naive(yearTo)) === JSON.stringify(asMs(yearly));
      extra['JS: expand every stored source at query time, 1 year'] = await measure(20, () => naive(yearTo), 2);

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
        await db.transaction((tx) => applyChangeSet(inTransaction(ctx, tx), cs));
      };
      const [{ n }] = (await client`select count(*)::int as n from blocked_times where series_id = ${target.raw.id}`) as unknown as [{ n: number }];
      seriesRows = n;
      extra['re-expand one changed series (change set)'] = await measure(100, changeSeries);
      const rebuildAll = async () => {
        await db.transaction(async (tx) => {
          const rows = await loadOwnerSources(tx, ownerId);
          const groups = groupSeries(rows.map((r) => ({ ...r, source: fromSourceRow(r) })));
          await rebuildSeries(tx, ctx, groups, () => DEFAULT_PREFERENCES, horizonAt(new Date(), 180));
        });
      };
      extra['naive: recompute all blocked times of the owner'] = await measure(5, rebuildAll, 1);
    }

    const [{ v: pgVersion }] = (await client`select current_setting('server_version') as v`) as unknown as [{ v: string }];
    const table = [
      ['availability.busy, 1 year (blocked_times, one SQL pass)', busyYear],
      ['SQL baseline over the mirror, 1 year', sqlYear],
      ['availability.busy, 1 week', busyWeek],
      ['SQL baseline over the mirror, 1 week', sqlWeek],
      ...Object.entries(extra),
    ] as Array<[string, { p50: number; p99: number; mean: number; n: number }]>;
    const mb = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
    console.log(`\n== ${EVENTS} events, ${CALENDARS} calendars, 1 owner (${TZ}), ${blockedRows} blocked-time rows`);
    console.log(`ingest through the change-set handler: ${pages} pages of up to ${PAGE} in ${ms(ingestMs)} ms`);
    console.log(`busy over 1 year: ${yearly.length} merged intervals; SQL baseline gives the same answer: ${baselineSame}${naiveSame === null ? '' : `; JS baseline too: ${naiveSame}`}`);
    console.log(`busy statement: ${busyPlan.nodes.join(' <- ')}; sort/hash ${busyPlan.sortOrHashKb} kB; at work_mem 64 kB: temp blocks written ${busyPlan64k.tempWrittenBlocks}, ${busyPlan64k.executionMs} ms`);
    console.log(`baseline statement: sort/hash ${basePlan.sortOrHashKb} kB, temp blocks written ${basePlan.tempWrittenBlocks}`);
    console.log(`process over ${runs} busy-year calls: heap +${mb(heapPeak - mem0.heapUsed)} MB, RSS +${mb(rssPeak - mem0.rss)} MB`);
    if (seriesRows !== null) console.log(`changed series: ${seriesRows} blocked-time rows replaced per change`);
    console.log(`load average ${loadavg()[0]!.toFixed(2)}\n`);
    console.log(`${'case'.padEnd(58)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'mean ms'.padStart(9)} ${'runs'.padStart(5)}`);
    for (const [name, r] of table) {
      console.log(`${name.padEnd(58)} ${String(ms(r.p50)).padStart(9)} ${String(ms(r.p99)).padStart(9)} ${String(ms(r.mean)).padStart(9)} ${String(r.n).padStart(5)}`);
    }
    if (full) console.log(`\n${busyPlanText}`);
    return {
      events: EVENTS,
      at: new Date().toISOString(),
      loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
      postgres: pgVersion,
      database: database.kind,
      data: { events: EVENTS, calendars: CALENDARS, timeZone: TZ, blockedTimeRows: blockedRows, mergedIntervalsOneYear: yearly.length, seriesRowsPerChange: seriesRows },
      ingest: { pages, ms: ms(ingestMs) },
      baselineMatches: baselineSame,
      jsBaselineMatches: naiveSame,
      memory: {
        processHeapGrowthMb: mb(heapPeak - mem0.heapUsed),
        processRssGrowthMb: mb(rssPeak - mem0.rss),
        busySortOrHashKb: busyPlan.sortOrHashKb,
        busyTempBlocksAtWorkMem64kB: busyPlan64k.tempWrittenBlocks,
        baselineSortOrHashKb: basePlan.sortOrHashKb,
        baselineTempBlocks: basePlan.tempWrittenBlocks,
      },
      plans: { busy: busyPlan, busyAtWorkMem64kB: busyPlan64k, baseline: basePlan, ...(full ? { busyText: busyPlanText } : {}) },
      results: Object.fromEntries(table.map(([name, r]) => [name, { p50Ms: ms(r.p50), p99Ms: ms(r.p99), meanMs: ms(r.mean), runs: r.n }])),
    };
  } finally {
    await client.end({ timeout: 2 });
    if (process.env.BENCH_KEEP_DB) console.log(`kept database ${database.url}`);
    else await database.drop();
  }
}

const ms = (x: number) => Math.round(x * 100) / 100;

async function main() {
  const sizes = [];
  for (const n of SIZES) sizes.push(await runSize(n));
  const busyKey = 'availability.busy, 1 year (blocked_times, one SQL pass)';
  const baseKey = 'SQL baseline over the mirror, 1 year';
  if (sizes.length > 1) {
    const [a, b] = [sizes[0]!, sizes[sizes.length - 1]!];
    const f = (x: number) => `${Math.round(x * 100) / 100}x`;
    console.log(`\ngrowth ${a.events} -> ${b.events} events (${f(b.events / a.events)}): busy 1 year p50 ${f(b.results[busyKey]!.p50Ms / a.results[busyKey]!.p50Ms)}, SQL baseline p50 ${f(b.results[baseKey]!.p50Ms / a.results[baseKey]!.p50Ms)}`);
  }
  const result = {
    benchmark: 'availability',
    command: `bun bench/availability.ts ${SIZES.join(' ')}`,
    at: new Date().toISOString(),
    machine: { loadAverage1m: Math.round(loadavg()[0]! * 100) / 100, cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), bun: Bun.version },
    sizes,
  };
  const dir = join(import.meta.dir, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'availability.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten: bench/results/availability.json`);
  if (sizes.some((s) => !s.baselineMatches || s.jsBaselineMatches === false)) process.exitCode = 1;
}

await main();
