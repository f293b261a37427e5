// Shared start-up of the bookings suites: the emulator, the real service on its own database, a
// raw SQL handle to look at what was (not) stored, and helpers to link owners and read the
// emulator's state and request log.
import type postgres from 'postgres';
import type { Emulator } from '../../src/emulator/index.ts';
import type { BookingView } from '../../src/bookings/index.ts';
import { waitFor, type TestService } from '../support/service.ts';
import { startServiceWithEmulator } from '../support/service-with-emulator.ts';
import type { EmulatorRequest } from '../support/emulator-control.ts';

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

/** A local receiver answering 204 to every delivery. */
export interface Sink {
  port: number;
  stop(): void;
}

/** Subscribes a local receiver that answers 204 to the owner's `types`: the bookings' deliveries have
 *  somewhere to go, as in a deployment. */
export async function subscribeSink(h: BookingsHarness, externalOwnerId: string, types: string[] = ['booking.changed']): Promise<Sink> {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(null, { status: 204 }) });
  const sub = await h.t.trpc('subscriptions.create', { url: `http://127.0.0.1:${server.port}/hook`, externalOwnerId, types });
  if (sub.status !== 200) {
    server.stop(true);
    throw new Error(`subscriptions.create: ${JSON.stringify(sub.body)}`);
  }
  return { port: server.port!, stop: () => void server.stop(true) };
}

let slotCounter = 0;

/** A fresh slot, days ahead and never reused within a process, so suites do not collide. */
export function slot(opts: { minutes?: number; dayOffset?: number } = {}): { start: string; end: string } {
  const n = slotCounter++;
  const base = Date.UTC(2031, 0, 1 + (opts.dayOffset ?? 0), 8, 0, 0) + n * 2 * 3_600_000;
  return { start: new Date(base).toISOString(), end: new Date(base + (opts.minutes ?? 30) * 60_000).toISOString() };
}

export async function startBookingsHarness(
  name: string,
  env: Record<string, string> = {},
  opts: { emu?: Emulator; googleUrl?: string } = {},
): Promise<BookingsHarness> {
  const pair = await startServiceWithEmulator({ name, env, ...opts });
  const { emu, ctl, t, sql } = pair;
  const emuJson = ctl.json;
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
      const ownerId = await pair.linkOwner(email, externalOwnerId);
      await pair.primarySynced(ownerId, { what: `first full sync of ${email}`, timeoutMs: 20_000 });
      if (opts.waitForChannel) {
        await waitFor(async () => (await ctl.channels()).some((c) => c.resource === `events:${email}` && c.state === 'active'), {
          what: `watch channel on ${email}`,
          timeoutMs: 20_000,
        });
      }
      return { ownerId, calendarId: email };
    },
    liveEvents: ctl.liveEvents,
    allEvents: async (calendarId) =>
      ((await emuJson(`calendars/${encodeURIComponent(calendarId)}/events?showDeleted=true`)) as { items: GoogleEvent[] }).items,
    requests: ctl.requests,
    lastRequestId: ctl.requestMark,
    async request(input) {
      const r = await t.trpc<Booking>('bookings.request', input);
      return {
        status: r.status,
        booking: r.body.result?.data,
        error: r.body.error ? { message: r.body.error.message, code: r.body.error.data.code } : undefined,
      };
    },
    get,
    // (a deferred sync counts; the requests' 30-second safety-net reconciles do not)
    syncsSettled: () =>
      pair.jobsSettled(sql`name in ('sync.events', 'sync.calendarList') or (name = 'bookings.reconcile' and start_after <= now())`, {
        what: 'syncs settled',
        timeoutMs: 20_000,
      }),
    async waitForBooking(id, check, what, timeoutMs = 15_000) {
      return waitFor(async () => {
        const b = await get(id);
        return check(b) ? b : undefined;
      }, { what, timeoutMs });
    },
    stop: pair.stop,
  };
}
