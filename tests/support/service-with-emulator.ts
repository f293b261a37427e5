// The start-up most module suites share: the emulator (or one the suite already runs), the real
// service talking to it (own database, real pg-boss, real HTTP), the emulator's control API, a raw
// SQL handle on the service's database, and the steps every suite takes with them: link a Google
// user as an owner, wait for its primary calendar's first sync, wait for pg-boss queues to settle.
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { findCalendar, type SyncCalendar } from '../../src/sync/index.ts';
import type { TestDatabase } from './db.ts';
import { emulatorControl, type EmulatorControl } from './emulator-control.ts';
import { startTestService, waitFor, type TestService } from './service.ts';
import type { StartOptions } from '../../src/composition/service.ts';
import type { CalwatchModule } from '../../src/context/index.ts';

export interface ServiceWithEmulator {
  emu: Emulator;
  ctl: EmulatorControl;
  t: TestService;
  sql: postgres.Sql;
  /** A Google user at the emulator (`user` adds fields such as its time zone), LINKED as this owner: its owner id. */
  linkOwner(email: string, externalOwnerId: string, user?: { timeZone?: string }): Promise<string>;
  /** Waits for the first full sync of the owner's primary calendar, and returns that calendar. */
  primarySynced(ownerId: string, opts: { what: string; timeoutMs?: number }): Promise<SyncCalendar>;
  /** Waits until no pg-boss job matching `where` (a `sql` fragment) is queued, waiting for a retry or running. */
  jobsSettled(where: postgres.PendingQuery<postgres.Row[]>, opts: { what: string; timeoutMs?: number }): Promise<void>;
  /** Ends the SQL handle and the service, then the emulator unless the suite passed its own. */
  stop(): Promise<void>;
}

export async function startServiceWithEmulator(opts: {
  name: string;
  env?: Record<string, string>;
  /** An emulator the suite runs (it stops it itself); default a new one. */
  emu?: Emulator;
  /** A database the suite created (it drops it itself); default a new one, dropped by stop(). */
  database?: TestDatabase & { url: string };
  /** Where the service reaches Google and Slack (e.g. a proxy in front of the emulator); default the emulator. */
  googleUrl?: string;
  /** Connections of the SQL handle (default 2). */
  sqlMax?: number;
  /** Passed to startTestService: probe modules, and adjustments of the built-in ones. */
  extraModules?: CalwatchModule[];
  adjustModules?: StartOptions['adjustModules'];
}): Promise<ServiceWithEmulator> {
  const emu = opts.emu ?? (await startEmulator({ port: 0 }));
  const t = await startTestService({
    name: opts.name,
    emulatorUrl: opts.googleUrl ?? emu.url,
    ...(opts.database ? { database: opts.database } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.extraModules ? { extraModules: opts.extraModules } : {}),
    ...(opts.adjustModules ? { adjustModules: opts.adjustModules } : {}),
  }).catch(async (err) => {
    // A suite's afterAll cannot stop what it never received.
    if (!opts.emu) await emu.stop();
    throw err;
  });
  const sql = postgres(t.database.url!, { max: opts.sqlMax ?? 2, onnotice: () => {} });
  const ctl = emulatorControl(emu.url);
  const ctx = t.service.ctx;
  return {
    emu,
    ctl,
    t,
    sql,
    async linkOwner(email, externalOwnerId, user = {}) {
      const { refreshToken } = await ctl.createUser(email, user);
      const res = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId, refreshToken });
      if (!res.body.result) throw new Error(`LINKED failed: ${JSON.stringify(res.body)}`);
      return res.body.result.data.ownerId;
    },
    primarySynced(ownerId, o) {
      return waitFor(
        async () => {
          const c = await findCalendar(ctx, ownerId, 'primary');
          return c?.lastFullSyncAt ? c : undefined;
        },
        o,
      );
    },
    async jobsSettled(where, o) {
      await waitFor(
        async () => {
          const [r] = await sql`select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active') and (${where})`;
          return r!.n === 0;
        },
        o,
      );
    },
    async stop() {
      await sql.end({ timeout: 2 });
      await t.stop();
      if (!opts.emu) await emu.stop();
    },
  };
}
