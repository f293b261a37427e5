// Start-up of the availability suites: the emulator, the real service (own database, real pg-boss,
// channels on, so Google's pushes drive the syncs), a raw SQL handle, and helpers acting as people
// in Google Calendar through the emulator's control API.
import type postgres from 'postgres';
import type { Emulator } from '../../src/emulator/index.ts';
import { enqueueEventSync, findCalendar } from '../../src/sync/index.ts';
import { waitFor, type TestService } from '../support/service.ts';
import { startServiceWithEmulator } from '../support/service-with-emulator.ts';

export interface Interval {
  start: string;
  end: string;
}

export interface AvailabilityHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  /** A Google user (with a primary calendar in `timeZone`) LINKED as an owner, its first full sync done. */
  linkOwner(email: string, externalOwnerId: string, timeZone?: string): Promise<{ ownerId: string; calendarRowId: string }>;
  putEvent(calendarId: string, id: string, body: Record<string, unknown>): Promise<any>;
  deleteEvent(calendarId: string, id: string): Promise<void>;
  /** Asks the sync of one calendar now (pushes do it too; this makes a suite independent of their timing). */
  syncNow(ownerId: string, googleCalendarId: string): Promise<void>;
  busy(externalOwnerId: string, from: string, to: string, calendarIds?: string[]): Promise<Interval[]>;
  /** Polls availability.busy until it equals `expected`. */
  busyBecomes(externalOwnerId: string, from: string, to: string, expected: Interval[], what: string, calendarIds?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startAvailabilityHarness(name: string, env: Record<string, string> = {}): Promise<AvailabilityHarness> {
  const pair = await startServiceWithEmulator({ name, env, sqlMax: 3 });
  const { emu, ctl, t, sql } = pair;
  const ctx = t.service.ctx;
  const busy = async (externalOwnerId: string, from: string, to: string, calendarIds?: string[]) => {
    const r = await t.trpc<{ intervals: Interval[] }>('availability.busy', { externalOwnerId, from, to, ...(calendarIds ? { calendarIds } : {}) });
    if (!r.body.result) throw new Error(`availability.busy failed: ${JSON.stringify(r.body)}`);
    return r.body.result.data.intervals;
  };
  return {
    emu,
    t,
    sql,
    emuJson: ctl.json,
    async linkOwner(email, externalOwnerId, timeZone = 'UTC') {
      const ownerId = await pair.linkOwner(email, externalOwnerId, { timeZone });
      const cal = await pair.primarySynced(ownerId, { what: `first sync of ${email}` });
      return { ownerId, calendarRowId: cal.id };
    },
    putEvent: ctl.putEvent,
    deleteEvent: ctl.deleteEvent,
    async syncNow(ownerId, googleCalendarId) {
      const cal = await findCalendar(ctx, ownerId, googleCalendarId);
      if (!cal) throw new Error(`no calendar ${googleCalendarId}`);
      await enqueueEventSync(ctx, cal.id, { reason: 'manual' });
    },
    busy,
    async busyBecomes(externalOwnerId, from, to, expected, what, calendarIds) {
      let last: Interval[] = [];
      try {
        await waitFor(async () => {
          last = await busy(externalOwnerId, from, to, calendarIds);
          return JSON.stringify(last) === JSON.stringify(expected);
        }, { what, timeoutMs: 15_000 });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n  expected ${JSON.stringify(expected)}\n  last     ${JSON.stringify(last)}`);
      }
    },
    stop: pair.stop,
  };
}

// --- dates: a Monday at least two weeks ahead, so everything lies inside the default horizon

const DAY = 86_400_000;
const now = Date.now();
const firstMonday = (() => {
  const d = new Date(Math.floor((now + 14 * DAY) / DAY) * DAY);
  while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
  return d.getTime();
})();

/** 'YYYY-MM-DD' of the base Monday plus n days. */
export const day = (n: number) => new Date(firstMonday + n * DAY).toISOString().slice(0, 10);
/** A wall time on day n with an explicit offset, as Google writes dateTime. */
export const at = (n: number, hhmm: string, offset: string) => `${day(n)}T${hhmm}:00${offset}`;
/** The same instant in UTC, as availability answers. */
export const utc = (local: string) => new Date(local).toISOString();
/** 'YYYYMMDDTHHMMSSZ' of an instant: Google's instance-id suffix. */
export const compactUtc = (local: string) => utc(local).replace(/[-:]/g, '').replace('.000', '');
