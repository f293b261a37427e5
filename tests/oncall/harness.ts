// Shared start-up of the oncall suites: the emulator (Google + Slack), the real service on its own
// database (PUBLIC_URL is the service itself, so the emulator's pushes reach the real webhook and
// the flow is emulator -> push -> sync -> change set -> oncall jobs), a raw SQL handle, and helpers
// that act as people in Google Calendar and read what Slack received.
import type postgres from 'postgres';
import type { Emulator } from '../../src/emulator/index.ts';
import { waitFor, type TestService } from '../support/service.ts';
import { startServiceWithEmulator } from '../support/service-with-emulator.ts';
import type { EmulatorRequest } from '../support/emulator-control.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

export const H = 3600_000;

export interface ShiftView {
  id: string;
  assigneeEmail: string;
  start: string;
  end: string;
  status: 'SCHEDULED' | 'DECLINED' | 'SWAPPED' | 'UNCOVERED';
  declinedOn: string | null;
  declinedBy: string | null;
  swappedWith: { id: string } | null;
  googleEventId: string;
}

export interface OncallHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  database: TestDatabase & { url: string };
  /** The owner whose primary calendar holds the shifts. */
  owner: { ownerId: string; externalOwnerId: string; email: string };
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  gqlRaw(query: string, variables?: Record<string, unknown>, opts?: { token?: string | null }): Promise<{ status: number; body: any }>;
  createGroup(name: string, members: Array<{ email: string; name: string; slackUserId?: string }>, opts?: { channel?: string; timeZone?: string }): Promise<{ id: string; members: any[] }>;
  schedule(groupId: string, start: Date, shiftHours: number, count: number): Promise<ShiftView[]>;
  shifts(groupId: string): Promise<ShiftView[]>;
  swapRows(groupId: string): Promise<any[]>;
  /** An attendee answers in Google Calendar (the emulator notifies the owner's channels). */
  respond(eventId: string, email: string, responseStatus: string): Promise<void>;
  /** The event as Google holds it now. */
  event(eventId: string): Promise<any>;
  attendeesOf(eventId: string): Promise<string[]>;
  slackMessages(channel: string): Promise<Array<{ channel: string; ts: string; text: string }>>;
  requestMark(): Promise<number>;
  requests(sinceId: number, path?: string): Promise<EmulatorRequest[]>;
  /** No oncall or event-sync job queued, running or waiting for a retry. */
  quiet(opts?: { timeoutMs?: number }): Promise<void>;
  /** Waits until the mirror shows this attendee's response on the event (the change set went by). */
  mirrored(eventId: string, email: string, responseStatus: string): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  ownerEmail: string;
  database?: TestDatabase & { url: string };
  emu?: Emulator;
  /** Where the service reaches Google and Slack (a proxy in front of the emulator); default the emulator. */
  googleUrl?: string;
  /** Wait for the owner's events channel to point at this service (default true). */
  waitChannel?: boolean;
}

export async function startOncallHarness(name: string, opts: HarnessOptions = { ownerEmail: 'oncall-bot@example.com' }): Promise<OncallHarness> {
  const database = opts.database ?? (await createTestDatabase());
  const pair = await startServiceWithEmulator({ name, emu: opts.emu, database, googleUrl: opts.googleUrl, sqlMax: 3 });
  const { emu, ctl, t, sql } = pair;
  const gqlRaw = (query: string, variables?: Record<string, unknown>, o?: { token?: string | null }) => t.graphql(query, variables, o ?? {});
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    const r = await gqlRaw(query, variables);
    if (r.body.errors?.length) throw Object.assign(new Error(`GraphQL: ${JSON.stringify(r.body.errors)}`), { errors: r.body.errors });
    return r.body.data as any;
  };

  // The owner: linked, primary calendar synced, its watch channel active (pushes come back to us).
  const email = opts.ownerEmail;
  let owner: OncallHarness['owner'];
  const existing = await sql`select id, external_owner_id from owners where external_owner_id = ${`owner-${email}`}`.catch(() => []);
  if (existing[0]) {
    owner = { ownerId: existing[0].id, externalOwnerId: existing[0].external_owner_id, email };
  } else {
    owner = { ownerId: await pair.linkOwner(email, `owner-${email}`, { timeZone: 'Europe/Paris' }), externalOwnerId: `owner-${email}`, email };
  }
  await pair.primarySynced(owner.ownerId, { what: `first sync of ${email}`, timeoutMs: 20_000 });
  if (opts.waitChannel !== false) await waitFor(
    async () => {
      const chans = await ctl.channels();
      return chans.some((c) => c.state === 'active' && c.address.startsWith(t.url) && c.user === email && c.resourceUri.includes('/events'));
    },
    { what: `an active events channel for ${email}`, timeoutMs: 20_000 },
  );

  const h: OncallHarness = {
    emu,
    t,
    sql,
    database,
    owner,
    emuJson: ctl.json,
    gql,
    gqlRaw,
    async createGroup(groupName, members, o = {}) {
      const d = await gql(
        `mutation($input: CreateOncallGroupInput!) { createOncallGroup(input: $input) { id members { email name slackUserId position } } }`,
        {
          input: {
            name: groupName,
            externalOwnerId: owner.externalOwnerId,
            calendarId: 'primary',
            slackChannel: o.channel ?? `#${groupName.toLowerCase().replace(/\W+/g, '-')}`,
            timeZone: o.timeZone ?? 'Europe/Paris',
            members,
          },
        },
      );
      return d.createOncallGroup;
    },
    async schedule(groupId, start, shiftHours, count) {
      const d = await gql(
        `mutation($input: ScheduleRotationInput!) { scheduleRotation(input: $input) { id assigneeEmail start end status declinedOn declinedBy swappedWith { id } googleEventId } }`,
        { input: { groupId, start: start.toISOString(), shiftHours, count } },
      );
      return d.scheduleRotation;
    },
    async shifts(groupId) {
      const d = await gql(
        `query($id: ID!) { oncallGroup(id: $id) { shifts { id assigneeEmail start end status declinedOn declinedBy swappedWith { id } googleEventId } } }`,
        { id: groupId },
      );
      return d.oncallGroup.shifts;
    },
    swapRows: (groupId) => sql`select * from swaps where group_id = ${groupId} order by created_at`,
    respond: (eventId, who, responseStatus) => ctl.respond(email, eventId, who, responseStatus),
    event: async (eventId) => (await ctl.liveEvents(email)).find((e) => e.id === eventId),
    async attendeesOf(eventId) {
      const ev = await h.event(eventId);
      return (ev?.attendees ?? []).map((a: any) => a.email).sort();
    },
    slackMessages: ctl.slackMessages,
    requestMark: ctl.requestMark,
    requests: (sinceId, path) => ctl.requests({ sinceId, path }),
    quiet: (o = {}) =>
      pair.jobsSettled(sql`name like 'oncall.%' and name <> 'oncall.repair' or name = 'sync.events'`, {
        what: 'oncall and sync queues idle',
        timeoutMs: o.timeoutMs ?? 20_000,
      }),
    async mirrored(eventId, who, responseStatus) {
      await waitFor(
        async () => {
          const [row] = await sql`select attendees from calendar_events where owner_id = ${owner.ownerId} and google_event_id = ${eventId}`;
          return (row?.attendees as any[] | undefined)?.some((a) => a.email === who && a.responseStatus === responseStatus);
        },
        { what: `mirror of ${eventId} showing ${who} ${responseStatus}` },
      );
    },
    async stop() {
      await pair.stop();
      if (!opts.database) await database.drop();
    },
  };
  return h;
}

/** The next whole hour at least `hours` from now, so shifts are in the future and readable. */
export function hoursFromNow(hours: number): Date {
  const d = new Date(Date.now() + hours * H);
  d.setUTCMinutes(0, 0, 0);
  return d;
}

/** Nobody holds two overlapping shifts. */
export function overlapsOf(shifts: Array<{ assigneeEmail: string; start: string; end: string }>): string[] {
  const out: string[] = [];
  for (const a of shifts) {
    for (const b of shifts) {
      if (a === b || a.assigneeEmail !== b.assigneeEmail) continue;
      if (new Date(a.start) < new Date(b.end) && new Date(b.start) < new Date(a.end)) out.push(`${a.assigneeEmail}: ${a.start} & ${b.start}`);
    }
  }
  return out;
}

export { waitFor };
