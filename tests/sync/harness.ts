// Shared start-up of the sync suites: the emulator, the real service (own database, real pg-boss),
// a raw SQL handle on that database, and helpers that act as people in Google Calendar through the
// emulator's control API. Channels are off (no PUBLIC_URL) unless a suite asks otherwise, so the
// syncs a suite sees are the ones it asked for.
import type postgres from 'postgres';
import type { Emulator } from '../../src/emulator/index.ts';
import type { CalwatchModule } from '../../src/context/index.ts';
import { findCalendar, getCalendar, type SyncCalendar } from '../../src/sync/index.ts';
import { waitFor, type TestService } from '../support/service.ts';
import { startServiceWithEmulator } from '../support/service-with-emulator.ts';
import type { EmulatorRequest } from '../support/emulator-control.ts';
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
  requests(sinceId: number, path?: string): Promise<EmulatorRequest[]>;
  stop(): Promise<void>;
}

export async function startSyncHarness(
  name: string,
  opts: { env?: Record<string, string>; emu?: Emulator; database?: TestDatabase & { url: string }; extraModules?: CalwatchModule[] } = {},
): Promise<SyncHarness> {
  const pair = await startServiceWithEmulator({ name, emu: opts.emu, database: opts.database, env: { PUBLIC_URL: '', ...opts.env }, extraModules: opts.extraModules });
  const { emu, ctl, t, sql } = pair;
  const ctx = t.service.ctx;
  const h: SyncHarness = {
    emu,
    t,
    sql,
    emuJson: ctl.json,
    async linkOwner(email, externalOwnerId = `owner-${email}`, o = {}) {
      const ownerId = await pair.linkOwner(email, externalOwnerId);
      if (o.waitPrimary !== false) await pair.primarySynced(ownerId, { what: `first sync of ${email}` });
      return { ownerId, externalOwnerId, email };
    },
    putEvent: ctl.putEvent,
    deleteEvent: ctl.deleteEvent,
    async liveEvents(calendarId) {
      return new Map((await ctl.liveEvents(calendarId)).map((e) => [e.id, e]));
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
    idle: (calendarRowId) => pair.jobsSettled(sql`name = 'sync.events' and singleton_key = ${calendarRowId}`, { what: `sync queue idle for ${calendarRowId}` }),
    requestMark: ctl.requestMark,
    requests: (sinceId, path) => ctl.requests({ sinceId, path }),
    stop: pair.stop,
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
