// Shared start-up of the bookings suites: the emulator, the real service on its own database, a
// raw SQL handle to look at what was (not) stored, and helpers to link owners and read the
// emulator's state and request log.
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import type { BookingView } from '../../src/bookings/index.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';

export interface EmulatorRequest {
  id: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  user: string | null;
  status: number;
}

/** A booking as bookings.get and the other procedures answer it. */
export type Booking = BookingView;

export interface GoogleEvent {
  id: string;
  status: string;
  summary?: string;
  start: { dateTime?: string; date?: string; timeZone?: string };
  end: { dateTime?: string; date?: string; timeZone?: string };
  attendees?: Array<{ email: string; responseStatus: string; displayName?: string }>;
  [k: string]: unknown;
}

export interface BookingsHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  /** Links a new owner whose Google account is `email`; waits until the primary calendar is mirrored. */
  linkOwner(externalOwnerId: string, email: string, opts?: { waitForChannel?: boolean }): Promise<{ ownerId: string; calendarId: string }>;
  /** The live (not cancelled) events of a calendar at the emulator. */
  liveEvents(calendarId: string): Promise<GoogleEvent[]>;
  /** Every event of a calendar at the emulator, cancelled ones included. */
  allEvents(calendarId: string): Promise<GoogleEvent[]>;
  requests(filter?: { sinceId?: number; method?: string; path?: string }): Promise<EmulatorRequest[]>;
  lastRequestId(): Promise<number>;
  request(input: Record<string, unknown>): Promise<{ status: number; booking?: Booking; error?: { message: string; code: string } }>;
  get(id: string): Promise<Booking>;
  /** Every sync job done, deferred ones included (none queued, retrying or running). */
  syncsSettled(): Promise<void>;
  /** The booking once `check` holds (the service reacts asynchronously). */
  waitForBooking(id: string, check: (b: Booking) => boolean, what: string, timeoutMs?: number): Promise<Booking>;
  stop(): Promise<void>;
}

let slotCounter = 0;

/** A fresh slot, days ahead and never reused within a process, so suites do not collide. */
export function slot(opts: { minutes?: number; dayOffset?: number } = {}): { start: string; end: string } {
  const n = slotCounter++;
  const base = Date.UTC(2031, 0, 1 + (opts.dayOffset ?? 0), 8, 0, 0) + n * 2 * 3_600_000;
  return { start: new Date(base).toISOString(), end: new Date(base + (opts.minutes ?? 30) * 60_000).toISOString() };
}

export async function startBookingsHarness(name: string, env: Record<string, string> = {}): Promise<BookingsHarness> {
  const emu = await startEmulator({ port: 0 });
  const t = await startTestService({ name, emulatorUrl: emu.url, env });
  const sql = postgres(t.database.url!, { max: 2, onnotice: () => {} });
  const emuJson = async (path: string, body?: unknown, method?: string) => {
    const res = await fetch(`${emu.url}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const requests = async (filter: { sinceId?: number; method?: string; path?: string } = {}) => {
    const r = (await emuJson('requests')) as { items: EmulatorRequest[] };
    return r.items.filter(
      (i) =>
        (filter.sinceId === undefined || i.id > filter.sinceId) &&
        (filter.method === undefined || i.method === filter.method) &&
        (filter.path === undefined || i.path.includes(filter.path)),
    );
  };
  const get = async (id: string) => {
    const r = await t.trpc<Booking>('bookings.get', { id });
    if (r.status !== 200) throw new Error(`bookings.get ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.result!.data;
  };
  return {
    emu,
    t,
    sql,
    emuJson,
    async linkOwner(externalOwnerId, email, opts = {}) {
      const user = (await emuJson('users', { email })) as { refreshToken: string };
      const linked = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId, refreshToken: user.refreshToken });
      if (linked.status !== 200) throw new Error(`LINKED: ${JSON.stringify(linked.body)}`);
      const ownerId = linked.body.result!.data.ownerId;
      await waitFor(
        async () => (await sql`select 1 from calendars where owner_id = ${ownerId} and google_calendar_id = ${email} and last_full_sync_at is not null`).length === 1,
        { what: `first full sync of ${email}`, timeoutMs: 20_000 },
      );
      if (opts.waitForChannel) {
        await waitFor(
          async () => {
            const r = (await emuJson('channels')) as { items: Array<{ resource: string; state: string }> };
            return r.items.some((c) => c.resource === `events:${email}` && c.state === 'active');
          },
          { what: `watch channel on ${email}`, timeoutMs: 20_000 },
        );
      }
      return { ownerId, calendarId: email };
    },
    liveEvents: async (calendarId) => ((await emuJson(`calendars/${encodeURIComponent(calendarId)}/events`)) as { items: GoogleEvent[] }).items,
    allEvents: async (calendarId) =>
      ((await emuJson(`calendars/${encodeURIComponent(calendarId)}/events?showDeleted=true`)) as { items: GoogleEvent[] }).items,
    requests,
    async lastRequestId() {
      const all = await requests();
      return all.length ? all[all.length - 1]!.id : 0;
    },
    async request(input) {
      const r = await t.trpc<Booking>('bookings.request', input);
      return {
        status: r.status,
        booking: r.body.result?.data,
        error: r.body.error ? { message: r.body.error.message, code: r.body.error.data.code } : undefined,
      };
    },
    get,
    async syncsSettled() {
      await waitFor(
        async () => {
          // (a deferred sync counts; the requests' 30-second safety-net reconciles do not)
          const [r] = await sql`select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active')
                                  and (name in ('sync.events', 'sync.calendarList') or (name = 'bookings.reconcile' and start_after <= now()))`;
          return r!.n === 0;
        },
        { what: 'syncs settled', timeoutMs: 20_000 },
      );
    },
    async waitForBooking(id, check, what, timeoutMs = 15_000) {
      return waitFor(async () => {
        const b = await get(id);
        return check(b) ? b : undefined;
      }, { what, timeoutMs });
    },
    async stop() {
      await sql.end({ timeout: 2 });
      await t.stop();
      await emu.stop();
    },
  };
}
