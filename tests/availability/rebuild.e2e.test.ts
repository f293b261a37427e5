// Rebuild runs end to end: blocked times that no longer match the rules (rows an older rule wrote,
// rows an older rule missed) are re-derived from the stored sources, by the job the admin API
// starts, by the run a new rules version starts at boot, and by `calwatch availability rebuild`
// (a child process, with its progress lines). Progress is read through the admin GraphQL API.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { processRebuild, resumeRebuilds, startRebuild } from '../../src/availability/rebuild-owners.ts';
import { RULES_VERSION } from '../../src/availability/index.ts';
import { childEnv, waitFor } from '../support/service.ts';
import { at, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

const TZ = '+09:00';
const A = { email: 'rebuild-ana@example.com', ext: 'rebuild-ana' };
const B = { email: 'rebuild-ben@example.com', ext: 'rebuild-ben' };
let h: AvailabilityHarness;
const owners: Record<string, { ownerId: string; calendarRowId: string }> = {};

const from = utc(at(20, '00:00', TZ));
const to = utc(at(24, '00:00', TZ));
const iv = (s: string, e: string) => ({ start: utc(s), end: utc(e) });
// Ana: one meeting on day 20 and a daily series of three from day 21; Ben: one meeting on day 20.
const ANA = [iv(at(20, '10:00', TZ), at(20, '11:00', TZ)), iv(at(21, '08:00', TZ), at(21, '08:30', TZ)), iv(at(22, '08:00', TZ), at(22, '08:30', TZ)), iv(at(23, '08:00', TZ), at(23, '08:30', TZ))];
const BEN = [iv(at(20, '14:00', TZ), at(20, '15:00', TZ))];

type Run = { id: string; reason: string; rulesVersion: number; externalOwnerId: string | null; total: number; done: number; finishedAt: string | null; lastError: string | null };
const RUNS = `{ availabilityRebuilds(limit: 20) { id reason rulesVersion externalOwnerId total done startedAt finishedAt lastError } }`;
async function runs(): Promise<Run[]> {
  const r = await h.t.graphql<{ availabilityRebuilds: Run[] }>(RUNS);
  if (!r.body.data) throw new Error(JSON.stringify(r.body));
  return r.body.data.availabilityRebuilds;
}

/** Blocked times as an older rule might have left them: one real row gone, rows that should not be. */
async function corrupt(): Promise<void> {
  const ana = owners[A.ext]!;
  // Of a series with no source at all.
  await h.sql`insert into blocked_times (owner_id, calendar_row_id, calendar_id, series_id, source_event_id, start_at, end_at)
    values (${ana.ownerId}, ${ana.calendarRowId}, ${A.email}, 'ghost0000001', 'ghost0000001', ${utc(at(22, '18:00', TZ))}::timestamptz, ${utc(at(22, '19:00', TZ))}::timestamptz)`;
  await h.sql`delete from blocked_times where owner_id = ${ana.ownerId} and start_at = ${ANA[2]!.start}::timestamptz`;
  await h.sql`insert into blocked_times (owner_id, calendar_row_id, calendar_id, series_id, source_event_id, start_at, end_at)
    values (${ana.ownerId}, ${ana.calendarRowId}, ${A.email}, 'anamtg000001', 'anamtg000001', ${utc(at(20, '18:00', TZ))}::timestamptz, ${utc(at(20, '19:00', TZ))}::timestamptz)`;
  const ben = owners[B.ext]!;
  await h.sql`delete from blocked_times where owner_id = ${ben.ownerId}`;
  expect(await h.busy(A.ext, from, to)).not.toEqual(ANA);
  expect(await h.busy(B.ext, from, to)).toEqual([]);
}
async function expectRepaired(): Promise<void> {
  expect(await h.busy(A.ext, from, to)).toEqual(ANA);
  expect(await h.busy(B.ext, from, to)).toEqual(BEN);
  // Replaced, not added to: one row per blocked time.
  const [{ n }] = await h.sql<[{ n: number }]>`select count(*)::int as n from blocked_times where start_at >= ${from}::timestamptz and start_at < ${to}::timestamptz`;
  expect(n).toBe(ANA.length + BEN.length);
}

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-rebuild');
  for (const o of [A, B]) owners[o.ext] = await h.linkOwner(o.email, o.ext, 'Asia/Tokyo');
  await h.putEvent(A.email, 'anamtg000001', { summary: 'Meeting', start: { dateTime: at(20, '10:00', TZ) }, end: { dateTime: at(20, '11:00', TZ) } });
  await h.putEvent(A.email, 'anadaily0001', {
    summary: 'Daily',
    start: { dateTime: at(21, '08:00', TZ), timeZone: 'Asia/Tokyo' },
    end: { dateTime: at(21, '08:30', TZ), timeZone: 'Asia/Tokyo' },
    recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
  });
  await h.putEvent(B.email, 'benmtg000001', { summary: 'Meeting', start: { dateTime: at(20, '14:00', TZ) }, end: { dateTime: at(20, '15:00', TZ) } });
  await h.syncNow(owners[A.ext]!.ownerId, A.email);
  await h.syncNow(owners[B.ext]!.ownerId, B.email);
  await h.busyBecomes(A.ext, from, to, ANA, 'Ana’s events to block');
  await h.busyBecomes(B.ext, from, to, BEN, 'Ben’s meeting to block');
}, 60_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

describe('rebuild runs', () => {
  test('the boot of an empty database records the rules version as done, with nothing to rebuild', async () => {
    const rules = (await runs()).filter((r) => r.reason === 'rules');
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ rulesVersion: RULES_VERSION, total: 0, done: 0, externalOwnerId: null });
    expect(rules[0]!.finishedAt).not.toBeNull();
  });

  test('rebuildAvailability re-derives every owner in the background; its progress is in availabilityRebuilds', async () => {
    await corrupt();
    const r = await h.t.graphql<{ rebuildAvailability: Run }>(`mutation { rebuildAvailability { id reason total done finishedAt } }`);
    expect(r.body.errors).toBeUndefined();
    const started = r.body.data!.rebuildAvailability;
    expect(started).toMatchObject({ reason: 'manual', total: 2, finishedAt: null });
    const done = await waitFor(async () => (await runs()).find((x) => x.id === started.id && x.finishedAt !== null), { what: 'the rebuild job to finish', timeoutMs: 30_000 });
    expect(done).toMatchObject({ total: 2, done: 2, lastError: null });
    await expectRepaired();
  });

  test('one owner only: the others are left as they are', async () => {
    await corrupt();
    const r = await h.t.graphql<{ rebuildAvailability: Run }>(`mutation($o: String) { rebuildAvailability(externalOwnerId: $o) { id externalOwnerId total } }`, { o: B.ext });
    expect(r.body.data!.rebuildAvailability).toMatchObject({ externalOwnerId: B.ext, total: 1 });
    await waitFor(async () => (await runs()).find((x) => x.id === r.body.data!.rebuildAvailability.id)?.finishedAt, { what: 'Ben’s rebuild', timeoutMs: 30_000 });
    expect(await h.busy(B.ext, from, to)).toEqual(BEN);
    expect(await h.busy(A.ext, from, to)).not.toEqual(ANA);
    const unknown = await h.t.graphql(`mutation { rebuildAvailability(externalOwnerId: "nobody") { id } }`);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  test('a new rules version at boot starts one run (however many processes start), which the job finishes', async () => {
    await corrupt();
    // A database last run by an older version: no run covers this version yet.
    await h.sql`delete from availability_rebuilds where reason = 'rules'`;
    const ctx = h.t.service.ctx;
    await Promise.all([resumeRebuilds(ctx), resumeRebuilds(ctx)]);
    const rules = (await runs()).filter((x) => x.reason === 'rules');
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ rulesVersion: RULES_VERSION, total: 2 });
    await waitFor(async () => (await runs()).find((x) => x.id === rules[0]!.id)?.finishedAt, { what: 'the rules rebuild', timeoutMs: 30_000 });
    await expectRepaired();
    // Booting again adds nothing.
    await resumeRebuilds(ctx);
    expect((await runs()).filter((x) => x.reason === 'rules')).toHaveLength(1);
  });

  test('two processors of one run share it: every owner done once', async () => {
    await corrupt();
    const ctx = h.t.service.ctx;
    const run = await startRebuild(ctx, { background: false });
    const seen: number[] = [];
    const [p1, p2] = await Promise.all([
      processRebuild(ctx, run.id, { onProgress: (p) => seen.push(p.done) }),
      processRebuild(ctx, run.id, { onProgress: (p) => seen.push(p.done) }),
    ]);
    expect(p1).toEqual({ done: 2, total: 2, finished: true });
    expect(p2).toEqual({ done: 2, total: 2, finished: true });
    // Each owner step is counted once across both processors.
    expect(seen.filter((d) => d === 1)).toHaveLength(1);
    await expectRepaired();
  });
});

describe('calwatch availability rebuild', () => {
  const CLI = join(import.meta.dir, '..', '..', 'src', 'cli', 'index.ts');
  const env = () => childEnv({ databaseUrl: h.t.database.url!, publicUrl: h.t.url, emulatorUrl: h.emu.url });

  async function cli(args: string[]) {
    const proc = Bun.spawn(['bun', CLI, ...args], { env: env(), stdout: 'pipe', stderr: 'pipe' });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, out, err };
  }

  test('rebuilds every owner with progress lines, or one owner; refuses an unknown owner and bad usage', async () => {
    await corrupt();
    const all = await cli(['availability', 'rebuild']);
    expect({ code: all.code, err: all.err }).toEqual({ code: 0, err: '' });
    expect(all.out).toContain('availability rebuild: 0/2');
    expect(all.out).toContain('availability rebuild: 2/2');
    expect(all.out).toMatch(/availability rebuild: 2 owners rebuilt in [\d.]+ s/);
    await expectRepaired();

    const one = await cli(['availability', 'rebuild', '--owner', A.ext]);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/availability rebuild: 1 owner rebuilt/);
    const unknown = await cli(['availability', 'rebuild', '--owner', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toMatch(/^calwatch: .*\(NOT_FOUND\)\n$/);
    expect((await cli(['availability', 'frob'])).code).toBe(2);
    expect((await cli(['availability', 'rebuild', '--owner'])).code).toBe(2);
    expect((await cli(['--help'])).out).toContain('availability rebuild [--owner <externalOwnerId>]');
  }, 120_000);
});
