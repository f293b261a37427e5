// At most one sync per calendar at a time, across processes: two services on one database never
// run syncs of the same calendar at once; a burst of notifications coalesces into at most two list
// calls; a notification during a running sync still gets a sync after it. And the safety nets:
// the periodic sync of calendars not synced for long (spread over the period), poll-only
// calendars, and the catch-up when a service starts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule } from '../../src/context/index.ts';
import { enqueueEventSync, getCalendar, listSelectedCalendars, markPollOnly, runSafetyNet } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startSyncHarness, timed, type SyncHarness } from './harness.ts';

let a: SyncHarness;
let b: SyncHarness | undefined;
const EMAIL = 'coord-gina@example.com';
const OWNER = 'coord-owner';
const CALS = ['c1-coord@group.calendar.google.com', 'c2-coord@group.calendar.google.com', 'c3-coord@group.calendar.google.com'];
let ownerId: string;
let rowIds: string[] = [];
let duringSync: (() => Promise<void>) | undefined;

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-coordination',
  reactions: {
    eventChanges: async () => {
      const hook = duringSync;
      duringSync = undefined;
      if (hook) await hook();
    },
  },
};

beforeAll(async () => {
  // Workers poll every 300 s: whatever runs here was woken, not found by a poll.
  a = await startSyncHarness('sync-coordination-a', { extraModules: [probe], env: { JOBS_POLL_SECONDS: '300' } });
  await a.emuJson('users', { email: EMAIL });
  for (const id of CALS) await a.emuJson('calendars', { owner: EMAIL, id, summary: id, timeZone: 'UTC' });
  ({ ownerId } = await a.linkOwner(EMAIL, OWNER));
  for (const id of CALS) await a.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: id, selected: true });
  const all = [EMAIL, ...CALS];
  rowIds = await Promise.all(all.map(async (id) => (await a.calendar(ownerId, id)).id));
  await waitFor(async () => {
    for (const id of rowIds) if (!(await getCalendar(a.t.service.ctx, id))?.lastFullSyncAt) return false;
    return true;
  }, { what: 'first syncs' });
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await a?.stop();
}, 30_000);

/** No poll request pending or running, no sync queued or running. */
async function settle(): Promise<void> {
  await waitFor(async () => {
    const [r] = await a.sql`select count(*)::int as n from pgboss.job where name in ('sync.poll', 'sync.events') and state in ('created', 'retry', 'active') and start_after <= now() + interval '2 seconds'`;
    return r!.n === 0;
  }, { what: 'sync queues settled' });
}

async function expectAllMirrorsLive(h: SyncHarness): Promise<void> {
  for (const [i, id] of [EMAIL, ...CALS].entries()) {
    const live = await h.liveEvents(id);
    const mirror = await h.mirror(rowIds[i]!);
    expect([...mirror.keys()].sort()).toEqual([...live.keys()].sort());
    for (const [eid, ev] of live) expect(mirror.get(eid)!.etag).toBe(ev.etag);
  }
}

describe('one calendar, one sync at a time', () => {
  test('a notification during a running sync causes one more sync after it', async () => {
    const cal = await a.calendar(ownerId, CALS[0]!);
    await a.putEvent(CALS[0]!, 'duringaa01', timed('first', '2031-10-01T10:00:00Z', '2031-10-01T11:00:00Z'));
    // While the sync writes its change set, Google changes again and notifies.
    duringSync = async () => {
      await a.putEvent(CALS[0]!, 'duringaa02', timed('during', '2031-10-02T10:00:00Z', '2031-10-02T11:00:00Z'));
      await enqueueEventSync(a.t.service.ctx, cal.id, { reason: 'notification' });
    };
    await enqueueEventSync(a.t.service.ctx, cal.id, { reason: 'notification' });
    await waitFor(async () => (await a.mirror(cal.id)).has('duringaa02'), { what: 'the change made during the sync' });
    await a.idle(cal.id);
    expect((await a.mirror(cal.id)).has('duringaa01')).toBe(true);
  });

  test('an idle calendar\'s sync starts at once: the job is not deferred and no poll was needed', async () => {
    // This suite's workers poll every 300 s (JOBS_POLL_SECONDS): only the wake-up can start it.
    const cal = await a.calendar(ownerId, CALS[2]!);
    await a.idle(cal.id);
    await a.putEvent(CALS[2]!, 'idleaaaa01', timed('idle', '2031-10-04T10:00:00Z', '2031-10-04T11:00:00Z'));
    const since = new Date();
    await enqueueEventSync(a.t.service.ctx, cal.id, { reason: 'notification', notifiedAt: new Date() });
    await waitFor(async () => (await a.mirror(cal.id)).has('idleaaaa01'), { what: 'the change', timeoutMs: 10_000 });
    const [job] = await a.sql`
      select start_after, created_on, started_on from pgboss.job
      where name = 'sync.events' and singleton_key = ${cal.id} and created_on >= ${since} order by created_on limit 1`;
    expect(job!.start_after.getTime()).toBeLessThanOrEqual(job!.created_on.getTime());
    expect(job!.started_on).not.toBeNull();
  });

  test('a burst of 100 notifications at once costs at most two list calls', async () => {
    const cal = await a.calendar(ownerId, CALS[1]!);
    await a.idle(cal.id);
    await a.putEvent(CALS[1]!, 'burstaaa01', timed('burst', '2031-10-03T10:00:00Z', '2031-10-03T11:00:00Z'));
    const mark = await a.requestMark();
    await Promise.all(Array.from({ length: 100 }, () => enqueueEventSync(a.t.service.ctx, cal.id, { reason: 'notification', notifiedAt: new Date() })));
    await a.idle(cal.id);
    const calls = (await a.requests(mark, `/calendars/${encodeURIComponent(CALS[1]!)}/events`)).filter((r) => r.method === 'GET');
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.every((c) => c.query.syncToken)).toBe(true);
    expect((await a.mirror(cal.id)).has('burstaaa01')).toBe(true);
  });

  test('100 notifications while a sync runs cause exactly one more sync, after it ends', async () => {
    const cal = await a.calendar(ownerId, CALS[1]!);
    await a.idle(cal.id);
    await a.putEvent(CALS[1]!, 'burstaaa02', timed('first', '2031-10-05T10:00:00Z', '2031-10-05T11:00:00Z'));
    const mark = await a.requestMark();
    let firstEnded = 0;
    duringSync = async () => {
      await a.putEvent(CALS[1]!, 'burstaaa03', timed('during', '2031-10-05T12:00:00Z', '2031-10-05T13:00:00Z'));
      await Promise.all(Array.from({ length: 100 }, () => enqueueEventSync(a.t.service.ctx, cal.id, { reason: 'notification', notifiedAt: new Date() })));
      firstEnded = Date.now();
    };
    await enqueueEventSync(a.t.service.ctx, cal.id, { reason: 'notification' });
    await waitFor(async () => (await a.mirror(cal.id)).has('burstaaa03'), { what: 'the change made during the sync' });
    await a.idle(cal.id);
    const calls = (await a.requests(mark, `/calendars/${encodeURIComponent(CALS[1]!)}/events`)).filter((r) => r.method === 'GET');
    expect(calls.length).toBe(2);
    // The second list came after the first sync's change set (where the notifications arrived).
    expect(new Date(calls[1]!.at).getTime()).toBeGreaterThanOrEqual(firstEnded - 5);
  });

  test('two services on one database never run syncs of the same calendar at once, and both do work', async () => {
    // b catches up at 2 calendars a second when it starts (checked in the next test).
    b = await startSyncHarness('sync-coordination-b', { extraModules: [probe], emu: a.emu, database: a.t.database as never, env: { SYNC_CATCHUP_PER_SECOND: '2' } });
    const ctxs = [a.t.service.ctx, b.t.service.ctx];
    const jobsDone = async (i: number) => {
      const m = await ctxs[i]!.metrics.jobs.get();
      return m.values.filter((v) => v.labels.queue === 'sync.events' && v.labels.outcome === 'completed').reduce((s, v) => s + v.value, 0);
    };
    const before = [await jobsDone(0), await jobsDone(1)];
    const since = new Date();
    const all = [EMAIL, ...CALS];
    const deadline = Date.now() + 3500;
    for (let n = 0; Date.now() < deadline; n++) {
      const k = n % all.length;
      await a.putEvent(all[k]!, `twowk${String(n).padStart(5, '0')}`, timed(`w${n}`, '2031-11-01T10:00:00Z', '2031-11-01T11:00:00Z'));
      await enqueueEventSync(ctxs[n % 2]!, rowIds[k]!, { reason: 'notification' });
      await Bun.sleep(15);
    }
    for (const id of rowIds) await a.idle(id);
    await expectAllMirrorsLive(a);

    // Every run of a calendar's sync, from either process, recorded by pg-boss: none overlap.
    const runs = await a.sql`
      select singleton_key as key, started_on, completed_on from pgboss.job
      where name = 'sync.events' and started_on >= ${since} and completed_on is not null order by singleton_key, started_on`;
    expect(runs.length).toBeGreaterThan(8);
    for (let i = 1; i < runs.length; i++) {
      if (runs[i]!.key !== runs[i - 1]!.key) continue;
      expect(runs[i]!.started_on.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.completed_on.getTime());
    }
    const after = [await jobsDone(0), await jobsDone(1)];
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
  }, 45_000);

  test('a service that starts catches up: every selected calendar gets one sync, spread at the configured rate', async () => {
    try {
      const polls = await a.sql`select singleton_key, start_after, created_on from pgboss.job where name = 'sync.poll' and singleton_key like 'catchup:%' order by start_after`;
      const selected = await listSelectedCalendars(a.t.service.ctx, { ownerId });
      expect(new Set(polls.map((p) => p.singleton_key))).toEqual(new Set(selected.map((c) => `catchup:${c.id}`)));
      // 2 a second: offsets 0, 0, 1, 1 s.
      const offsets = polls.map((j) => Math.round((j.start_after.getTime() - j.created_on.getTime()) / 1000));
      expect(offsets).toEqual(selected.map((_, i) => Math.floor(i / 2)));
      const done = await a.sql`select count(*)::int as n from pgboss.job where name = 'sync.poll' and singleton_key like 'catchup:%' and state = 'completed'`;
      expect(done[0]!.n).toBe(selected.length);
    } finally {
      // The safety-net tests below move a's clock: no other process may sync meanwhile.
      await b?.stop();
      b = undefined;
    }
  }, 30_000);
});

describe('safety nets', () => {
  test('calendars not synced for SYNC_POLL_INTERVAL_SECONDS get one incremental sync each, spread over the period', async () => {
    const ctx = a.t.service.ctx;
    await settle();
    const before = await Promise.all(rowIds.map((id) => getCalendar(ctx, id)));
    a.t.clock.advance(7 * 3600 * 1000);
    try {
      const r = await runSafetyNet(ctx);
      expect(r.due).toBe(rowIds.length);
      const jobs = await a.sql`
        select singleton_key, start_after, created_on from pgboss.job
        where name = 'sync.poll' and singleton_key like 'poll:%' order by start_after`;
      expect(jobs.length).toBe(rowIds.length);
      const offsets = jobs.map((j) => Math.round((j.start_after.getTime() - j.created_on.getTime()) / 1000));
      expect(offsets).toEqual([0, 75, 150, 225]);
      // The first fires at once and syncs its calendar; the others wait their turn.
      const firstId = jobs[0]!.singleton_key.slice('poll:'.length);
      const prev = before.find((c) => c!.id === firstId)!;
      await a.syncedAfter(firstId, prev.lastSyncedAt);
      // Running again: the synced calendar is no longer due, the 3 waiting ones are not queued twice.
      const again = await runSafetyNet(ctx);
      expect(again.due).toBe(rowIds.length - 1);
      const [waiting] = await a.sql`select count(*)::int as n from pgboss.job where name = 'sync.poll' and singleton_key like 'poll:%' and state = 'created'`;
      expect(waiting!.n).toBe(rowIds.length - 1);
    } finally {
      a.t.clock.advance(-7 * 3600 * 1000);
      await a.sql`delete from pgboss.job where name = 'sync.poll' and state = 'created'`;
      await settle();
      // Syncs that ran while the clock was 7 h ahead stamped that time: back to now.
      await a.sql`update calendars set last_synced_at = now()`;
    }
  });

  test('poll-only calendars are synced every SYNC_SILENT_THRESHOLD_SECONDS, the others are left alone', async () => {
    const ctx = a.t.service.ctx;
    await settle();
    await markPollOnly(ctx, rowIds[3]!, 'pushNotSupportedForRequestedResource');
    expect((await getCalendar(ctx, rowIds[3]!))!.pollOnly).toBe(true);
    const before = await getCalendar(ctx, rowIds[3]!);
    a.t.clock.advance(20 * 60 * 1000);
    try {
      // This suite runs without PUBLIC_URL (no channels): then every calendar is polled like this.
      // With channels configured, only the poll-only one is due.
      const withChannels = { ...ctx, config: { ...ctx.config, publicUrl: 'https://calwatch.example' } };
      const r = await runSafetyNet(withChannels);
      expect(r.due).toBe(1);
      await a.syncedAfter(rowIds[3]!, before!.lastSyncedAt);
      const r2 = await runSafetyNet(ctx);
      expect(r2.due).toBe(rowIds.length - 1);
    } finally {
      a.t.clock.advance(-20 * 60 * 1000);
      await a.sql`delete from pgboss.job where name = 'sync.poll' and state = 'created'`;
    }
  });
});
