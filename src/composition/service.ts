// Boot order: config -> (emulator in development) -> db + migrations -> pg-boss + queues -> context
// -> HTTP -> workers -> module start hooks. Stop in reverse, bounded, on the first signal.
import type { Hono } from 'hono';
import type { Config } from '../config/index.ts';
import { openDatabase, runMigrations, type DatabaseHandle } from '../db/index.ts';
import { Jobs } from '../jobs/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import { createKeyring } from '../crypto/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { GoogleQuota } from '../quota/index.ts';
import { Locals, systemClock, wireModules, type Clock, type Ctx, type CalwatchModule } from '../context/index.ts';
import { createHttpApp } from '../api/index.ts';
import { appRouter } from './router.ts';
import { adminSchema } from './admin-schema.ts';
import { graphiqlTabs } from './admin-tabs.ts';
import pkg from '../../package.json' with { type: 'json' };

import { linksModule, rotateKey as resealLinks } from '../links/index.ts';
import { syncModule } from '../sync/index.ts';
import { channelsModule } from '../channels/index.ts';
import { oncallModule } from '../oncall/index.ts';
import { bookingsModule } from '../bookings/index.ts';
import { availabilityModule } from '../availability/index.ts';
import { fanoutModule, rotateKey as resealFanout } from '../fanout/index.ts';
import { changesModule } from '../changes/index.ts';

/**
 * Every domain module, in dependency order. This order is also the order in which their reactions
 * run inside a transaction (a sync's change set: channels, fan-out, on-call, availability,
 * bookings, the changes feed; an owner event: sync first), their start hooks run, and (reversed) their stop hooks.
 * Fan-out comes before the modules whose reactions publish events of their own (a swap, a
 * booking's change), so that a subscriber hears of the calendar's change first.
 */
export const modules: CalwatchModule[] = [
  linksModule,
  syncModule,
  channelsModule,
  fanoutModule,
  oncallModule,
  availabilityModule,
  bookingsModule,
  changesModule,
];

/** The modules of one service, in the order they are wired (see `modules`). */
function serviceModules(opts: Pick<StartOptions, 'extraModules' | 'adjustModules'>): CalwatchModule[] {
  return [...(opts.adjustModules?.(modules) ?? modules), ...(opts.extraModules ?? [])];
}

export interface Service {
  url: string;
  ctx: Ctx;
  db: DatabaseHandle;
  fetch: (req: Request) => Response | Promise<Response>;
  /** Graceful: stop accepting, let running jobs finish (bounded), close pg-boss and the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  /** Skip the module start hooks (catch-up syncs): for tests that drive everything by hand. */
  skipStartHooks?: boolean;
  /** Modules added after the built-in ones (tests declare probe jobs and probe reactions this way). */
  extraModules?: CalwatchModule[];
  /** Replaces built-in modules (a test switching off one module's reaction, or standing in for a provider). */
  adjustModules?: (builtIn: CalwatchModule[]) => CalwatchModule[];
  /** Called for every SQL statement the app's pool sends (tests that count statements). */
  onQuery?: () => void;
}

export interface OpenedContext {
  ctx: Ctx;
  database: DatabaseHandle;
  /** Stops pg-boss (waiting for running jobs, bounded) and closes the database. */
  close(): Promise<void>;
}

/** Database, migrations, pg-boss with every queue declared, and the context: no HTTP, no workers.
 *  The service builds on it; the CLI uses it alone. */
export async function openContext(
  config: Config,
  opts: { log: Logger; clock?: Clock; extraModules?: CalwatchModule[]; adjustModules?: StartOptions['adjustModules']; onQuery?: () => void },
): Promise<OpenedContext> {
  const all = serviceModules(opts);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, max: config.databasePoolMax, onQuery: opts.onQuery });
  try {
    await runMigrations(database.url);
    const metrics = createMetrics();
    const jobs = await Jobs.start({
      url: database.url,
      log: opts.log,
      metrics,
      embedded: database.kind === 'embedded',
      poolMax: config.databasePoolMax,
    });
    try {
      await jobs.declare(all.flatMap((m) => m.jobs ?? []).map((j) => j.definition));
    } catch (err) {
      await jobs.stop(1000);
      throw err;
    }
    const ctx: Ctx = {
      config,
      db: database.db,
      jobs,
      log: opts.log,
      clock: opts.clock ?? systemClock,
      keyring: createKeyring(config.encryptionKey, config.encryptionKeyPrevious),
      metrics,
      quota: new GoogleQuota(database.db, config.google.quota, (priority) => metrics.googleQuotaWaits.inc({ priority })),
      runtime: { version: pkg.version, dbKind: database.kind },
      wiring: wireModules(all),
      locals: new Locals(),
    };
    await resealLegacyValues(ctx, database);
    return {
      ctx,
      database,
      async close() {
        ctx.quota.stop();
        await jobs.stop(config.shutdownTimeoutMs);
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/**
 * The migration step of sealed values (src/crypto): every legacy v1 value is re-sealed as v2, bound
 * to its row. Serialised on an advisory lock held on one reserved connection, so processes booting
 * together do it once; batched; one query per module when nothing is left. A value that does not
 * open (its key not configured) is left as it is and logged.
 */
async function resealLegacyValues(ctx: Ctx, database: DatabaseHandle): Promise<void> {
  const lock = await database.sql.reserve();
  try {
    await lock`select pg_advisory_lock(${RESEAL_LOCK_KEY})`;
    try {
      for (const reseal of [resealLinks, resealFanout]) await reseal(ctx, { legacyOnly: true });
    } finally {
      await lock`select pg_advisory_unlock(${RESEAL_LOCK_KEY})`;
    }
  } finally {
    lock.release();
  }
}
const RESEAL_LOCK_KEY = 727_002; // arbitrary, constant: "calwatch re-seal" (migrations: 727_001)

export async function startService(config: Config, opts: StartOptions = {}): Promise<Service> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const cleanups: Array<() => Promise<void>> = [];
  const all = serviceModules(opts);
  try {
    if (config.useEmulator) {
      const { startEmulator } = await import('../emulator/index.ts');
      const emulator = await startEmulator({ port: config.emulatorPort });
      cleanups.unshift(() => emulator.stop());
      log.info({ url: emulator.url }, 'built-in Google/Slack emulator started');
    }

    const opened = await openContext(config, { log, clock: opts.clock, extraModules: opts.extraModules, adjustModules: opts.adjustModules, onQuery: opts.onQuery });
    cleanups.unshift(() => opened.close());
    const { ctx, database } = opened;
    const { jobs } = ctx;

    const app = createHttpApp({
      ctx,
      router: appRouter,
      adminSchema: adminSchema(),
      graphiqlTabs,
      routes: all.flatMap((m) => (m.routes ? [m.routes(ctx)] : [])) as Hono[],
      hotRoutes: all.flatMap((m) => (m.hotRoutes ? [m.hotRoutes(ctx)] : [])) as Hono[],
      isReady: async () => {
        const dbOk = await database.ping();
        const jobsOk = dbOk && (await jobs.boss.getDb().executeSql('select 1').then(() => true, () => false));
        return { ok: dbOk && jobsOk, checks: { database: dbOk, jobs: jobsOk } };
      },
    });

    // Registered before the server's: runs after it closed (cleanups run last-registered first).
    cleanups.unshift(async () => {
      for (const m of [...all].reverse()) await m.stop?.(ctx).catch((err) => log.warn({ err, module: m.name }, 'module stop failed'));
    });
    const server = Bun.serve({
      port: config.port,
      hostname: config.host,
      fetch: app.fetch,
      // Slow or stalled clients must not hold connections open.
      idleTimeout: 30,
      maxRequestBodySize: 2 * 1024 * 1024,
    });
    cleanups.unshift(async () => {
      await server.stop();
    });

    await jobs.work(ctx, config.jobsPollSeconds);
    if (!opts.skipStartHooks) for (const m of all) await m.start?.(ctx);

    const url = `http://127.0.0.1:${server.port}`;
    let stopping: Promise<void> | undefined;
    return {
      url,
      ctx,
      db: database,
      fetch: app.fetch,
      stop: () =>
        (stopping ??= (async () => {
          for (const cleanup of cleanups) {
            try {
              await cleanup();
            } catch (err) {
              log.warn({ err }, 'error during shutdown');
            }
          }
        })()),
    };
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw err;
  }
}
