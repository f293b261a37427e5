// Shared start-up of the oncall suites: the emulator (Google + Slack), the real service on its own
// database (PUBLIC_URL is the service itself, so the emulator's pushes reach the real webhook and
// the flow is emulator -> push -> sync -> change set -> oncall jobs), a raw SQL handle, and helpers
// that act as people in Google Calendar and read what Slack received.
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { findCalendar } from '../../src/sync/index.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
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
  requests(sinceId: number, path?: string): Promise<Array<{ id: number; at: string; method: string; path: string; query: Record<string, string>; status: number }>>;
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
  const emu = opts.emu ?? (await startEmulator({ port: 0 }));
  const database = opts.database ?? (await createTestDatabase());
  const t = await startTestService({ name, emulatorUrl: opts.googleUrl ?? emu.url, database });
  const sql = postgres(database.url, { max: 3, onnotice: () => {} });
  const emuJson = async (path: string, body?: unknown, method?: string) => {
    const res = await fetch(`${emu.url}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${method ?? ''} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const gqlRaw = (query: string, variables?: Record<string, unknown>, o?: { token?: string | null }) => t.graphql(query, variables, o ?? {});
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    const r = await gqlRaw(query, variables);
    if (r.body.errors?.length) throw Object.assign(new Error(`GraphQL: ${JSON.stringify(r.body.errors)}`), { errors: r.body.errors });
    return r.body.data as any;
  };
  const ctx = t.service.ctx;
  const calendarPath = (eventId?: string) => `calendars/${encodeURIComponent(opts.ownerEmail)}/events${eventId ? `/${eventId}` : ''}`;

  // The owner: linked, primary calendar synced, its watch channel active (pushes come back to us).
  const email = opts.ownerEmail;
  let owner: OncallHarness['owner'];
  const existing = await sql`select id, external_owner_id from owners where external_owner_id = ${`owner-${email}`}`.catch(() => []);
  if (existing[0]) {
    owner = { ownerId: existing[0].id, externalOwnerId: existing[0].external_owner_id, email };
  } else {
    const user = await emuJson('users', { email, timeZone: 'Europe/Paris' });
    const res = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: `owner-${email}`, refreshToken: user.refreshToken });
    if (!res.body.result) throw new Error(`LINKED failed: ${JSON.stringify(res.body)}`);
    owner = { ownerId: res.body.result.data.ownerId, externalOwnerId: `owner-${email}`, email };
  }
  await waitFor(async () => (await findCalendar(ctx, owner.ownerId, 'primary'))?.lastFullSyncAt, { what: `first sync of ${email}`, timeoutMs: 20_000 });
  if (opts.waitChannel !== false) await waitFor(
    async () => {
      const chans = (await emuJson('channels')).items as Array<{ resourceUri: string; state: string; address: string; user: string }>;
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
    emuJson,
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
    async respond(eventId, who, responseStatus) {
      await emuJson(`${calendarPath(eventId)}/respond`, { email: who, responseStatus });
    },
    async event(eventId) {
      const r = await emuJson(calendarPath());
      return r.items.find((e: any) => e.id === eventId);
    },
    async attendeesOf(eventId) {
      const ev = await h.event(eventId);
      return (ev?.attendees ?? []).map((a: any) => a.email).sort();
    },
    async slackMessages(channel) {
      return (await emuJson(`slack/messages?channel=${encodeURIComponent(channel)}`)).items;
    },
    async requestMark() {
      const r = await emuJson('requests');
      return r.items.length ? r.items[r.items.length - 1].id : 0;
    },
    async requests(sinceId, path) {
      const r = await emuJson(`requests?since=${sinceId}`);
      return r.items.filter((i: any) => i.id > sinceId && (!path || i.path.includes(path)));
    },
    async quiet(o = {}) {
      await waitFor(
        async () => {
          const [r] = await sql`select count(*)::int as n from pgboss.job
            where (name like 'oncall.%' and name <> 'oncall.repair' or name = 'sync.events') and state in ('created', 'retry', 'active')`;
          return r!.n === 0;
        },
        { what: 'oncall and sync queues idle', timeoutMs: o.timeoutMs ?? 20_000 },
      );
    },
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
      await sql.end({ timeout: 2 });
      await t.stop();
      if (!opts.emu) await emu.stop();
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
