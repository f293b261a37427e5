// The swap saga under failure: a concurrent edit between read and update (412 -> read again; an
// answer given meanwhile survives), a
// transient failure between the two patches (the second is retried), a permanent one (the first
// is undone, another colleague is tried), and a service restart in the middle of a swap. The
// service reaches the emulator through a small proxy that lets a test act between two requests.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.ts';
import { startOncallHarness, hoursFromNow, overlapsOf, waitFor, type OncallHarness } from './harness.ts';

setDefaultTimeout(40_000);

const OWNER = 'saga-bot@example.com';
const ADA = 'ada@saga.test';
const BOB = 'bob@saga.test';
const CY = 'cy@saga.test';
const team = [
  { email: ADA, name: 'Ada' },
  { email: BOB, name: 'Bob' },
  { email: CY, name: 'Cy' },
];

let emu: Emulator;
let database: TestDatabase & { url: string };
let proxy: HttpProxy;
let h: OncallHarness;
let h2: OncallHarness | undefined;
let hook: ((req: Request, url: URL) => Promise<void>) | undefined;
/** What went through the proxy (method, path, status), in order. */
const seen = () => proxy.seen;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  database = await createTestDatabase();
  proxy = startHttpProxy({ target: emu.url, hook: (req, url) => hook?.(req, url) });
  h = await startOncallHarness('oncall-swap-saga', { ownerEmail: OWNER, emu, database, googleUrl: `http://127.0.0.1:${proxy.port}/` });
  await h.emuJson('slack/users', { email: ADA, id: 'U0SAGAADA' });
  await h.emuJson('slack/users', { email: BOB, id: 'U0SAGABOB' });
}, 60_000);

afterAll(async () => {
  hook = undefined;
  await h2?.stop();
  await h?.stop().catch(() => {});
  await proxy?.stop();
  await emu?.stop();
  await database?.drop();
}, 30_000);

async function completedSwap(hh: OncallHarness, groupId: string) {
  return waitFor(
    async () => {
      const rows = await hh.swapRows(groupId);
      return rows.some((r) => r.state === 'completed') ? rows : undefined;
    },
    { what: `a completed swap in ${groupId}`, timeoutMs: 30_000 },
  );
}

async function oneMessage(hh: OncallHarness, channel: string) {
  await waitFor(async () => (await hh.slackMessages(channel)).length > 0, { what: `a message in ${channel}` });
  await hh.quiet({ timeoutMs: 30_000 });
  return hh.slackMessages(channel);
}

describe('etags', () => {
  test('an edit between our read and our update: Google answers 412, we read again and keep the edit', async () => {
    const g = await h.createGroup('Etag', team, { channel: 'C0ETAG' });
    const shifts = await h.schedule(g.id, hoursFromNow(24), 8, 2);
    const target = shifts[0]!.googleEventId;
    let edited = false;
    hook = async (req, url) => {
      if (edited || req.method !== 'PUT' || !url.pathname.endsWith(`/events/${target}`)) return;
      edited = true;
      // Someone edits the event in Google Calendar after we read it: our etag is now stale.
      const ev = await h.event(target);
      await h.emuJson(`calendars/${encodeURIComponent(OWNER)}/events/${target}`, { ...ev, location: 'War room' }, 'PUT');
    };
    try {
      await h.respond(target, ADA, 'declined');
      await completedSwap(h, g.id);
    } finally {
      hook = undefined;
    }
    const patches = seen().filter((r) => r.method === 'PUT' && r.path.endsWith(`/events/${target}`));
    expect(patches.map((p) => p.status)).toEqual([412, 200]);
    const ev = await h.event(target);
    expect(ev.location).toBe('War room');
    expect(ev.attendees.map((a: any) => a.email)).toEqual([BOB]);
    expect((await oneMessage(h, 'C0ETAG')).length).toBe(1);
  });
});

describe('answers given while we write', () => {
  test("another guest's answer arriving between our read and our write survives (the attendee list is written whole)", async () => {
    const OBSERVER = 'observer@saga.test';
    const g = await h.createGroup('Answers', team, { channel: 'C0ANSWERS' });
    const shifts = await h.schedule(g.id, hoursFromNow(36), 8, 2); // ada bob
    const target = shifts[0]!.googleEventId;
    // The owner adds an observer to ada's shift in Google Calendar.
    const ev0 = await h.event(target);
    await h.emuJson(`calendars/${encodeURIComponent(OWNER)}/events/${target}`, { ...ev0, attendees: [...ev0.attendees, { email: OBSERVER }] }, 'PUT');
    await h.mirrored(target, OBSERVER, 'needsAction');
    await h.quiet();
    let answered = false;
    hook = async (req, url) => {
      if (answered || (req.method !== 'PUT' && req.method !== 'PATCH') || !url.pathname.endsWith(`/events/${target}`)) return;
      answered = true;
      // We have read the event (observer: needsAction); the observer accepts before our write lands.
      await h.respond(target, OBSERVER, 'accepted');
    };
    try {
      await h.respond(target, ADA, 'declined');
      await completedSwap(h, g.id);
    } finally {
      hook = undefined;
    }
    expect(answered).toBe(true);
    const ev = await h.event(target);
    expect(ev.attendees.map((a: any) => [a.email, a.responseStatus]).sort()).toEqual([[BOB, 'needsAction'], [OBSERVER, 'accepted']]);
    expect((await oneMessage(h, 'C0ANSWERS')).length).toBe(1);
  });
});

describe('a failure between the two patches', () => {
  test('transient: the second patch is retried by the job, never left half-swapped', async () => {
    const g = await h.createGroup('Transient', team, { channel: 'C0TRANSIENT' });
    const shifts = await h.schedule(g.id, hoursFromNow(30), 8, 3); // ada bob cy
    const [a, b] = [shifts[0]!, shifts[1]!];
    // Google fails every call on bob's event for a while: 4 x 500 (callGoogle tries 3 times per job attempt).
    await h.emuJson('faults', { status: 500, count: 4, paths: b.googleEventId });
    let halfSwapSeen = false;
    await h.respond(a.googleEventId, ADA, 'declined');
    await waitFor(
      async () => {
        const [ea, eb] = [await h.attendeesOf(a.googleEventId), await h.attendeesOf(b.googleEventId)];
        if (ea[0] === BOB && eb[0] === BOB) halfSwapSeen = true;
        const rows = await h.swapRows(g.id);
        return rows[0]?.state === 'completed';
      },
      { what: 'the swap to complete after the retry', timeoutMs: 30_000, intervalMs: 10 },
    );
    const rows = await h.swapRows(g.id);
    expect(rows.length).toBe(1);
    expect(rows[0].attempts).toBeGreaterThanOrEqual(2);
    expect(halfSwapSeen).toBe(true); // the window existed...
    expect(await h.attendeesOf(a.googleEventId)).toEqual([BOB]); // ...and was closed
    expect(await h.attendeesOf(b.googleEventId)).toEqual([ADA]);
    const now = await h.shifts(g.id);
    expect(now.map((s) => s.assigneeEmail)).toEqual([BOB, ADA, CY]);
    expect((await oneMessage(h, 'C0TRANSIENT')).length).toBe(1);
  });

  test('permanent: the first patch is undone, the swap aborted, and the next colleague takes it', async () => {
    const g = await h.createGroup('Undo', team, { channel: 'C0UNDO' });
    const shifts = await h.schedule(g.id, hoursFromNow(36), 8, 3); // ada bob cy
    const [a, b, c] = [shifts[0]!, shifts[1]!, shifts[2]!];
    // bob's event is deleted in Google behind calwatch's back: patching it fails for good (404/cancelled).
    await h.emuJson(`calendars/${encodeURIComponent(OWNER)}/events/${b.googleEventId}`, undefined, 'DELETE');
    await h.respond(a.googleEventId, ADA, 'declined');
    const rows = await completedSwap(h, g.id);
    await h.quiet({ timeoutMs: 30_000 });
    expect(rows.map((r) => [r.state, r.swap_shift_id])).toEqual([
      ['aborted', b.id],
      ['completed', c.id],
    ]);
    expect(rows[0].last_error).toContain(b.googleEventId);
    expect(await h.attendeesOf(a.googleEventId)).toEqual([CY]);
    expect(await h.attendeesOf(c.googleEventId)).toEqual([ADA]);
    const now = await h.shifts(g.id);
    expect(now.map((s) => [s.assigneeEmail, s.status])).toEqual([
      [CY, 'SWAPPED'],
      [BOB, 'SCHEDULED'],
      [ADA, 'SWAPPED'],
    ]);
    const msgs = await h.slackMessages('C0UNDO');
    expect(msgs.length).toBe(1); // only the swap that went through is announced
    // Every update on ada's event: to bob, back to ada, to cy.
    const patches = seen().filter((r) => r.method === 'PUT' && r.path.endsWith(`/events/${a.googleEventId}`));
    expect(patches.map((p) => p.status)).toEqual([200, 200, 200]);
  });
});

describe('a decline racing its own swap', () => {
  test('the colleague declining the moment the swap puts them on the event is handled after the swap completes', async () => {
    const g = await h.createGroup('Quick', team, { channel: 'C0QUICK' });
    const shifts = await h.schedule(g.id, hoursFromNow(40), 8, 3); // ada bob cy
    const [a, b, c] = [shifts[0]!, shifts[1]!, shifts[2]!];
    // The second patch keeps failing for a while, so the swap stays pending with bob already on "a".
    await h.emuJson('faults', { status: 500, count: 4, paths: b.googleEventId });
    await h.respond(a.googleEventId, ADA, 'declined');
    await waitFor(async () => (await h.attendeesOf(a.googleEventId))[0] === BOB, { what: 'bob put on the event', intervalMs: 5 });
    expect((await h.swapRows(g.id))[0].state).toBe('pending');
    await h.respond(a.googleEventId, BOB, 'declined');
    await waitFor(async () => (await h.swapRows(g.id)).filter((r) => r.state === 'completed').length === 2, { what: 'two swaps', timeoutMs: 30_000 });
    await h.quiet({ timeoutMs: 30_000 });
    const rows = await h.swapRows(g.id);
    expect(rows.map((r) => [r.from_email, r.to_email, r.swap_shift_id])).toEqual([
      [ADA, BOB, b.id],
      [BOB, CY, c.id], // not back to ada (no ping-pong, and she declined it)
    ]);
    const now = await h.shifts(g.id);
    expect(now.map((s) => s.assigneeEmail)).toEqual([CY, ADA, BOB]);
    expect(await h.attendeesOf(a.googleEventId)).toEqual([CY]);
    expect(await h.attendeesOf(c.googleEventId)).toEqual([BOB]);
    expect((await h.slackMessages('C0QUICK')).length).toBe(2);
  });
});

describe('a restart in the middle of a swap', () => {
  test('the swap pending in the database is resumed by the next process and completed', async () => {
    const g = await h.createGroup('Crash', team, { channel: 'C0CRASH' });
    const shifts = await h.schedule(g.id, hoursFromNow(48), 8, 3);
    const [a, b] = [shifts[0]!, shifts[1]!];
    await h.emuJson('faults', { status: 500, count: 100000, paths: b.googleEventId });
    await h.respond(a.googleEventId, ADA, 'declined');
    // First patch done, second impossible: the process dies now.
    await waitFor(async () => (await h.attendeesOf(a.googleEventId))[0] === BOB, { what: 'the first patch', timeoutMs: 20_000 });
    await waitFor(async () => (await h.swapRows(g.id))[0]?.state === 'pending', { what: 'a pending swap' });
    await h.t.stop();
    expect((await h.swapRows(g.id))[0].state).toBe('pending');
    expect(await h.attendeesOf(b.googleEventId)).toEqual([BOB]); // half-swapped in Google
    await h.emuJson('faults', { status: 500, count: 0 });

    h2 = await startOncallHarness('oncall-swap-saga-2', { ownerEmail: OWNER, emu, database, googleUrl: `http://127.0.0.1:${proxy.port}/`, waitChannel: false });
    // Whatever lease the dead process held has run out by the new process's clock.
    h2.t.clock.advance(5 * 60_000);
    await completedSwap(h2, g.id);
    const rows = await h2.swapRows(g.id);
    expect(rows.length).toBe(1);
    expect(await h2.attendeesOf(a.googleEventId)).toEqual([BOB]);
    expect(await h2.attendeesOf(b.googleEventId)).toEqual([ADA]);
    const now = await h2.shifts(g.id);
    expect(now.map((s) => s.assigneeEmail)).toEqual([BOB, ADA, CY]);
    expect(overlapsOf(now)).toEqual([]);
    expect((await oneMessage(h2, 'C0CRASH')).length).toBe(1);
  });
});
