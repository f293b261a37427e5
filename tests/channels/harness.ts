// Shared start-up of the channels suites: the emulator, the real service (own database, real
// pg-boss, real HTTP; PUBLIC_URL is the service itself, so the emulator's pushes reach its real
// webhook), a raw SQL handle, and helpers that act as people in Google Calendar.
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { findCalendar, type SyncCalendar } from '../../src/sync/index.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import type { EmulatorChannel } from '../support/emulator-control.ts';

export interface EmuChannel extends EmulatorChannel {
  lastMessageNumber: number;
}

export interface ChannelsHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  linkOwner(email: string, opts?: { externalOwnerId?: string; waitChannel?: boolean }): Promise<{ ownerId: string; externalOwnerId: string; email: string; primary: SyncCalendar }>;
  emuChannels(): Promise<EmuChannel[]>;
  /** Our channel rows (raw), newest first. */
  channelRows(where?: { calendarRowId?: string; ownerId?: string }): Promise<any[]>;
  /** Waits for an active, unreplaced channel row for this calendar row (or the owner's calendar list when null). */
  activeChannel(ownerId: string, calendarRowId: string | null): Promise<any>;
  putEvent(calendarId: string, id: string, body: Record<string, unknown>): Promise<any>;
  mirrorRow(calendarRowId: string, googleEventId: string): Promise<any | undefined>;
  /** sync.events jobs ever created for this calendar row. */
  syncJobs(calendarRowId: string): Promise<number>;
  /** The same count once nothing is left in flight for the calendar (no queued, retrying or running sync,
   *  no undrained note): what a test measures "no new sync" against, so that an earlier test's
   *  trailing sync cannot land in its window. */
  settledSyncJobs(calendarRowId: string): Promise<number>;
  post(headers: Record<string, string | undefined>): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startChannelsHarness(name: string, env: Record<string, string> = {}): Promise<ChannelsHarness> {
  const emu = await startEmulator({ port: 0 });
  const t = await startTestService({ name, emulatorUrl: emu.url, env });
  const sql = postgres(t.database.url!, { max: 3, onnotice: () => {} });
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
  const h: ChannelsHarness = {
    emu,
    t,
    sql,
    emuJson,
    async linkOwner(email, o = {}) {
      const externalOwnerId = o.externalOwnerId ?? `owner-${email}`;
      const user = await emuJson('users', { email });
      const res = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId, refreshToken: user.refreshToken });
      if (!res.body.result) throw new Error(`LINKED failed: ${JSON.stringify(res.body)}`);
      const ownerId = res.body.result.data.ownerId;
      const primary = await waitFor(
        async () => {
          const c = await findCalendar(ctx, ownerId, 'primary');
          return c?.lastFullSyncAt ? c : undefined;
        },
        { what: `first sync of ${email}` },
      );
      if (o.waitChannel !== false) await h.activeChannel(ownerId, primary.id);
      return { ownerId, externalOwnerId, email, primary };
    },
    async emuChannels() {
      return (await emuJson('channels')).items;
    },
    async channelRows(where = {}) {
      return sql`select * from channels where true
        ${where.calendarRowId ? sql`and calendar_id = ${where.calendarRowId}` : sql``}
        ${where.ownerId ? sql`and owner_id = ${where.ownerId}` : sql``}
        order by created_at desc`;
    },
    async activeChannel(ownerId, calendarRowId) {
      return waitFor(
        async () => {
          const rows = calendarRowId
            ? await sql`select * from channels where calendar_id = ${calendarRowId} and status = 'active' and replaced_by_id is null`
            : await sql`select * from channels where owner_id = ${ownerId} and kind = 'calendarList' and status = 'active' and replaced_by_id is null`;
          return rows[0];
        },
        { what: `an active channel for ${calendarRowId ?? `the calendar list of ${ownerId}`}`, timeoutMs: 20_000 },
      );
    },
    putEvent: (calendarId, id, body) => emuJson(`calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(id)}`, body, 'PUT'),
    async mirrorRow(calendarRowId, googleEventId) {
      const [row] = await sql`select * from calendar_events where calendar_id = ${calendarRowId} and google_event_id = ${googleEventId}`;
      return row;
    },
    async syncJobs(calendarRowId) {
      const [r] = await sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and singleton_key = ${calendarRowId}`;
      return r!.n;
    },
    async settledSyncJobs(calendarRowId) {
      const settled = await waitFor(
        async () => {
          const [r] = await sql`
            select count(*)::int as n, count(*) filter (where state in ('created', 'retry', 'active'))::int as pending
            from pgboss.job where name = 'sync.events' and singleton_key = ${calendarRowId}`;
          const [o] = await sql`select count(*)::int as n from channel_sync_requests`;
          return r!.pending === 0 && o!.n === 0 ? { n: r!.n as number } : undefined;
        },
        { what: 'no sync in flight for the calendar' },
      );
      return settled.n;
    },
    async post(headers) {
      const hs: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) hs[k] = v;
      const res = await fetch(`${t.url}/webhooks/google/calendar`, { method: 'POST', headers: hs });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await sql.end({ timeout: 2 });
      await t.stop();
      await emu.stop();
    },
  };
  return h;
}

export const timed = (summary: string, startIso: string, endIso: string) => ({ summary, start: { dateTime: startIso }, end: { dateTime: endIso } });

/** Google-style event ids: base32hex (a-v, 0-9), at least 5 characters. */
export const eventId = (prefix: string, n: number) => `${prefix}${n.toString(32).padStart(4, '0')}`;
