// Shared pieces of the reliability suites: the soak switch and a seeded random source, owners
// linked over HTTP (works with a child process or an in-process service), the row-by-row
// comparison of the mirror with the emulator's live state, waits on pg-boss state, and a recorder
// of figures that RELIABILITY.md quotes (tests/artifacts/reliability/<suite>.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import type { EmulatorControl, GoogleEvent } from '../support/emulator-control.ts';
import { waitFor, type TrpcResult } from '../support/service.ts';

/** `CALWATCH_SOAK=1` (or `bun run soak`): the long variants. */
export const SOAK = process.env.CALWATCH_SOAK === '1';

/** A seeded PRNG (mulberry32): a failing run can be replayed with CALWATCH_SEED=<seed>. */
export function seededRandom(label: string): { seed: number; next: () => number; int: (n: number) => number; pick: <T>(xs: readonly T[]) => T } {
  const seed = process.env.CALWATCH_SEED ? Number(process.env.CALWATCH_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`[${label}] seed ${seed} (replay with CALWATCH_SEED=${seed})`);
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

type Trpc = <T = unknown>(path: string, input?: unknown, opts?: { token?: string | null; method?: 'query' | 'mutation' }) => Promise<TrpcResult<T>>;

export interface LinkedOwner {
  email: string;
  externalOwnerId: string;
  ownerId: string;
  /** Our calendars.id of the owner's primary calendar. */
  calendarRowId: string;
  /** Google's id of it (the email). */
  calendarId: string;
  refreshToken: string;
}

/** Google users linked with LINKED (their refresh token), each with a primary calendar mirrored. */
export async function linkOwners(trpc: Trpc, ctl: EmulatorControl, sql: postgres.Sql, emails: string[], opts: { timeoutMs?: number } = {}): Promise<LinkedOwner[]> {
  const owners: LinkedOwner[] = [];
  for (const email of emails) {
    const user = await ctl.createUser(email, { timeZone: 'Europe/Paris' });
    const externalOwnerId = `owner-${email}`;
    const r = await trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId, refreshToken: user.refreshToken });
    if (!r.body.result) throw new Error(`LINKED ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    owners.push({ email, externalOwnerId, ownerId: r.body.result.data.ownerId, calendarRowId: '', calendarId: email, refreshToken: user.refreshToken });
  }
  await waitFor(
    async () => {
      const rows = await sql`select id, owner_id from calendars where owner_id in ${sql(owners.map((o) => o.ownerId))} and "primary" and last_full_sync_at is not null`;
      if (rows.length < owners.length) return false;
      for (const o of owners) o.calendarRowId = rows.find((r) => r.owner_id === o.ownerId)!.id;
      return true;
    },
    { what: `first syncs of ${owners.length} owners`, timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100 },
  );
  return owners;
}

/** Waits for an active events channel on each of these calendar rows. */
export async function waitChannels(sql: postgres.Sql, calendarRowIds: string[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      const [r] = await sql`select count(distinct calendar_id)::int as n from channels where calendar_id in ${sql(calendarRowIds)} and status = 'active'`;
      return r!.n === calendarRowIds.length;
    },
    { what: `active channels on ${calendarRowIds.length} calendars`, timeoutMs, intervalMs: 100 },
  );
}

const attendeeKey = (as: Array<{ email: string; responseStatus: string }> | null | undefined) =>
  (as ?? []).map((a) => `${a.email.toLowerCase()}:${a.responseStatus}`).sort().join(',');

const instant = (t: { dateTime?: string; date?: string } | undefined) => (t?.dateTime ? new Date(t.dateTime).getTime() : null);

/**
 * The mirror of one calendar against Google's live state, row by row: the same set of events, and
 * for each the same version (etag, updated), status, summary, times and attendees' answers.
 * Returns the differences (empty: identical).
 */
export async function mirrorDiff(sql: postgres.Sql, ctl: EmulatorControl, cal: { calendarRowId: string; calendarId: string }): Promise<string[]> {
  const [live, rows] = await Promise.all([
    ctl.liveEvents(cal.calendarId),
    sql`select google_event_id, status, summary, start_at, end_at, start_date::text as start_date, end_date::text as end_date,
               all_day, attendees, etag, updated, recurring_event_id
          from calendar_events where calendar_id = ${cal.calendarRowId}`,
  ]);
  const diffs: string[] = [];
  const byId = new Map(rows.map((r) => [r.google_event_id as string, r]));
  const liveIds = new Set(live.map((e) => e.id));
  for (const ev of live as GoogleEvent[]) {
    const row = byId.get(ev.id);
    const where = `${cal.calendarId}/${ev.id}`;
    if (!row) {
      diffs.push(`${where}: in Google, missing from the mirror`);
      continue;
    }
    const checks: Array<[string, unknown, unknown]> = [
      ['etag', row.etag, ev.etag],
      ['updated', row.updated ? new Date(row.updated).getTime() : null, ev.updated ? new Date(ev.updated).getTime() : null],
      ['status', row.status, ev.status],
      ['summary', row.summary ?? null, ev.summary ?? null],
      ['start', row.all_day ? row.start_date : row.start_at ? new Date(row.start_at).getTime() : null, ev.start?.date ?? instant(ev.start)],
      ['end', row.all_day ? row.end_date : row.end_at ? new Date(row.end_at).getTime() : null, ev.end?.date ?? instant(ev.end)],
      ['attendees', attendeeKey(row.attendees), attendeeKey(ev.attendees)],
    ];
    for (const [field, mine, theirs] of checks) {
      if (mine !== theirs) diffs.push(`${where}: ${field} mirror=${JSON.stringify(mine)} google=${JSON.stringify(theirs)}`);
    }
  }
  for (const row of rows) {
    // Cancelled instances of a live series are kept as rows; nothing else may outlive Google.
    if (!liveIds.has(row.google_event_id) && !(row.status === 'cancelled' && row.recurring_event_id)) {
      diffs.push(`${cal.calendarId}/${row.google_event_id}: in the mirror (${row.status}), gone from Google`);
    }
  }
  return diffs;
}

/** Waits until every calendar's mirror equals Google's live state; returns how long it took (ms). */
export async function waitConverged(
  sql: postgres.Sql,
  ctl: EmulatorControl,
  cals: Array<{ calendarRowId: string; calendarId: string }>,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<number> {
  const started = performance.now();
  let last: string[] = [];
  try {
    await waitFor(
      async () => {
        last = (await Promise.all(cals.map((c) => mirrorDiff(sql, ctl, c)))).flat();
        return last.length === 0;
      },
      { what: opts.what ?? 'mirror converged with Google', timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${last.length} differences, first ones:\n  ${last.slice(0, 15).join('\n  ')}`);
  }
  return Math.round(performance.now() - started);
}

/** No job of these queues queued (due), running or waiting for a retry. */
export async function queuesIdle(sql: postgres.Sql, names: string[], opts: { timeoutMs?: number } = {}): Promise<void> {
  let last: readonly unknown[] = [];
  try {
    await waitFor(
      async () => {
        last = await sql`select name, state, count(*)::int as n from pgboss.job
          where name in ${sql(names)} and (state in ('active', 'retry') or (state = 'created' and start_after <= now() + interval '2 seconds'))
          group by 1, 2`;
        return last.length === 0;
      },
      { what: `queues idle (${names.join(', ')})`, timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 200 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; still: ${JSON.stringify(last)}`);
  }
}

/** Figures of a suite, written for RELIABILITY.md (tests/artifacts/reliability/<suite>.json). */
export function figures(suite: string): { set(key: string, value: unknown): void; write(): void; all: Record<string, unknown> } {
  const all: Record<string, unknown> = { suite, soak: SOAK, at: new Date().toISOString() };
  return {
    all,
    set(key, value) {
      all[key] = value;
      console.log(`[${suite}] ${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`);
    },
    write() {
      const dir = join(import.meta.dir, '..', 'artifacts', 'reliability');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${suite}${SOAK ? '-soak' : ''}.json`), `${JSON.stringify(all, null, 2)}\n`);
    },
  };
}

/** Google-style event ids: base32hex (a-v, 0-9), at least 5 characters. */
export const eventId = (prefix: string, n: number) => `${prefix}${n.toString(32).padStart(5, '0')}`;

export const timed = (summary: string, start: Date, minutes: number, extra: Record<string, unknown> = {}) => ({
  summary,
  start: { dateTime: start.toISOString() },
  end: { dateTime: new Date(start.getTime() + minutes * 60_000).toISOString() },
  ...extra,
});

/** The next whole hour at least `hours` from now. */
export function hoursFromNow(hours: number): Date {
  const d = new Date(Date.now() + hours * 3600_000);
  d.setUTCMinutes(0, 0, 0);
  return d;
}
