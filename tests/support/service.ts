// Boots the real service in-process for a suite: its own database, the emulator on a free port,
// real pg-boss, real HTTP. Tests talk to it over HTTP like any client would.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { startService, type Service, type StartOptions } from '../../src/composition/service.ts';
import { createLogger } from '../../src/log/index.ts';
import { SettableClock, type CalwatchModule } from '../../src/context/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export const TEST_SERVICE_TOKEN = 'test-service-token-0123456789';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789ab';
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** The environment of a calwatch child process (the CLI, a second service) on the test database and
 *  the emulator: what `startTestService` configures in-process, as variables. */
export function childEnv(opts: { databaseUrl: string; publicUrl: string; emulatorUrl: string }, extra: Record<string, string> = {}): Record<string, string> {
  const emu = opts.emulatorUrl;
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    DATABASE_URL: opts.databaseUrl,
    PUBLIC_URL: opts.publicUrl,
    SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    GOOGLE_CLIENT_ID: 'calwatch-dev',
    GOOGLE_CLIENT_SECRET: 'calwatch-dev-secret',
    GOOGLE_API_URL: emu,
    GOOGLE_TOKEN_URL: `${emu}token`,
    GOOGLE_AUTH_URL: `${emu}o/oauth2/v2/auth`,
    GOOGLE_REVOKE_URL: `${emu}revoke`,
    DATABASE_POOL_MAX: '2',
    ...extra,
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export const LOG_DIR = join(import.meta.dir, '..', 'artifacts', 'logs');

export interface TestService {
  service: Service;
  config: Config;
  url: string;
  clock: SettableClock;
  database: TestDatabase;
  /** SQL statements the service's pool has sent so far (the admin API's batching is tested with it). */
  queryCount(): number;
  /** Calls a tRPC procedure with the service token; returns {status, body}. */
  trpc<T = unknown>(path: string, input?: unknown, opts?: { token?: string | null; method?: 'query' | 'mutation' }): Promise<{ status: number; body: { result?: { data: T }; error?: { message: string; code: number; data: { code: string; appCode?: string; httpStatus: number } } } }>;
  /** Runs a GraphQL operation with the admin token. */
  graphql<T = unknown>(query: string, variables?: Record<string, unknown>, opts?: { token?: string | null }): Promise<{ status: number; body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> } }>;
  stop(): Promise<void>;
}

export async function startTestService(opts: {
  name: string;
  env?: Record<string, string | undefined>;
  /** Base URL of a running emulator (tests start it with startEmulator). */
  emulatorUrl?: string;
  database?: TestDatabase & { url: string };
  skipStartHooks?: boolean;
  /** Probe modules (jobs, reactions) wired after the built-in ones. */
  extraModules?: CalwatchModule[];
  /** Switches a built-in module's reaction off, or stands in for its provider (StartOptions.adjustModules). */
  adjustModules?: StartOptions['adjustModules'];
}): Promise<TestService> {
  const database = opts.database ?? (await createTestDatabase());
  const port = await freePort();
  const emu = opts.emulatorUrl;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    GOOGLE_CLIENT_ID: 'calwatch-dev',
    GOOGLE_CLIENT_SECRET: 'calwatch-dev-secret',
    GOOGLE_REDIRECT_URI: `http://127.0.0.1:${port}/oauth/google/callback`,
    OAUTH_RETURN_ORIGINS: 'http://app.test',
    ...(emu
      ? {
          GOOGLE_API_URL: emu,
          GOOGLE_AUTH_URL: `${emu}o/oauth2/v2/auth`,
          GOOGLE_TOKEN_URL: `${emu}token`,
          GOOGLE_REVOKE_URL: `${emu}revoke`,
          SLACK_API_URL: `${emu}slack/api/`,
          SLACK_BOT_TOKEN: 'xoxb-test-token',
        }
      : {}),
    JOBS_POLL_SECONDS: '0.5',
    DATABASE_POOL_MAX: '5',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createLogger({
    level: config.logLevel,
    destination: pino.destination({ dest: join(LOG_DIR, `${opts.name}.log`), sync: true, append: true }),
  });
  const clock = new SettableClock();
  let queries = 0;
  const service = await startService(config, { log, clock, skipStartHooks: opts.skipStartHooks, extraModules: opts.extraModules, adjustModules: opts.adjustModules, onQuery: () => void (queries += 1) });
  const url = service.url;

  return {
    service,
    config,
    url,
    clock,
    database,
    queryCount: () => queries,
    trpc: (path, input, o) => callTrpc(url, path, input, o),
    graphql: (query, variables, o) => callGraphql(url, query, variables, o),
    async stop() {
      await service.stop();
      if (!opts.database) await database.drop();
    },
  };
}

export type TrpcResult<T> = { status: number; body: { result?: { data: T }; error?: { message: string; code: number; data: { code: string; appCode?: string; httpStatus: number } } } };
export type GraphqlResult<T> = { status: number; body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> } };

/** Calls a tRPC procedure of the service at `url` (service token unless `token` says otherwise). */
export async function callTrpc<T = unknown>(url: string, path: string, input?: unknown, o: { token?: string | null; method?: 'query' | 'mutation' } = {}): Promise<TrpcResult<T>> {
  const token = o.token === undefined ? TEST_SERVICE_TOKEN : o.token;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const isQuery = o.method === 'query' || (o.method === undefined && /\.(get|list|info|busy|free)$/.test(path));
  const res = isQuery
    ? await fetch(`${url}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, { headers })
    : await fetch(`${url}/trpc/${path}`, { method: 'POST', headers, body: JSON.stringify(input ?? {}) });
  return { status: res.status, body: (await res.json()) as never };
}

/** Runs a GraphQL operation against the service at `url` (admin token unless `token` says otherwise). */
export async function callGraphql<T = unknown>(url: string, query: string, variables?: Record<string, unknown>, o: { token?: string | null } = {}): Promise<GraphqlResult<T>> {
  const token = o.token === undefined ? TEST_ADMIN_TOKEN : o.token;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as never };
}

/** Polls `check` until it returns a truthy value or the deadline passes (never a guessed sleep). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    await Bun.sleep(opts.intervalMs ?? 25);
  }
}
