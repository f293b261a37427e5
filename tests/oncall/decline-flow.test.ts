// The on-call flow end to end, through the real path: an attendee declines in (emulated) Google
// Calendar -> push notification to the webhook -> event sync -> change set -> oncall.declined ->
// swap (both Google events updated) -> one Slack message.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { declinedJob, notifyJob } from '../../src/oncall/index.ts';
import { startOncallHarness, hoursFromNow, overlapsOf, waitFor, type OncallHarness, type ShiftView } from './harness.ts';

setDefaultTimeout(30_000);

let h: OncallHarness;
const ADA = 'ada@team.test';
const BOB = 'bob@team.test';
const CY = 'cy@team.test';
const DEE = 'dee@team.test';

beforeAll(async () => {
  h = await startOncallHarness('oncall-decline-flow', { ownerEmail: 'oncall-bot@example.com' });
  await h.emuJson('slack/users', { email: ADA, id: 'U0ADA0001', name: 'ada' });
  await h.emuJson('slack/users', { email: BOB, id: 'U0BOB0001', name: 'bob' });
  // cy is not in Slack: named, not mentioned. dee's id is given by the admin.
}, 60_000);
afterAll(() => h?.stop(), 30_000);

const team = () => [
  { email: ADA, name: 'Ada' },
  { email: BOB, name: 'Bob' },
  { email: CY, name: 'Cy' },
];

async function waitSwap(groupId: string, n = 1) {
  return waitFor(
    async () => {
      const rows = await h.swapRows(groupId);
      return rows.filter((r) => r.state === 'completed').length >= n ? rows : undefined;
    },
    { what: `${n} completed swap(s) in ${groupId}`, timeoutMs: 20_000 },
  );
}

describe('scheduleRotation', () => {
  test('inserts round-robin events with the assignee invited (sendUpdates=all) and stores the shifts', async () => {
    const g = await h.createGroup('Rotation', team());
    expect(g.members.map((m: any) => [m.email, m.slackUserId])).toEqual([
      [ADA, 'U0ADA0001'],
      [BOB, 'U0BOB0001'],
      [CY, null],
    ]);
    const mark = await h.requestMark();
    const start = hoursFromNow(48);
    const shifts = await h.schedule(g.id, start, 8, 4);
    expect(shifts.map((s) => s.assigneeEmail)).toEqual([ADA, BOB, CY, ADA]);
    expect(shifts.map((s) => s.status)).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'SCHEDULED']);
    expect(new Date(shifts[1]!.start).getTime() - start.getTime()).toBe(8 * 3600_000);
    const inserts = (await h.requests(mark, '/events')).filter((r) => r.method === 'POST' && !r.path.includes('/watch'));
    expect(inserts.length).toBe(4);
    expect(inserts.every((r) => r.query.sendUpdates === 'all' && r.status === 200)).toBe(true);
    for (const s of shifts) {
      const ev = await h.event(s.googleEventId);
      expect(ev.attendees.map((a: any) => a.email)).toEqual([s.assigneeEmail]);
      expect(ev.summary).toBe(`On-call: Rotation — ${s.assigneeEmail === ADA ? 'Ada' : s.assigneeEmail === BOB ? 'Bob' : 'Cy'}`);
      expect(new Date(ev.start.dateTime).toISOString()).toBe(s.start);
    }
    // A second rotation continues the round robin after the last assignee.
    const more = await h.schedule(g.id, new Date(start.getTime() + 4 * 8 * 3600_000), 8, 2);
    expect(more.map((s) => s.assigneeEmail)).toEqual([BOB, CY]);
  });

  test('an overlapping layer never gives anyone two shifts at once', async () => {
    const g = await h.createGroup('Layers', team());
    const start = hoursFromNow(500);
    const primary = await h.schedule(g.id, start, 24, 3);
    const secondary = await h.schedule(g.id, start, 24, 3);
    expect(overlapsOf([...primary, ...secondary])).toEqual([]);
    // A third layer over three people is impossible.
    await h.schedule(g.id, start, 24, 3);
    const r = await h.gqlRaw(`mutation($i: ScheduleRotationInput!) { scheduleRotation(input: $i) { id } }`, {
      i: { groupId: g.id, start: start.toISOString(), shiftHours: 24, count: 1 },
    });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('a decline in Google Calendar', () => {
  let groupId: string;
  let shifts: ShiftView[];

  test('swaps with the next colleague: both events exchanged in Google, one swap, one Slack message', async () => {
    const g = await h.createGroup('Payments', team(), { channel: 'C0PAYMENTS' });
    groupId = g.id;
    shifts = await h.schedule(g.id, hoursFromNow(24), 8, 6); // ada bob cy ada bob cy
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');

    const rows = await waitSwap(groupId);
    await h.quiet();
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({ kind: 'auto', state: 'completed', from_email: ADA, to_email: BOB, declined_shift_id: shifts[0]!.id, swap_shift_id: shifts[1]!.id });

    const now = await h.shifts(groupId);
    expect(now[0]).toMatchObject({ assigneeEmail: BOB, status: 'SWAPPED', swappedWith: { id: shifts[1]!.id }, declinedBy: ADA });
    expect(now[0]!.declinedOn).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date()));
    expect(now[1]).toMatchObject({ assigneeEmail: ADA, status: 'SWAPPED', swappedWith: { id: shifts[0]!.id } });
    expect(now.slice(2).map((s) => s.status)).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'SCHEDULED']);

    expect(await h.attendeesOf(shifts[0]!.googleEventId)).toEqual([BOB]);
    expect(await h.attendeesOf(shifts[1]!.googleEventId)).toEqual([ADA]);
    expect((await h.event(shifts[0]!.googleEventId)).summary).toBe('On-call: Payments — Bob');

    const msgs = await h.slackMessages('C0PAYMENTS');
    expect(msgs.length).toBe(1);
    expect(msgs[0]!.text).toContain('<@U0ADA0001>');
    expect(msgs[0]!.text).toContain('<@U0BOB0001>');
    expect(msgs[0]!.text).toContain('*Payments*');
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', day: 'numeric', month: 'short' });
    expect(msgs[0]!.text).toContain(fmt.format(new Date(shifts[0]!.start)));
    expect(msgs[0]!.text).toContain(fmt.format(new Date(shifts[1]!.start)));

    // The swap's Slack ts is recorded.
    const d = await h.gql(`query($id: ID!) { oncallGroup(id: $id) { swaps { state fromEmail toEmail slackTs declinedShift { id } swapShift { id } } } }`, { id: groupId });
    expect(d.oncallGroup.swaps).toEqual([
      { state: 'COMPLETED', fromEmail: ADA, toEmail: BOB, slackTs: msgs[0]!.ts, declinedShift: { id: shifts[0]!.id }, swapShift: { id: shifts[1]!.id } },
    ]);
  });

  test('the two updates (events.update under If-Match) went to Google with sendUpdates=all', async () => {
    const patches = (await h.requests(0, '/events/')).filter((r) => r.method === 'PUT' && (r.path.endsWith(shifts[0]!.googleEventId) || r.path.endsWith(shifts[1]!.googleEventId)));
    expect(patches.length).toBe(2);
    expect(patches.every((p) => p.query.sendUpdates === 'all' && p.status === 200)).toBe(true);
  });

  test('the swapped-in person declining in turn is swapped onward, never back (no ping-pong)', async () => {
    // bob now holds shift 0; ada (who declined it) holds shift 1. bob declines shift 0.
    await h.respond(shifts[0]!.googleEventId, BOB, 'declined');
    await waitSwap(groupId, 2);
    await h.quiet();
    const rows = await h.swapRows(groupId);
    expect(rows.length).toBe(2);
    expect(rows[1]).toMatchObject({ from_email: BOB, to_email: CY, declined_shift_id: shifts[0]!.id, swap_shift_id: shifts[2]!.id });
    const now = await h.shifts(groupId);
    expect(now.map((s) => s.assigneeEmail)).toEqual([CY, ADA, BOB, ADA, BOB, CY]);
    expect(await h.attendeesOf(shifts[0]!.googleEventId)).toEqual([CY]);
    expect(await h.attendeesOf(shifts[2]!.googleEventId)).toEqual([BOB]);
    expect(await h.attendeesOf(shifts[1]!.googleEventId)).toEqual([ADA]);
    const msgs = await h.slackMessages('C0PAYMENTS');
    expect(msgs.length).toBe(2);
    expect(msgs[1]!.text).toContain('Cy (cy@team.test)');
    expect(msgs[1]!.text).toContain('<@U0BOB0001>');
  });

  test('an event change that does not touch the assignee response does nothing', async () => {
    const before = await h.swapRows(groupId);
    const ev = await h.event(shifts[3]!.googleEventId);
    // Someone renames the event and adds a guest who declines: the assignee (ada) did not decline.
    await h.emuJson(`calendars/${encodeURIComponent(h.owner.email)}/events/${ev.id}`, { ...ev, summary: 'renamed', attendees: [...ev.attendees, { email: 'guest@team.test' }] }, 'PUT');
    await h.respond(shifts[3]!.googleEventId, 'guest@team.test', 'declined');
    await h.mirrored(shifts[3]!.googleEventId, 'guest@team.test', 'declined');
    await h.quiet();
    expect((await h.swapRows(groupId)).length).toBe(before.length);
    expect((await h.shifts(groupId))[3]!.status).toBe('SCHEDULED');
    const jobs = await h.sql`select count(*)::int as n from pgboss.job where name = 'oncall.declined' and data->>'shiftId' = ${shifts[3]!.id}`;
    expect(jobs[0]!.n).toBe(0);
  });
});

describe("the assignee's own copy of the shift event", () => {
  test('declining on their own calendar (Google copies the invitation there, same id) swaps the shift; the copies follow the swap', async () => {
    const EVE = 'eve@copies.test';
    const FAY = 'fay@copies.test';
    // Both are Google users: each shift event is copied into the assignee's calendar.
    await h.emuJson('users', { email: EVE });
    await h.emuJson('users', { email: FAY });
    const g = await h.createGroup('Copies', [{ email: EVE, name: 'Eve' }, { email: FAY, name: 'Fay' }], { channel: 'C0COPIES' });
    const shifts = await h.schedule(g.id, hoursFromNow(60), 8, 2); // eve fay
    const [a, b] = [shifts[0]!.googleEventId, shifts[1]!.googleEventId];
    const liveOn = async (cal: string) => (await h.emuJson<{ items: any[] }>(`calendars/${encodeURIComponent(cal)}/events`)).items.map((e) => e.id);
    expect(await liveOn(EVE)).toContain(a);
    await h.emuJson(`calendars/${encodeURIComponent(EVE)}/events/${a}/respond`, { email: EVE, responseStatus: 'declined' });
    const rows = await waitSwap(g.id);
    expect(rows[0]).toMatchObject({ state: 'completed', from_email: EVE, to_email: FAY });
    expect(await h.attendeesOf(a)).toEqual([FAY]);
    expect(await h.attendeesOf(b)).toEqual([EVE]);
    // Eve's calendar now holds b and no longer a; Fay's the other way round.
    expect(await liveOn(EVE)).toContain(b);
    expect(await liveOn(EVE)).not.toContain(a);
    expect(await liveOn(FAY)).toContain(a);
    expect(await liveOn(FAY)).not.toContain(b);
    await h.quiet();
  });

  test("with the assignee's calendar also selected, their copy (same event id) is not the shift's event: deleting it changes nothing", async () => {
    const GIA = 'gia@copies.test';
    const HAL = 'hal@copies.test';
    await h.emuJson('users', { email: GIA });
    await h.emuJson('users', { email: HAL });
    // Gia shares her calendar with the owner, who selects it (calwatch mirrors it too).
    await h.emuJson('calendars', { owner: GIA, primary: true, members: [{ email: h.owner.email, role: 'reader' }] });
    await h.t.trpc('calendars.resync', { externalOwnerId: h.owner.externalOwnerId });
    await waitFor(
      async () => (await h.t.trpc<any>('links.get', { externalOwnerId: h.owner.externalOwnerId })).body.result?.data.calendars.some((c: any) => c.calendarId === GIA),
      { what: "Gia's calendar in the owner's list" },
    );
    expect((await h.t.trpc('calendars.setSelected', { externalOwnerId: h.owner.externalOwnerId, calendarId: GIA, selected: true })).status).toBe(200);
    const g = await h.createGroup('Shared', [{ email: GIA, name: 'Gia' }, { email: HAL, name: 'Hal' }], { channel: 'C0SHARED' });
    const shifts = await h.schedule(g.id, hoursFromNow(72), 8, 2); // gia hal
    const a = shifts[0]!.googleEventId;
    const onGia = async () =>
      (await h.sql`select e.status from calendar_events e join calendars c on c.id = e.calendar_id
        where c.google_calendar_id = ${GIA} and e.google_event_id = ${a}`)[0]?.status as string | undefined;
    await waitFor(async () => (await onGia()) === 'confirmed', { what: "Gia's copy mirrored", timeoutMs: 20_000 });
    // Gia removes the invitation from her calendar (her copy only: the organizer's event stays).
    await h.emuJson(`calendars/${encodeURIComponent(GIA)}/events/${a}`, undefined, 'DELETE');
    await waitFor(async () => (await onGia()) !== 'confirmed', { what: "Gia's deleted copy mirrored", timeoutMs: 20_000 });
    await h.quiet();
    expect((await h.shifts(g.id)).map((s) => [s.assigneeEmail, s.status])).toEqual([[GIA, 'SCHEDULED'], [HAL, 'SCHEDULED']]);
    expect(await h.swapRows(g.id)).toEqual([]);
    expect(await h.attendeesOf(a)).toEqual([GIA]);
    await h.t.trpc('calendars.setSelected', { externalOwnerId: h.owner.externalOwnerId, calendarId: GIA, selected: false });
  });
});

describe('duplicates and races', () => {
  test('20 duplicate notifications (and 20 duplicate jobs) still give exactly one swap and one message', async () => {
    const g = await h.createGroup('Dupes', team(), { channel: 'C0DUPES' });
    const shifts = await h.schedule(g.id, hoursFromNow(30), 8, 3);
    await h.emuJson('faults', { duplicateNotifications: 1 });
    try {
      await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
      await h.mirrored(shifts[0]!.googleEventId, ADA, 'declined');
      const ctx = h.t.service.ctx;
      const { enqueueEventSync, findCalendar } = await import('../../src/sync/index.ts');
      const cal = (await findCalendar(ctx, h.owner.ownerId, 'primary'))!;
      for (let i = 0; i < 20; i++) {
        await enqueueEventSync(ctx, cal.id, { reason: 'notification', notifiedAt: new Date() });
        await declinedJob.send(ctx, { shiftId: shifts[0]!.id, assigneeEmail: ADA });
      }
      await waitSwap(g.id);
      await h.quiet();
    } finally {
      await h.emuJson('faults', { duplicateNotifications: 0 });
    }
    expect((await h.swapRows(g.id)).length).toBe(1);
    expect((await h.slackMessages('C0DUPES')).length).toBe(1);
    const now = await h.shifts(g.id);
    expect(now.map((s) => s.assigneeEmail)).toEqual([BOB, ADA, CY]);
    const pushes = (await h.emuJson('notifications')).items.filter((n: any) => n.state === 'exists');
    expect(pushes.length).toBeGreaterThan(1);
  });

  test('two declines at once in one group never give one person two overlapping shifts', async () => {
    // Two layers: at T1 ada (primary) and bob (secondary); at T2 cy and dee.
    const g = await h.createGroup('Race', [...team(), { email: DEE, name: 'Dee', slackUserId: 'U0DEE0001' }], { channel: 'C0RACE' });
    const t1 = hoursFromNow(72);
    await h.schedule(g.id, t1, 24, 2); // ada T1, bob T2
    await h.schedule(g.id, t1, 24, 2); // cy T1, dee T2
    const before = await h.shifts(g.id);
    const atT1 = before.filter((s) => s.start === t1.toISOString());
    expect(atT1.length).toBe(2);
    // Both T1 people decline at the same moment.
    await Promise.all(atT1.map((s) => h.respond(s.googleEventId, s.assigneeEmail, 'declined')));
    await waitSwap(g.id, 2);
    await h.quiet();
    const after = await h.shifts(g.id);
    expect(overlapsOf(after)).toEqual([]);
    // Both T1 shifts changed hands, to two different people, matching Google.
    const t1After = after.filter((s) => s.start === t1.toISOString());
    expect(t1After.every((s) => s.status === 'SWAPPED')).toBe(true);
    expect(new Set(t1After.map((s) => s.assigneeEmail)).size).toBe(2);
    for (const s of after) expect(await h.attendeesOf(s.googleEventId)).toEqual([s.assigneeEmail]);
    expect((await h.slackMessages('C0RACE')).length).toBe(2);
  });

  test('two swap workers on the same group at once: one decides, the other waits its turn', async () => {
    const { processGroupSwaps } = await import('../../src/oncall/swap.ts');
    const ctx = h.t.service.ctx;
    const g = await h.createGroup('Workers', [...team(), { email: DEE, name: 'Dee' }], { channel: 'C0WORKERS' });
    const t1 = hoursFromNow(96);
    await h.schedule(g.id, t1, 24, 2);
    await h.schedule(g.id, t1, 24, 2);
    const shifts = await h.shifts(g.id);
    // Record both declines directly (as the job would), then race two workers by hand.
    await h.sql`update shifts set status = 'declined', declined_by = assignee_email, declined_on = current_date where group_id = ${g.id} and start_at = ${t1}`;
    await Promise.all([processGroupSwaps(ctx, g.id), processGroupSwaps(ctx, g.id)]);
    await waitSwap(g.id, 2);
    await h.quiet();
    const after = await h.shifts(g.id);
    expect(overlapsOf(after)).toEqual([]);
    expect((await h.swapRows(g.id)).length).toBe(2);
    expect(after.filter((s) => s.start === t1.toISOString()).every((s) => s.status === 'SWAPPED')).toBe(true);
    expect(shifts.length).toBe(4);
  });
});

describe('no swap possible, or not wanted', () => {
  test('no candidate: the shift becomes uncovered and Slack gets one message asking for cover', async () => {
    const g = await h.createGroup('Solo', [{ email: ADA, name: 'Ada' }], { channel: 'C0SOLO' });
    const shifts = await h.schedule(g.id, hoursFromNow(40), 8, 2);
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
    await waitFor(async () => (await h.shifts(g.id))[0]!.status === 'UNCOVERED', { what: 'shift uncovered' });
    await h.quiet();
    const msgs = await waitFor(async () => {
      const m = await h.slackMessages('C0SOLO');
      return m.length ? m : undefined;
    });
    expect(msgs.length).toBe(1);
    expect(msgs[0]!.text).toContain('Cover needed');
    expect(msgs[0]!.text).toContain('<@U0ADA0001>');
    expect((await h.swapRows(g.id)).length).toBe(0);
    expect(await h.attendeesOf(shifts[0]!.googleEventId)).toEqual([ADA]);
    // A further notification changes nothing.
    await h.respond(shifts[0]!.googleEventId, ADA, 'tentative');
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
    await h.mirrored(shifts[0]!.googleEventId, ADA, 'declined');
    await h.quiet();
    expect((await h.slackMessages('C0SOLO')).length).toBe(1);
  });

  test('a decline on a shift that is already running is ignored', async () => {
    const g = await h.createGroup('Running', team(), { channel: 'C0RUNNING' });
    const shifts = await h.schedule(g.id, new Date(Date.now() - 3600_000), 8, 3); // the first started an hour ago
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
    await h.mirrored(shifts[0]!.googleEventId, ADA, 'declined');
    await h.quiet();
    const now = await h.shifts(g.id);
    expect(now[0]).toMatchObject({ assigneeEmail: ADA, status: 'SCHEDULED', declinedOn: null });
    expect((await h.swapRows(g.id)).length).toBe(0);
    expect((await h.slackMessages('C0RUNNING')).length).toBe(0);
  });

  test('a decline that becomes past by the service clock is ignored', async () => {
    const g = await h.createGroup('Clock', team(), { channel: 'C0CLOCK' });
    const shifts = await h.schedule(g.id, hoursFromNow(5), 8, 2);
    h.t.clock.advance(6 * 3600_000);
    try {
      await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
      await h.mirrored(shifts[0]!.googleEventId, ADA, 'declined');
      await h.quiet();
    } finally {
      h.t.clock.offsetMs = 0;
    }
    expect((await h.shifts(g.id))[0]!.status).toBe('SCHEDULED');
    expect((await h.swapRows(g.id)).length).toBe(0);
  });
});

describe('Slack', () => {
  test('429 then ok: the message job retries after Retry-After and posts exactly once', async () => {
    const g = await h.createGroup('Limited', team(), { channel: 'C0LIMITED' });
    const shifts = await h.schedule(g.id, hoursFromNow(60), 8, 3);
    await h.emuJson('slack/faults', { status: 429, count: 1, retryAfter: 1 });
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
    await waitSwap(g.id);
    const msgs = await waitFor(async () => {
      const m = await h.slackMessages('C0LIMITED');
      return m.length ? m : undefined;
    }, { timeoutMs: 20_000, what: 'the Slack message after a 429' });
    await h.quiet();
    expect((await h.slackMessages('C0LIMITED')).length).toBe(1);
    const [row] = await h.sql`select id, state, attempts, slack_ts from oncall_messages where group_id = ${g.id}`;
    expect(row).toMatchObject({ state: 'posted', attempts: 2, slack_ts: msgs[0]!.ts });
    // The retry waited what Retry-After said (1 s), not the queue's own backoff.
    const posts = await h.requests(0, '/slack/api/chat.postMessage');
    const [limited, ok] = posts.slice(-2);
    expect(limited!.status).toBe(429);
    expect(new Date(ok!.at).getTime() - new Date(limited!.at).getTime()).toBeGreaterThanOrEqual(900);
    const [job] = await h.sql`select retry_delay, retry_backoff from pgboss.job where name = 'oncall.notify' and data->>'messageId' = ${row!.id}`;
    expect(job).toMatchObject({ retry_delay: 1, retry_backoff: false });
  });

  test('a retried job never posts again when the first post may have gone out', async () => {
    const g = await h.createGroup('Twice', [{ email: ADA, name: 'Ada' }], { channel: 'C0TWICE' });
    const shifts = await h.schedule(g.id, hoursFromNow(44), 8, 1);
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
    await waitFor(async () => (await h.slackMessages('C0TWICE')).length === 1, { what: 'the cover request' });
    await h.quiet();
    // As if the process died after Slack answered and before the ts was recorded.
    const [m] = await h.sql`update oncall_messages set state = 'posting', slack_ts = null where group_id = ${g.id} returning id`;
    await notifyJob.send(h.t.service.ctx, { messageId: m!.id });
    await waitFor(async () => (await h.sql`select state from oncall_messages where id = ${m!.id}`)[0]!.state === 'unknown', { what: 'state unknown' });
    await h.quiet();
    expect((await h.slackMessages('C0TWICE')).length).toBe(1);
    // And a posted message is never posted again either.
    await h.sql`update oncall_messages set state = 'posted', slack_ts = '1.000001' where id = ${m!.id}`;
    await notifyJob.send(h.t.service.ctx, { messageId: m!.id });
    await h.quiet();
    expect((await h.slackMessages('C0TWICE')).length).toBe(1);
  });

  test('a message Slack refuses for good (channel_not_found) is not retried', async () => {
    const g = await h.createGroup('Refused', [{ email: ADA, name: 'Ada' }], { channel: 'C0NOWHERE' });
    const shifts = await h.schedule(g.id, hoursFromNow(46), 8, 1);
    await h.emuJson('slack/faults', { error: 'channel_not_found', count: 1, method: 'chat.postMessage' });
    await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
    await waitFor(async () => (await h.sql`select state from oncall_messages where group_id = ${g.id}`)[0]?.state === 'failed', { what: 'message failed' });
    await h.quiet();
    const [row] = await h.sql`select attempts, last_error from oncall_messages where group_id = ${g.id}`;
    expect(row).toMatchObject({ attempts: 1, last_error: 'channel_not_found' });
    expect((await h.slackMessages('C0NOWHERE')).length).toBe(0);
    expect((await h.shifts(g.id))[0]!.status).toBe('UNCOVERED');
  });
});

describe('admin GraphQL', () => {
  const SHIFT_FIELDS = 'id assigneeEmail start end status declinedOn swappedWith { id } googleEventId';

  test('401 without the admin token, for queries and mutations alike', async () => {
    for (const token of [null, 'wrong-token']) {
      const q = await h.gqlRaw('{ oncallGroups { edges { node { id } } } }', {}, { token });
      expect(q.status).toBe(401);
      expect(q.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const m = await h.gqlRaw(`mutation { swapShifts(input: {declinedShiftId: "x", swapShiftId: "y"}) { id } }`, {}, { token });
      expect(m.status).toBe(401);
      expect(m.body.data).toBeUndefined();
    }
  });

  test('oncallGroups is a Relay connection; oncallGroup(id) answers null for unknown or malformed ids', async () => {
    const page = await h.gql('{ oncallGroups(first: 2) { edges { cursor node { id name timeZone calendarId externalOwnerId } } pageInfo { hasNextPage endCursor } } }');
    expect(page.oncallGroups.edges.length).toBe(2);
    expect(page.oncallGroups.pageInfo.hasNextPage).toBe(true);
    expect(page.oncallGroups.edges[0].node).toMatchObject({ calendarId: h.owner.email, externalOwnerId: h.owner.externalOwnerId, timeZone: 'Europe/Paris' });
    const next = await h.gql('query($a: String) { oncallGroups(first: 2, after: $a) { edges { node { id } } } }', { a: page.oncallGroups.pageInfo.endCursor });
    expect(next.oncallGroups.edges[0].node.id).not.toBe(page.oncallGroups.edges[1].node.id);
    expect((await h.gql('{ oncallGroup(id: "not-a-uuid") { id } }')).oncallGroup).toBeNull();
    expect((await h.gql('{ oncallGroup(id: "00000000-0000-4000-8000-000000000000") { id } }')).oncallGroup).toBeNull();
  });

  test('createOncallGroup refuses an unknown owner, a bad zone, a foreign calendar, a repeated member', async () => {
    const base = { name: 'X', externalOwnerId: h.owner.externalOwnerId, calendarId: 'primary', slackChannel: '#x', timeZone: 'Europe/Paris', members: [] as unknown[] };
    const create = (input: Record<string, unknown>) => h.gqlRaw(`mutation($i: CreateOncallGroupInput!) { createOncallGroup(input: $i) { id } }`, { i: { ...base, ...input } });
    const code = async (input: Record<string, unknown>) => (await create(input)).body.errors?.[0]?.extensions?.code;
    expect(await code({ externalOwnerId: 'nobody' })).toBe('NOT_FOUND');
    expect(await code({ timeZone: 'Mars/Olympus' })).toBe('VALIDATION');
    expect(await code({ calendarId: 'someone-else@example.com' })).toBe('VALIDATION');
    expect(await code({ members: [{ email: ADA, name: 'A' }, { email: 'ADA@team.test', name: 'B' }] })).toBe('VALIDATION');
    expect(await code({ members: [{ email: 'not an email', name: 'A' }] })).toBe('VALIDATION');
    expect(await code({ members: [{ email: ADA, name: 'A', slackUserId: '<!channel>' }] })).toBe('VALIDATION');
    expect(await code({ name: '' })).toBe('VALIDATION');
  });

  test('addOncallMember and removeOncallMember', async () => {
    const g = await h.createGroup('Members', [{ email: ADA, name: 'Ada' }]);
    const add = (email: string, name: string) =>
      h.gqlRaw(`mutation($i: AddOncallMemberInput!) { addOncallMember(input: $i) { members { email slackUserId position } } }`, { i: { groupId: g.id, email, name } });
    const remove = (email: string, groupId = g.id) =>
      h.gqlRaw(`mutation($i: RemoveOncallMemberInput!) { removeOncallMember(input: $i) { members { email } } }`, { i: { groupId, email } });
    const added = await add(BOB, 'Bob');
    expect(added.body.data.addOncallMember.members).toEqual([
      { email: ADA, slackUserId: 'U0ADA0001', position: 0 },
      { email: BOB, slackUserId: 'U0BOB0001', position: 1 },
    ]);
    expect((await add('Bob@Team.test', 'Bob again')).body.errors[0].extensions.code).toBe('CONFLICT');
    expect((await add(CY, 'Cy')).body.data.addOncallMember.members[2]).toEqual({ email: CY, slackUserId: null, position: 2 });
    await h.schedule(g.id, hoursFromNow(200), 8, 2); // ada, bob
    expect((await remove(BOB)).body.errors[0].extensions.code).toBe('CONFLICT');
    expect((await remove(CY)).body.data.removeOncallMember.members.map((m: any) => m.email)).toEqual([ADA, BOB]);
    expect((await remove(CY)).body.errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await remove(ADA, '00000000-0000-4000-8000-000000000000')).body.errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await remove(ADA, 'garbage')).body.errors[0].extensions.code).toBe('VALIDATION');
  });

  test('scheduleRotation refuses bad input with VALIDATION or NOT_FOUND', async () => {
    const g = await h.createGroup('Bad rotation', []);
    const sched = (input: Record<string, unknown>) => h.gqlRaw(`mutation($i: ScheduleRotationInput!) { scheduleRotation(input: $i) { id } }`, { i: input });
    const start = hoursFromNow(300).toISOString();
    expect((await sched({ groupId: g.id, start, shiftHours: 8, count: 1 })).body.errors[0].extensions.code).toBe('VALIDATION'); // no members
    expect((await sched({ groupId: '00000000-0000-4000-8000-000000000000', start, shiftHours: 8, count: 1 })).body.errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await sched({ groupId: g.id, start, shiftHours: 0, count: 1 })).body.errors[0].extensions.code).toBe('VALIDATION');
    expect((await sched({ groupId: g.id, start, shiftHours: 8, count: 100000 })).body.errors[0].extensions.code).toBe('VALIDATION');
    expect((await sched({ groupId: g.id, start: 'yesterday', shiftHours: 8, count: 1 })).body.errors[0].extensions.code).toBe('VALIDATION');
  });

  test('swapShifts by hand: both events exchanged, both shifts swapped, one Slack message', async () => {
    const g = await h.createGroup('Manual', team(), { channel: 'C0MANUAL' });
    const shifts = await h.schedule(g.id, hoursFromNow(120), 8, 3); // ada bob cy
    const r = await h.gql(
      `mutation($i: SwapShiftsInput!) { swapShifts(input: $i) { kind state fromEmail toEmail declinedShift { ${SHIFT_FIELDS} } swapShift { ${SHIFT_FIELDS} } } }`,
      { i: { declinedShiftId: shifts[0]!.id, swapShiftId: shifts[2]!.id } },
    );
    expect(r.swapShifts).toMatchObject({
      kind: 'manual',
      state: 'COMPLETED',
      fromEmail: ADA,
      toEmail: CY,
      declinedShift: { assigneeEmail: CY, status: 'SWAPPED', swappedWith: { id: shifts[2]!.id } },
      swapShift: { assigneeEmail: ADA, status: 'SWAPPED', swappedWith: { id: shifts[0]!.id } },
    });
    expect(await h.attendeesOf(shifts[0]!.googleEventId)).toEqual([CY]);
    expect(await h.attendeesOf(shifts[2]!.googleEventId)).toEqual([ADA]);
    const msgs = await waitFor(async () => {
      const m = await h.slackMessages('C0MANUAL');
      return m.length ? m : undefined;
    });
    await h.quiet();
    expect((await h.slackMessages('C0MANUAL')).length).toBe(1);
    expect(msgs[0]!.text).toContain('made by an admin');
  });

  test('swapShifts refuses what cannot be swapped', async () => {
    const g = await h.createGroup('Manual errors', team());
    const other = await h.createGroup('Other group', team());
    const shifts = await h.schedule(g.id, hoursFromNow(150), 8, 4); // ada bob cy ada
    const past = await h.schedule(g.id, new Date(Date.now() - 48 * 3600_000), 8, 1);
    const foreign = await h.schedule(other.id, hoursFromNow(150), 8, 1);
    const swap = (a: string, b: string) => h.gqlRaw(`mutation($i: SwapShiftsInput!) { swapShifts(input: $i) { id } }`, { i: { declinedShiftId: a, swapShiftId: b } });
    const code = async (a: string, b: string) => (await swap(a, b)).body.errors?.[0]?.extensions?.code;
    expect(await code(shifts[0]!.id, shifts[3]!.id)).toBe('VALIDATION'); // same person
    expect(await code(shifts[0]!.id, shifts[0]!.id)).toBe('VALIDATION'); // itself
    expect(await code(past[0]!.id, shifts[1]!.id)).toBe('VALIDATION'); // started
    expect(await code(shifts[0]!.id, foreign[0]!.id)).toBe('VALIDATION'); // two groups
    expect(await code(shifts[0]!.id, '00000000-0000-4000-8000-000000000000')).toBe('NOT_FOUND');
    expect(await code('1; drop table shifts', shifts[1]!.id)).toBe('VALIDATION');
    expect((await h.swapRows(g.id)).length).toBe(0);
    expect((await h.shifts(g.id)).every((s) => s.status === 'SCHEDULED')).toBe(true);
  });

  test('names cannot inject Slack mentions or links into the message', async () => {
    const g = await h.createGroup('<!channel> ops', [
      { email: 'eve@team.test', name: '<!everyone> Eve <https://evil.test|click>' },
      { email: 'fay@team.test', name: 'Fay & co' },
    ], { channel: 'C0INJECT' });
    const shifts = await h.schedule(g.id, hoursFromNow(130), 8, 2);
    await h.respond(shifts[0]!.googleEventId, 'eve@team.test', 'declined');
    const msgs = await waitFor(async () => {
      const m = await h.slackMessages('C0INJECT');
      return m.length ? m : undefined;
    }, { timeoutMs: 20_000 });
    expect(msgs[0]!.text).not.toContain('<!');
    expect(msgs[0]!.text).not.toContain('<https://');
    expect(msgs[0]!.text).toContain('&lt;!channel&gt; ops');
    expect(msgs[0]!.text).toContain('Fay &amp; co');
  });

  test('UNLINKED deletes the groups of that owner', async () => {
    const email = 'other-bot@example.com';
    const user = await h.emuJson('users', { email });
    const res = await h.t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'other-owner', refreshToken: user.refreshToken });
    const ownerId = res.body.result!.data.ownerId;
    const { findCalendar } = await import('../../src/sync/index.ts');
    await waitFor(async () => (await findCalendar(h.t.service.ctx, ownerId, 'primary'))?.lastFullSyncAt, { timeoutMs: 20_000 });
    const d = await h.gql(`mutation($i: CreateOncallGroupInput!) { createOncallGroup(input: $i) { id } }`, {
      i: { name: 'Doomed', externalOwnerId: 'other-owner', calendarId: email, slackChannel: '#d', timeZone: 'UTC', members: [{ email: ADA, name: 'Ada' }] },
    });
    const id = d.createOncallGroup.id;
    expect((await h.gql('query($id: ID!) { oncallGroup(id: $id) { id } }', { id })).oncallGroup).toEqual({ id });
    const un = await h.t.trpc('links.event', { type: 'UNLINKED', externalOwnerId: 'other-owner' });
    expect(un.status).toBe(200);
    expect((await h.gql('query($id: ID!) { oncallGroup(id: $id) { id } }', { id })).oncallGroup).toBeNull();
    expect((await h.sql`select count(*)::int as n from oncall_groups where owner_id = ${ownerId}`)[0]!.n).toBe(0);
  });
});

describe('fan-out', () => {
  test('a decline and its swap reach subscribers as shift.declined then shift.swapped', async () => {
    const got: any[] = [];
    const rx = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        got.push(await req.json());
        return new Response(null, { status: 204 });
      },
    });
    try {
      const sub = await h.t.trpc<{ id: string; secret: string }>('subscriptions.create', {
        url: `http://127.0.0.1:${rx.port}/hook`,
        externalOwnerId: h.owner.externalOwnerId,
        types: ['shift.declined', 'shift.swapped'],
      });
      expect(sub.status).toBe(200);
      const g = await h.createGroup('Fanout', team(), { channel: 'C0FANOUT' });
      const shifts = await h.schedule(g.id, hoursFromNow(140), 8, 2);
      await h.respond(shifts[0]!.googleEventId, ADA, 'declined');
      await waitFor(() => got.filter((b) => b.data?.groupId === g.id).length >= 2, { what: 'two deliveries', timeoutMs: 20_000 });
      const mine = got.filter((b) => b.data?.groupId === g.id);
      expect(mine.map((b) => b.type)).toEqual(['shift.declined', 'shift.swapped']);
      expect(mine[0]).toMatchObject({ externalOwnerId: h.owner.externalOwnerId, calendarId: h.owner.email, data: { declinedBy: ADA, shift: { id: shifts[0]!.id, status: 'declined' } } });
      expect(mine[1].data).toMatchObject({ kind: 'auto', fromEmail: ADA, toEmail: BOB, declinedShift: { id: shifts[0]!.id, assigneeEmail: BOB }, swapShift: { id: shifts[1]!.id, assigneeEmail: ADA } });
    } finally {
      rx.stop(true);
    }
  });
});
