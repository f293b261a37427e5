// `bun run demo`: the whole of calwatch at work on a newcomer's machine, against the service that
// `bun run start` runs (embedded database, built-in Google/Slack emulator). It is a client like any
// other: tRPC with SERVICE_TOKEN, GraphQL with ADMIN_TOKEN, and the emulator's control API to play
// the people who answer in Google Calendar. Every name carries a fresh run id, so it can run again
// on the same database.
//
// Environment: CALWATCH_URL (default http://127.0.0.1:$PORT, PORT 8787), EMULATOR_URL (default
// http://127.0.0.1:$EMULATOR_PORT/, 8788), SERVICE_TOKEN / ADMIN_TOKEN (default from
// ${DATA_DIR:-./.calwatch}/secrets.json), DEMO_TIMEOUT_SECONDS (each wait, default 60).
import { randomBytes } from 'node:crypto';
import { DemoClient, DemoError, resolveTarget, until } from './client.ts';
import { Formatter, at, dayIn, short, since } from './format.ts';

let printed = false;
const out = (s = '') => {
  printed = true;
  process.stdout.write(`${s}\n`);
};
const step = (n: number, title: string) => out(`\n${n}. ${title}`);
const line = (s: string) => out(`   • ${s}`);
const detail = (s: string) => out(`       ${s}`);

interface Shift {
  id: string;
  assigneeEmail: string;
  start: string;
  end: string;
  status: 'SCHEDULED' | 'DECLINED' | 'SWAPPED' | 'UNCOVERED';
  declinedOn: string | null;
  declinedBy: string | null;
  googleEventId: string;
}

interface Swap {
  id: string;
  state: 'PENDING' | 'COMPENSATING' | 'COMPLETED' | 'ABORTED';
  fromEmail: string;
  toEmail: string;
  slackTs: string | null;
  lastError: string | null;
  declinedShift: { id: string; start: string; end: string };
  swapShift: { id: string; start: string; end: string };
}

interface Booking {
  id: string;
  status: string;
  statusReason: string | null;
  googleEventId: string;
  calendarId: string;
  start: string;
  end: string;
  bookeeResponse: string;
  googlePending: boolean;
}

interface GoogleEvent {
  id: string;
  status: string;
  summary?: string;
  attendees?: Array<{ email: string; responseStatus: string }>;
}

interface LinkStatus {
  status: string;
  calendars: Array<{ calendarId: string; summary: string | null; primary: boolean; selected: boolean; lastSyncedAt: string | null; syncError: string | null }>;
}

/** Lower-case base32hex (Google's event-id alphabet), so ids built from it are valid everywhere. */
const runId = () => [...randomBytes(6)].map((b) => '0123456789abcdefghijklmnopqrstuv'[b % 32]).join('');

async function main(): Promise<void> {
  const t0 = Date.now();
  const waitMs = Number(process.env.DEMO_TIMEOUT_SECONDS || 60) * 1000;
  const probe = new DemoClient(resolveTarget());
  const { serviceUrl, emulatorUrl } = probe.target;

  const notRunning = `calwatch is not running at ${serviceUrl}: run \`bun run start\` in another terminal first, then \`bun run demo\` again`;
  if (!(await probe.serviceReady())) {
    // `bun run start` opens the emulator first (within a second or two of its launch) and the
    // service's port once the database is migrated: an emulator answering alone means the service
    // is most likely still starting, so `(bun run start &) && bun run demo` works too.
    const starting = await until(() => probe.emulatorReachable(), { what: 'the emulator', timeoutMs: 5_000, intervalMs: 250 }).then(
      () => true,
      () => false,
    );
    if (!starting) throw new DemoError(notRunning);
    out(`Waiting for calwatch to finish starting at ${serviceUrl} ...`);
    await until(() => probe.serviceReady(), { what: 'calwatch to start', timeoutMs: waitMs, intervalMs: 500 }).catch(() => {
      throw new DemoError(notRunning);
    });
  }
  if (!(await probe.emulatorReachable())) {
    throw new DemoError(
      `no Google/Slack emulator at ${emulatorUrl}: the demo needs the one \`bun run start\` runs in development (no GOOGLE_CLIENT_ID set), or EMULATOR_URL pointing at one`,
    );
  }
  // Read only now: a first start writes secrets.json while the demo may have been waiting for it.
  const target = resolveTarget();
  const api = new DemoClient(target);
  if (!target.serviceToken || !target.adminToken) {
    throw new DemoError('no tokens: set SERVICE_TOKEN and ADMIN_TOKEN, or run the demo in the directory where `bun run start` runs (it keeps them in ./.calwatch/secrets.json)');
  }

  // Both tokens checked before anything is created.
  const info = await api.query<{ version: string; database: string }>('system.info');
  await api.graphql('{ system { version } }');

  const run = runId();
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const fmt = new Formatter(tz);
  const owner = { externalOwnerId: `demo-${run}`, email: `demo-${run}@example.com` };
  const team = [
    { name: 'Ada', email: `ada-${run}@example.com` },
    { name: 'Bob', email: `bob-${run}@example.com` },
    { name: 'Cy', email: `cy-${run}@example.com` },
  ];
  const nameOf = (email: string) => team.find((m) => m.email === email)?.name ?? email;
  const bookee = { name: 'Bea', email: `bea-${run}@example.org` };

  out(`calwatch ${info.version} demo, run ${run}: service ${target.serviceUrl} (${info.database} database), Google and Slack emulated at ${target.emulatorUrl}`);
  out(`(times in ${tz})`);

  // ---------------------------------------------------------------------------------------------
  step(1, 'Link a Google account and mirror its calendar');
  const now = new Date();
  const day1 = dayIn(tz, now, 1);
  const day2 = dayIn(tz, now, 2);
  const user = await api.emulator<{ email: string; refreshToken: string }>('POST', 'users', { email: owner.email, timeZone: tz });
  const seeded = [
    { id: `demo${run}e1`, summary: 'Standup', start: at(day1, 9, 0, tz), end: at(day1, 9, 15, tz) },
    { id: `demo${run}e2`, summary: 'Lunch with Sam', start: at(day1, 12, 30, tz), end: at(day1, 13, 30, tz) },
    { id: `demo${run}e3`, summary: 'Design review', start: at(day2, 14, 0, tz), end: at(day2, 15, 0, tz) },
  ];
  for (const ev of seeded) {
    await api.emulator('PUT', `calendars/${encodeURIComponent(owner.email)}/events/${ev.id}`, {
      summary: ev.summary,
      start: { dateTime: ev.start.toISOString(), timeZone: tz },
      end: { dateTime: ev.end.toISOString(), timeZone: tz },
    });
  }
  const oncallCalendar = await api.emulator<{ id: string }>('POST', 'calendars', { owner: owner.email, summary: `On-call ${run}`, timeZone: tz });
  line(`Google (emulated): user ${owner.email} with ${seeded.length} events, and a second calendar "On-call ${run}"`);

  const linked = await api.mutate<{ ownerId: string; status: string }>('links.event', {
    type: 'LINKED',
    externalOwnerId: owner.externalOwnerId,
    refreshToken: user.refreshToken,
  });
  line(`links.event LINKED ${owner.externalOwnerId} -> owner ${short(linked.ownerId)}, ${linked.status}`);

  let t = Date.now();
  const range = { from: now.toISOString(), to: at(dayIn(tz, now, 4), 0, 0, tz).toISOString() };
  const mirrored = await until(
    async () => {
      const { items } = await api.query<{ items: Array<{ googleEventId: string; summary: string | null; start: string; end: string; calendarId: string }> }>('events.list', {
        externalOwnerId: owner.externalOwnerId,
        ...range,
      });
      return seeded.every((s) => items.some((i) => i.googleEventId === s.id)) ? items : undefined;
    },
    { what: 'the mirror to show the events (events.list)', timeoutMs: waitMs, hint: 'is the service logging sync errors?' },
  );
  line(`the mirror has them after ${since(t)} (events.list):`);
  for (const ev of mirrored) detail(`${fmt.range(ev.start, ev.end)}  ${ev.summary ?? '(no title)'}`);

  // ---------------------------------------------------------------------------------------------
  step(2, 'An on-call group of three with a rotation');
  t = Date.now();
  const link = (await until(
    async () => {
      const s = await api.query<LinkStatus>('links.get', { externalOwnerId: owner.externalOwnerId });
      return s.calendars.some((c) => c.calendarId === oncallCalendar.id) ? s : undefined;
    },
    { what: `calendar "On-call ${run}" in the mirror's calendar list (links.get)`, timeoutMs: waitMs },
  )) as LinkStatus;
  line(`calendars of ${owner.externalOwnerId}: ${link.calendars.map((c) => `"${c.summary}"${c.selected ? ' (synced)' : ' (not synced)'}`).join(', ')}`);
  await api.mutate('calendars.setSelected', { externalOwnerId: owner.externalOwnerId, calendarId: oncallCalendar.id, selected: true });
  await until(
    async () => {
      const s = await api.query<LinkStatus>('links.get', { externalOwnerId: owner.externalOwnerId });
      const cal = s.calendars.find((c) => c.calendarId === oncallCalendar.id);
      if (cal?.syncError) throw new DemoError(`the on-call calendar failed to sync: ${cal.syncError}`);
      return cal?.lastSyncedAt;
    },
    { what: 'the first sync of the on-call calendar (links.get lastSyncedAt)', timeoutMs: waitMs },
  );
  // Declines reach calwatch as Google push notifications: wait for both calendars' watch channels.
  await until(
    async () => {
      const { items } = await api.emulator<{ items: Array<{ resource: string; state: string }> }>('GET', 'channels');
      const watched = (calendarId: string) => items.some((c) => c.resource === `events:${calendarId}` && c.state === 'active');
      return watched(owner.email) && watched(oncallCalendar.id);
    },
    {
      what: 'Google watch channels on both calendars',
      timeoutMs: waitMs,
      hint: 'without PUBLIC_URL no channel is made; `bun run start` with the emulator points them at the service itself',
    },
  );
  line(`calendars.setSelected "On-call ${run}": synced and watched (push channel) after ${since(t)}`);

  const slackIds: Record<string, string> = {};
  for (const m of team) {
    const u = await api.emulator<{ id: string }>('POST', 'slack/users', { email: m.email, name: m.name.toLowerCase() });
    slackIds[m.email] = u.id;
  }
  line(`Slack (emulated): ${team.map((m) => `${m.name} is ${slackIds[m.email]}`).join(', ')}`);

  const slackChannel = `#oncall-${run}`;
  const { createOncallGroup: group } = await api.graphql<{ createOncallGroup: { id: string; name: string; members: Array<{ email: string; slackUserId: string | null }> } }>(
    `mutation($input: CreateOncallGroupInput!) { createOncallGroup(input: $input) { id name members { email slackUserId } } }`,
    {
      input: {
        name: `Payments ${run}`,
        externalOwnerId: owner.externalOwnerId,
        calendarId: oncallCalendar.id,
        slackChannel,
        timeZone: tz,
        members: team.map((m) => ({ email: m.email, name: m.name })),
      },
    },
  );
  line(
    `createOncallGroup "${group.name}" (${short(group.id)}), Slack ${slackChannel}: ${group.members
      .map((m) => `${nameOf(m.email)} ${m.slackUserId ? `(${m.slackUserId})` : '(not in Slack)'}`)
      .join(', ')}`,
  );

  const shiftFields = 'id assigneeEmail start end status declinedOn declinedBy googleEventId';
  const rotationStart = at(day1, 8, 0, tz);
  const { scheduleRotation: shifts } = await api.graphql<{ scheduleRotation: Shift[] }>(
    `mutation($input: ScheduleRotationInput!) { scheduleRotation(input: $input) { ${shiftFields} } }`,
    { input: { groupId: group.id, start: rotationStart.toISOString(), shiftHours: 24, count: 6 } },
  );
  line(`scheduleRotation: ${shifts.length} shifts of 24 h, each a Google event inviting its assignee:`);
  for (const s of shifts) detail(`${fmt.range(s.start, s.end)}  ${nameOf(s.assigneeEmail)}`);

  // ---------------------------------------------------------------------------------------------
  const declined = shifts[0]!;
  const decliner = nameOf(declined.assigneeEmail);
  step(3, `${decliner} declines a shift in Google Calendar`);
  await api.emulator('POST', `calendars/${encodeURIComponent(oncallCalendar.id)}/events/${declined.googleEventId}/respond`, {
    email: declined.assigneeEmail,
    responseStatus: 'declined',
  });
  t = Date.now();
  line(`Google (emulated): ${declined.assigneeEmail} answers "No" to the shift of ${fmt.range(declined.start, declined.end)}`);

  let sawDecline = false;
  const outcome = await until(
    async () => {
      const { oncallGroup } = await api.graphql<{ oncallGroup: { shifts: Shift[]; swaps: Swap[] } }>(
        `query($id: ID!) { oncallGroup(id: $id) { shifts { ${shiftFields} }
          swaps(first: 5) { id state fromEmail toEmail slackTs lastError declinedShift { id start end } swapShift { id start end } } } }`,
        { id: group.id },
      );
      const shift = oncallGroup.shifts.find((s) => s.id === declined.id)!;
      if (!sawDecline && shift.declinedBy) {
        sawDecline = true;
        line(`${since(t)}  shift marked declined (declinedOn ${shift.declinedOn}, declinedBy ${nameOf(shift.declinedBy)})`);
      }
      const swap = oncallGroup.swaps.find((s) => s.declinedShift.id === declined.id && s.state === 'COMPLETED');
      if (swap) return { swap, shifts: oncallGroup.shifts };
      if (shift.status === 'UNCOVERED') return { swap: undefined, shifts: oncallGroup.shifts };
      return undefined;
    },
    { what: `calwatch to handle ${decliner}'s decline (GraphQL oncallGroup)`, timeoutMs: waitMs, intervalMs: 200, hint: 'the push notification, the sync or the swap job did not happen; see the service log' },
  );
  if (!outcome.swap) throw new DemoError('nobody could take the shift (status UNCOVERED): the swap search found no colleague');
  const { swap } = outcome;
  line(
    `${since(t)}  swap made: ${nameOf(swap.toEmail)} takes ${fmt.range(swap.declinedShift.start, swap.declinedShift.end)}, ` +
      `${nameOf(swap.fromEmail)} takes ${fmt.range(swap.swapShift.start, swap.swapShift.end)}`,
  );
  const calEvents = await api.emulator<{ items: GoogleEvent[] }>('GET', `calendars/${encodeURIComponent(oncallCalendar.id)}/events`);
  for (const id of [swap.declinedShift.id, swap.swapShift.id]) {
    const s = outcome.shifts.find((x) => x.id === id)!;
    const ev = calEvents.items.find((e) => e.id === s.googleEventId);
    detail(`Google event "${ev?.summary}" now invites ${(ev?.attendees ?? []).map((a) => a.email).join(', ') || 'nobody'}`);
  }
  const messages = await until(
    async () => {
      const { items } = await api.emulator<{ items: Array<{ channel: string; text: string; ts: string }> }>('GET', `slack/messages?channel=${encodeURIComponent(slackChannel)}`);
      return items.length > 0 ? items : undefined;
    },
    { what: `the Slack message in ${slackChannel}`, timeoutMs: waitMs, hint: 'the oncall.notify job did not post; see the service log' },
  );
  line(`${since(t)}  Slack ${slackChannel}:`);
  for (const l of messages[0]!.text.split('\n')) detail(`> ${l}`);

  // ---------------------------------------------------------------------------------------------
  step(4, `A booking with ${owner.externalOwnerId}, declined by the bookee`);
  // The on-call calendar holds the team's shifts, not the owner's own time.
  await api.mutate('availability.preferences.set', { externalOwnerId: owner.externalOwnerId, calendarIds: ['primary'] });
  line('availability.preferences.set: only the primary calendar counts as busy (the on-call calendar holds the team\'s shifts)');
  const window = { from: at(day1, 9, 0, tz), to: at(day1, 18, 0, tz) };
  const { slots } = await api.query<{ slots: Array<{ start: string; end: string }> }>('availability.free', {
    externalOwnerId: owner.externalOwnerId,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    durationMinutes: 30,
  });
  if (!slots[0]) throw new DemoError(`availability.free found no 30-minute slot in ${fmt.range(window.from, window.to)}`);
  line(`availability.free ${fmt.range(window.from, window.to)}: ${slots.map((s) => fmt.range(s.start, s.end)).join(', ')}`);
  const slotStart = new Date(slots[0].start);
  const slotEnd = new Date(slotStart.getTime() + 30 * 60_000);

  const booking = await api.mutate<Booking>('bookings.request', {
    externalOwnerId: owner.externalOwnerId,
    start: slotStart.toISOString(),
    end: slotEnd.toISOString(),
    title: 'Intro call',
    bookee,
  });
  line(`bookings.request "Intro call" ${fmt.range(booking.start, booking.end)} for ${bookee.email} -> ${short(booking.id)} ${booking.status}`);
  const invite = await until(
    async () => {
      const { items } = await api.emulator<{ items: GoogleEvent[] }>('GET', `calendars/${encodeURIComponent(owner.email)}/events`);
      return items.find((e) => e.id === booking.googleEventId);
    },
    { what: `the booking's event ${booking.googleEventId} in Google`, timeoutMs: waitMs },
  );
  const invited = invite.attendees?.find((a) => a.email === bookee.email);
  line(`Google (emulated): event ${invite.id} "${invite.summary}" is ${invite.status}; ${bookee.email} invited (${invited?.responseStatus ?? 'not invited!'})`);

  await api.emulator('POST', `calendars/${encodeURIComponent(owner.email)}/events/${booking.googleEventId}/respond`, {
    email: bookee.email,
    responseStatus: 'declined',
  });
  t = Date.now();
  line(`Google (emulated): ${bookee.email} declines the invitation`);
  const after = await until(
    async () => {
      const b = await api.query<Booking>('bookings.get', { id: booking.id });
      return b.status === 'declined' && !b.googlePending ? b : undefined;
    },
    { what: 'the booking to become declined (bookings.get)', timeoutMs: waitMs, hint: 'the push notification, the sync or the bookings job did not happen; see the service log' },
  );
  line(`${since(t)}  booking ${short(after.id)} ${after.status}${after.statusReason ? ` (${after.statusReason})` : ''}`);
  await until(
    async () => {
      const { items } = await api.emulator<{ items: GoogleEvent[] }>('GET', `calendars/${encodeURIComponent(owner.email)}/events`);
      return !items.some((e) => e.id === booking.googleEventId);
    },
    { what: `the event ${booking.googleEventId} to be deleted in Google`, timeoutMs: waitMs },
  );
  line(`${since(t)}  Google (emulated): event ${booking.googleEventId} deleted`);

  // ---------------------------------------------------------------------------------------------
  step(5, 'Look at it yourself in GraphiQL');
  const queries = [
    {
      title: 'Owners and their calendars',
      query: `query Owners {
  owners(first: 20) {
    edges { node {
      externalOwnerId googleEmail status lastSyncAt lastError
      calendars { calendarId summary primary selected lastSyncedAt eventCount channel { status expiresAt } }
    } }
  }
}`,
      count: (d: any) =>
        `${d.owners.edges.length} owner(s) with ${d.owners.edges.reduce((n: number, e: any) => n + e.node.calendars.length, 0)} calendar(s)`,
    },
    {
      title: `The on-call group "${group.name}": shifts and swaps`,
      query: `query OncallGroup {
  oncallGroup(id: "${group.id}") {
    name slackChannel members { name email slackUserId }
    shifts { assigneeEmail start end status declinedOn declinedBy swappedWith { assigneeEmail start } }
    swaps { state fromEmail toEmail at completedAt slackTs }
  }
}`,
      count: (d: any) => `${d.oncallGroup.shifts.length} shifts, ${d.oncallGroup.swaps.length} swap(s)`,
    },
    {
      title: `Bookings of ${owner.externalOwnerId}`,
      query: `query Bookings {
  bookings(externalOwnerId: "${owner.externalOwnerId}", first: 20) {
    edges { node { status statusReason start end bookeeEmail bookeeResponse googleEventId } }
  }
}`,
      count: (d: any) => `${d.bookings.edges.length} booking(s)`,
    },
  ];
  const checked: string[] = [];
  for (const q of queries) checked.push(q.count(await api.graphql(q.query)));
  line(`open ${target.serviceUrl}/graphql in a browser; in its Headers tab put {"Authorization": "Bearer <ADMIN_TOKEN>"}`);
  detail(`(ADMIN_TOKEN: ${target.tokenSource === 'env' ? 'the one in your environment' : `"adminToken" in ${target.tokenSource}`})`);
  line('then paste these (each ran once just now):');
  queries.forEach((q, i) => {
    out('');
    out(`   # ${q.title}: ${checked[i]}`);
    for (const l of q.query.split('\n')) out(`   ${l}`);
  });

  out(`\nDone in ${since(t0)}. Run \`bun run demo\` again for a fresh set (run ids keep them apart).`);
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err instanceof DemoError) {
      process.stderr.write(`${printed ? '\n' : ''}demo: ${err.message}\n`);
    } else {
      process.stderr.write(`\ndemo: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exit(1);
  },
);
