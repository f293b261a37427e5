// The busy read merges blocked times in SQL (one pass in index order per owner, several owners in
// one statement): checked here against the plain JS merge (mergeIntervals, then cut to the range)
// on random rows with the awkward cases written in: touching, nested, equal, empty, straddling the
// range's ends, calendar filters, frozen rows of an unlinked owner. Real Postgres or PGlite.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { runMigrations } from '../../src/db/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { systemClock, type Ctx } from '../../src/context/index.ts';
import type { Owner } from '../../src/links/index.ts';
import { busyIntervals } from '../../src/availability/index.ts';
import { busyOfOwners } from '../../src/availability/busy.ts';
import { clipIntervals, mergeIntervals, type Interval } from '../../src/availability/intervals.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const M = 60_000;
const T0 = Date.parse('2030-01-07T00:00:00Z');
const CALS = ['a@example.com', 'b@group.calendar.google.com', 'c@group.calendar.google.com'];

interface Row {
  calendarId: string;
  start: number;
  end: number;
}

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const int = (n: number) => Math.floor(rand() * n);

/** Random rows over ~3 days in 5-minute steps (so that touching and equal ends are frequent). */
function randomRows(n: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const start = T0 + int(900) * 5 * M;
    rows.push({ calendarId: CALS[int(CALS.length)]!, start, end: start + (1 + int(24)) * 5 * M });
  }
  return rows;
}

const fixed: Row[] = [
  { calendarId: CALS[0]!, start: T0 + 60 * M, end: T0 + 120 * M },
  { calendarId: CALS[1]!, start: T0 + 120 * M, end: T0 + 180 * M }, // touches the one before
  { calendarId: CALS[2]!, start: T0 + 130 * M, end: T0 + 140 * M }, // inside it
  { calendarId: CALS[0]!, start: T0 + 60 * M, end: T0 + 120 * M }, // equal to the first
  { calendarId: CALS[1]!, start: T0 + 200 * M, end: T0 + 200 * M }, // empty
  { calendarId: CALS[2]!, start: T0 - 600 * M, end: T0 + 4500 * M }, // reaches over most ranges
];

function expected(rows: Row[], from: number, to: number, ids: string[] | null): Interval[] {
  const mine = rows.filter((r) => (ids === null || ids.includes(r.calendarId)) && r.start < to && r.end > from);
  return clipIntervals(mergeIntervals(mine.map((r) => ({ start: r.start, end: r.end }))), from, to);
}

let database: TestDatabase & { url: string };
let client: postgres.Sql;
let ctx: Ctx;
const owners: Array<{ owner: Owner; rows: Row[] }> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  client = postgres(database.url, { max: 2, onnotice: () => {} });
  ctx = { db: drizzle(client), log: createLogger({ level: 'silent' }), clock: systemClock, config: { availability: { horizonDays: 180 } } } as unknown as Ctx;
  const sets = [fixed, randomRows(400), randomRows(60).concat(fixed), []];
  for (const [n, rows] of sets.entries()) {
    const [o] = await client`insert into owners (external_owner_id, status) values (${`merge-${n}`}, 'active') returning id`;
    const id = o!.id as string;
    const values = rows.map((r) => ({
      owner_id: id,
      calendar_row_id: id,
      calendar_id: r.calendarId,
      series_id: 'ev',
      source_event_id: 'ev',
      start_at: new Date(r.start).toISOString(),
      end_at: new Date(r.end).toISOString(),
    }));
    if (values.length > 0) await client`insert into blocked_times ${client(values)}`;
    owners.push({ owner: { id, externalOwnerId: `merge-${n}`, status: 'active' } as Owner, rows });
  }
  // An unlinked owner keeping its blocked times: frozen rows, read by the former owner id.
  const formerId = '00000000-0000-4000-8000-00000000f00d';
  const frozen = randomRows(80).concat(fixed);
  const values = frozen.map((r) => ({
    external_owner_id: 'merge-frozen',
    former_owner_id: formerId,
    calendar_id: r.calendarId,
    source_event_id: 'ev',
    start_at: new Date(r.start).toISOString(),
    end_at: new Date(r.end).toISOString(),
    frozen_at: new Date().toISOString(),
  }));
  await client`insert into frozen_blocked_times ${client(values)}`;
  owners.push({ owner: { id: formerId, externalOwnerId: 'merge-frozen', status: 'unlinked' } as Owner, rows: frozen });
}, 60_000);

afterAll(async () => {
  await client?.end({ timeout: 2 });
  await database?.drop();
});

/** Ranges: the whole span, random ones on and off the 5-minute grid, and ends inside busy rows. */
function ranges(): Array<[number, number]> {
  const out: Array<[number, number]> = [
    [T0 - 1440 * M, T0 + 5 * 1440 * M],
    [T0 + 90 * M, T0 + 135 * M], // starts and ends inside busy time
    [T0 + 120 * M, T0 + 121 * M],
    [T0 + 200 * M, T0 + 201 * M], // only the empty row
  ];
  for (let i = 0; i < 30; i++) {
    const a = T0 + int(4500) * M + (i % 3 === 0 ? 17_000 : 0);
    out.push([a, a + (1 + int(3000)) * M]);
  }
  return out;
}

describe('busy: the SQL merge gives what merging the rows gives', () => {
  test('one owner at a time (busyIntervals), every calendar', async () => {
    for (const { owner, rows } of owners.filter((o) => o.owner.status === 'active')) {
      for (const [from, to] of ranges()) {
        const got = await busyIntervals(ctx, { ownerId: owner.id, from: new Date(from), to: new Date(to) });
        expect(got.map((i) => ({ start: i.start.getTime(), end: i.end.getTime() }))).toEqual(expected(rows, from, to, null));
      }
    }
  }, 60_000);

  test('several owners in one statement, each with its own calendars, frozen rows among them', async () => {
    const choices: Array<string[] | undefined> = [undefined, [CALS[1]!], [CALS[0]!, CALS[2]!], [], ['nobody@example.com', CALS[2]!]];
    for (const [k, [from, to]] of ranges().entries()) {
      const queries = owners.map((o, n) => {
        const ids = choices[(n + k) % choices.length];
        return { owner: o.owner, ...(ids ? { calendarIds: ids } : {}), ids: ids ?? null, rows: o.rows };
      });
      const got = await busyOfOwners(ctx, queries, new Date(from), new Date(to));
      for (const q of queries) {
        expect({ owner: q.owner.externalOwnerId, busy: got.get(q.owner.id) ?? [] }).toEqual({ owner: q.owner.externalOwnerId, busy: expected(q.rows, from, to, q.ids) });
      }
    }
  }, 60_000);
});
