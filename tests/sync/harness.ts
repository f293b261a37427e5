// Shared start-up of the sync suites: the emulator, the real service (own database, real pg-boss),
// a raw SQL handle on that database, and helpers that act as people in Google Calendar through the
// emulator's control API. Channels are off (no PUBLIC_URL) unless a suite asks otherwise, so the
// syncs a suite sees are the ones it asked for.
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { findCalendar, getCalendar, type SyncCalendar } from '../../src/sync/index.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import type { TestDatabase } from '../support/db.ts';

export interface SyncHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  /** A Google user linked as an owner: LINKED with the emulator's refresh token, then waits for the primary calendar's first sync. */
  linkOwner(email: string, externalOwnerId?: string, opts?: { waitPrimary?: boolean }): Promise<{ ownerId: string; externalOwnerId: string; email: string }>;
  putEvent(calendarId: string, id: string, body: Record<string, unknown>): Promise<any>;
  deleteEvent(calendarId: string, id: string): Promise<void>;
  /** The emulator's live (not cancelled) events of a calendar, by id. */
  liveEvents(calendarId: string): Promise<Map<string, any>>;
  /** Mirror rows of a calendar row, by Google event id. */
  mirror(calendarRowId: string): Promise<Map<string, any>>;
  calendar(ownerId: string, googleCalendarId: string): Promise<SyncCalendar>;
  /** Waits until the calendar's last sync is later than `after` (a Date from calendar().lastSyncedAt). */
  syncedAfter(calendarRowId: string, after: Date | null, what?: string): Promise<SyncCalendar>;
  /** Waits until the sync.events queue of this calendar holds nothing queued or running. */
  idle(calendarRowId: string): Promise<void>;
  requestMark(): Promise<number>;
  requests(sinceId: number, path?: string): Promise<Array<{ id: number; method: string; path: string; query: Record<string, string>; status: number }>>;
  stop(): Promise<void>;
}

export async function startSyncHarness(
  name: string,
  opts: { env?: Record<string, string>; emu?: Emulator; database?: TestDatabase & { url: string } } = {},
): Promise<SyncHarness> {
  const emu = opts.emu ?? (await startEmulator({ port: 0 }));
  const t = await startTestService({ name, emulatorUrl: emu.url, env: { PUBLIC_URL: '', ...opts.env }, ...(opts.database ? { database: opts.database } : {}) });
  const sql = postgres(t.database.url!, { max: 2, onnotice: () => {} });
  const emuJson = async (path: string, body?: unknown, method?: string) => {
    const res = await fetch(`${emu.url}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${method ?? ''} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const ctx = t.service.ctx;
  const h: SyncHarness = {
    emu,
    t,
    sql,
    emuJson,
    async linkOwner(email, externalOwnerId = `owner-${email}`, o = {}) {
      const user = await emuJson('users', { email });
      const res = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId, refreshToken: user.refreshToken });
      if (!res.body.result) throw new Error(`LINKED failed: ${JSON.stringify(res.body)}`);
      const ownerId = res.body.result.data.ownerId;
      if (o.waitPrimary !== false) {
        await waitFor(async () => (await findCalendar(ctx, ownerId, 'primary'))?.lastFullSyncAt, { what: `first sync of ${email}` });
      }
      return { ownerId, externalOwnerId, email };
    },
    putEvent: (calendarId, id, body) => emuJson(`calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(id)}`, body, 'PUT'),
    async deleteEvent(calendarId, id) {
      await emuJson(`calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(id)}`, undefined, 'DELETE');
    },
    async liveEvents(calendarId) {
      const r = await emuJson(`calendars/${encodeURIComponent(calendarId)}/events`);
      return new Map(r.items.map((e: any) => [e.id, e]));
    },
    async mirror(calendarRowId) {
      const rows = await sql`select *, start_date::text as start_date, end_date::text as end_date from calendar_events where calendar_id = ${calendarRowId}`;
      return new Map(rows.map((r) => [r.google_event_id as string, r]));
    },
    async calendar(ownerId, googleCalendarId) {
      const c = await findCalendar(ctx, ownerId, googleCalendarId);
      if (!c) throw new Error(`no calendar ${googleCalendarId}`);
      return c;
    },
    async syncedAfter(calendarRowId, after, what) {
      return waitFor(
        async () => {
          const c = await getCalendar(ctx, calendarRowId);
          return c?.lastSyncedAt && (!after || c.lastSyncedAt > after) ? c : undefined;
        },
        { what: what ?? `a sync of ${calendarRowId}` },
      );
    },
    async idle(calendarRowId) {
      await waitFor(
        async () => {
          const [r] = await sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${calendarRowId} and state in ('created', 'retry', 'active')`;
          return r!.n === 0;
        },
        { what: `sync queue idle for ${calendarRowId}` },
      );
    },
    async requestMark() {
      const r = await emuJson('requests');
      return r.items.length ? r.items[r.items.length - 1].id : 0;
    },
    async requests(sinceId, path) {
      const r = await emuJson(`requests?since=${sinceId}`);
      return r.items.filter((i: any) => i.id > sinceId && (!path || i.path.includes(path)));
    },
    async stop() {
      await sql.end({ timeout: 2 });
      await t.stop();
      if (!opts.emu) await emu.stop();
    },
  };
  return h;
}

/** Google-style event ids: base32hex (a-v, 0-9), at least 5 characters. */
export const eventId = (prefix: string, n: number) => `${prefix}${n.toString(32).padStart(4, '0')}`;

export const timed = (summary: string, startIso: string, endIso: string, extra: Record<string, unknown> = {}) => ({
  summary,
  start: { dateTime: startIso },
  end: { dateTime: endIso },
  ...extra,
});
