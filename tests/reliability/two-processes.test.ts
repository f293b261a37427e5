// Two service processes on one database, each receiving half of Google's notifications (a splitter
// in front of them, as a load balancer would be, alternates every request), during a burst of
// changes with on-call declines in two groups: every job runs once (the executions both processes
// count equal pg-boss's attempts), one swap per decline and one Slack message per swap, syncs of
// one calendar never overlap, and the mirror equals Google row by row.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.ts';
import { startServiceProcess, type ServiceProcess } from '../support/process.ts';
import { waitFor } from '../support/service.ts';
import { SOAK, eventId, figures, hoursFromNow, linkOwners, queuesIdle, seededRandom, timed, waitChannels, waitConverged, type LinkedOwner } from './harness.ts';

const CALENDARS = SOAK ? 16 : 6;
const CHANGES = SOAK ? 600 : 150;
const BURST_MS = SOAK ? 30_000 : 6_000;

setDefaultTimeout(SOAK ? 300_000 : 60_000);

const MEMBERS = [
  { email: 'ada@two.test', name: 'Ada' },
  { email: 'bob@two.test', name: 'Bob' },
  { email: 'cy@two.test', name: 'Cy' },
];

const rnd = seededRandom('reliability-two-processes');
const fig = figures('two-processes');
let emu: Emulator;
let ctl: EmulatorControl;
let splitter: HttpProxy;
let database: TestDatabase & { url: string };
let sql: postgres.Sql;
let a: ServiceProcess;
let b: ServiceProcess;
let owners: LinkedOwner[];
const groups: Array<{ id: string; owner: LinkedOwner; channel: string; shifts: Array<{ id: string; assigneeEmail: string; googleEventId: string }> }> = [];
const declines: Array<{ groupId: string; shiftId: string }> = [];
const received = { a: 0, b: 0 };

async function gql<T = any>(svc: ServiceProcess, query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await svc.graphql<T>(query, variables);
  if (r.body.errors?.length || !r.body.data) throw new Error(`GraphQL: ${JSON.stringify(r.body)}`);
  return r.body.data;
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 4, onnotice: () => {} });
  // Every channel points at the splitter (both processes share PUBLIC_URL, as behind a load
  // balancer); it alternates Google's pushes between the two processes.
  let turn = 0;
  const targets: string[] = [];
  splitter = startHttpProxy({
    target: () => {
      const i = turn++ % 2;
      received[i ? 'b' : 'a']++;
      return targets[i]!;
    },
  });
  const publicUrl = splitter.url.slice(0, -1);
  a = await startServiceProcess({ name: 'reliability-two-a', databaseUrl: database.url, googleUrl: emu.url, publicUrl });
  b = await startServiceProcess({ name: 'reliability-two-b', databaseUrl: database.url, googleUrl: emu.url, publicUrl });
  targets.push(a.url, b.url);
  owners = await linkOwners((p, i, o) => (rnd.next() < 0.5 ? a : b).trpc(p, i, o), ctl, sql, Array.from({ length: CALENDARS }, (_, i) => `two${i}@example.com`));
  await waitChannels(sql, owners.map((o) => o.calendarRowId));
  for (const m of MEMBERS) await ctl.json('slack/users', { email: m.email, id: `U0TWO${m.name.toUpperCase()}` });
  for (const [i, svc] of [a, b].entries()) {
    const owner = owners[i]!;
    const channel = `C0TWO${i}`;
    const g = await gql(svc, `mutation($input: CreateOncallGroupInput!) { createOncallGroup(input: $input) { id } }`, {
      input: { name: `Two ${i}`, externalOwnerId: owner.externalOwnerId, calendarId: 'primary', slackChannel: channel, timeZone: 'Europe/Paris', members: MEMBERS },
    });
    const s = await gql(svc, `mutation($input: ScheduleRotationInput!) { scheduleRotation(input: $input) { id assigneeEmail googleEventId } }`, {
      input: { groupId: g.createOncallGroup.id, start: hoursFromNow(30).toISOString(), shiftHours: 8, count: 6 },
    });
    groups.push({ id: g.createOncallGroup.id, owner, channel, shifts: s.scheduleRotation });
  }
}, 120_000);

afterAll(async () => {
  fig.set('notificationsReceived', received);
  fig.write();
  await Promise.all([a?.stop(), b?.stop()]);
  await sql?.end({ timeout: 2 });
  await splitter?.stop();
  await emu?.stop();
  await database?.drop();
}, 60_000);

/** calwatch_jobs_total of one process, by queue: handler executions (any outcome). */
async function executions(svc: ServiceProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^calwatch_jobs_total\{([^}]*)\} (\d+)/gm)) {
    const queue = /queue="([^"]+)"/.exec(m[1]!)![1]!;
    out.set(queue, (out.get(queue) ?? 0) + Number(m[2]));
  }
  return out;
}

describe(`two processes, ${CALENDARS} calendars, ${CHANGES} changes, declines in two groups`, () => {
  test('the burst and the declines', async () => {
    const existing: string[][] = owners.map(() => []);
    const base = new Date(Date.UTC(2031, 4, 4, 8));
    const started = performance.now();
    // Each group: its first shift's assignee declines (ada), then the third's (cy), at random moments.
    const inFlight = groups.flatMap((g) =>
      [0, 2].map(async (k) => {
        await Bun.sleep(rnd.next() * BURST_MS * 0.7);
        const shift = g.shifts[k]!;
        declines.push({ groupId: g.id, shiftId: shift.id });
        await ctl.respond(g.owner.calendarId, shift.googleEventId, shift.assigneeEmail, 'declined');
      }),
    );
    let created = 0;
    for (let i = 0; i < CHANGES; i++) {
      await Bun.sleep(Math.max(0, (i * BURST_MS) / CHANGES - (performance.now() - started)));
      const c = rnd.int(owners.length);
      const mine = existing[c]!;
      if (mine.length === 0 || rnd.next() < 0.6) {
        const id = eventId('twop', created++);
        mine.push(id);
        await ctl.putEvent(owners[c]!.calendarId, id, timed(`Two ${i}`, new Date(base.getTime() + rnd.int(1000) * 3600_000), 45));
      } else if (rnd.next() < 0.7) {
        await ctl.putEvent(owners[c]!.calendarId, rnd.pick(mine), timed(`Two edited ${i}`, new Date(base.getTime() + rnd.int(1000) * 3600_000), 30));
      } else {
        await ctl.deleteEvent(owners[c]!.calendarId, mine.splice(rnd.int(mine.length), 1)[0]!);
      }
    }
    await Promise.all(inFlight);
    fig.set('burstMs', Math.round(performance.now() - started));
  });

  test('the mirror equals Google row by row', async () => {
    fig.set('convergeWaitMs', await waitConverged(sql, ctl, owners, { timeoutMs: 45_000 }));
  });

  test('one swap per decline, both events consistent, one Slack message per swap', async () => {
    await waitFor(
      async () => (await sql`select count(*)::int as n from swaps where state = 'completed'`)[0]!.n >= declines.length,
      { what: `${declines.length} completed swaps`, timeoutMs: 45_000 },
    );
    await queuesIdle(sql, ['oncall.declined', 'oncall.swap', 'oncall.notify']);
    const swaps = await sql`select group_id, declined_shift_id, state from swaps`;
    expect(swaps.length).toBe(declines.length);
    for (const d of declines) expect(swaps.filter((s) => s.declined_shift_id === d.shiftId && s.state === 'completed').length).toBe(1);
    for (const g of groups) {
      const rows = await sql`select google_event_id, assignee_email from shifts where group_id = ${g.id}`;
      const live = new Map((await ctl.liveEvents(g.owner.calendarId)).map((e) => [e.id, e]));
      for (const r of rows) expect((live.get(r.google_event_id)?.attendees ?? []).map((x) => x.email)).toEqual([r.assignee_email]);
      const msgs = await ctl.slackMessages(g.channel);
      expect(msgs.length).toBe(declines.filter((d) => d.groupId === g.id).length);
    }
  });

  test('syncs of one calendar never overlapped, across both processes', async () => {
    await queuesIdle(sql, ['sync.events']);
    const runs = await sql`select singleton_key as key, started_on, completed_on from pgboss.job
      where name = 'sync.events' and started_on is not null and completed_on is not null order by singleton_key, started_on`;
    const overlaps: string[] = [];
    for (let i = 1; i < runs.length; i++) {
      const [p, r] = [runs[i - 1]!, runs[i]!];
      if (p.key === r.key && r.started_on < p.completed_on) overlaps.push(`${r.key}: ${p.started_on.toISOString()}-${p.completed_on.toISOString()} / ${r.started_on.toISOString()}`);
    }
    expect(overlaps).toEqual([]);
    fig.set('syncRuns', runs.length);
  });

  test('every job ran once: executions counted by both processes equal pg-boss attempts, and both did work', async () => {
    await queuesIdle(sql, ['sync.events', 'sync.calendarList', 'oncall.declined', 'oncall.swap', 'oncall.notify', 'channels.create', 'fanout.deliver']);
    // No job may be running while the two sides are counted.
    await waitFor(async () => (await sql`select count(*)::int as n from pgboss.job where state = 'active'`)[0]!.n === 0, { what: 'no active job' });
    const [ea, eb] = [await executions(a), await executions(b)];
    const attempts = await sql`select name, sum(retry_count + case when state in ('completed', 'failed') then 1 else 0 end)::int as n
      from pgboss.job where name ~ '^[a-z]+[.][a-zA-Z]+$' group by name`;
    const mismatches: string[] = [];
    for (const r of attempts) {
      const ran = (ea.get(r.name) ?? 0) + (eb.get(r.name) ?? 0);
      if (ran !== r.n) mismatches.push(`${r.name}: pg-boss attempts ${r.n}, executions ${ran} (a ${ea.get(r.name) ?? 0}, b ${eb.get(r.name) ?? 0})`);
    }
    expect(mismatches).toEqual([]);
    const perProcess = { a: Object.fromEntries(ea), b: Object.fromEntries(eb) };
    fig.set('executions', perProcess);
    // Both processes synced calendars (the work really was shared).
    expect(ea.get('sync.events') ?? 0).toBeGreaterThan(0);
    expect(eb.get('sync.events') ?? 0).toBeGreaterThan(0);
    expect(Math.abs(received.a - received.b)).toBeLessThanOrEqual(1);
  });
});
