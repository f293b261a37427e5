// The service as a real child process (`bun src/composition/main.ts`), for the suites that must crash it: its
// own environment (a test database, Google and Slack at an emulator running in the test process),
// a fixed port kept across restarts (Google's channels point at it), `kill -9` at any moment, and
// a restart on the same database. stdout and stderr are appended to tests/artifacts/logs/<name>.log,
// every incarnation after the other, so the log-grep test sees them too.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import {
  LOG_DIR,
  TEST_ADMIN_TOKEN,
  TEST_ENCRYPTION_KEY,
  TEST_SERVICE_TOKEN,
  callGraphql,
  callTrpc,
  freePort,
  waitFor,
  type GraphqlResult,
  type TrpcResult,
} from './service.ts';

const ROOT = join(import.meta.dir, '..', '..');

export interface ServiceProcessOptions {
  /** Log file name (tests/artifacts/logs/<name>.log). */
  name: string;
  databaseUrl: string;
  /** Base URL (trailing slash) where the service reaches Google and Slack: the emulator, or a proxy in front of it. */
  googleUrl: string;
  /** Port to listen on; default a free one, kept across restarts. */
  port?: number;
  /** PUBLIC_URL: default the process itself (the emulator's pushes come back to it); '' for none. */
  publicUrl?: string;
  env?: Record<string, string | undefined>;
  /** How long a start may take until /readyz answers 200. */
  readyTimeoutMs?: number;
}

export interface ServiceProcess {
  name: string;
  url: string;
  port: number;
  logFile: string;
  /** pid of the current incarnation (undefined when not running). */
  readonly pid: number | undefined;
  /** How many times it was started. */
  readonly starts: number;
  readonly running: boolean;
  /** Starts it (again) and waits for /readyz 200. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown hook, no flush, open transactions cut. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** kill -9 (when running), then start on the same database and port. */
  restart(): Promise<void>;
  /** Graceful stop (SIGTERM), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  trpc<T = unknown>(path: string, input?: unknown, opts?: { token?: string | null; method?: 'query' | 'mutation' }): Promise<TrpcResult<T>>;
  graphql<T = unknown>(query: string, variables?: Record<string, unknown>, opts?: { token?: string | null }): Promise<GraphqlResult<T>>;
  /** GET /readyz: its status, or 0 when nothing answers. */
  readyz(): Promise<number>;
}

export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const g = opts.googleUrl;
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${opts.name}.log`);
  // DATA_DIR only matters for the embedded database; keep it out of the working tree anyway.
  const dataDir = mkdtempSync(join(tmpdir(), 'calwatch-proc-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    TMPDIR: tmpdir(),
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: opts.databaseUrl,
    SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    GOOGLE_CLIENT_ID: 'calwatch-dev',
    GOOGLE_CLIENT_SECRET: 'calwatch-dev-secret',
    GOOGLE_REDIRECT_URI: `${url}/oauth/google/callback`,
    GOOGLE_API_URL: g,
    GOOGLE_AUTH_URL: `${g}o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${g}token`,
    GOOGLE_REVOKE_URL: `${g}revoke`,
    SLACK_API_URL: `${g}slack/api/`,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    OAUTH_RETURN_ORIGINS: 'http://app.test',
    JOBS_POLL_SECONDS: '0.5',
    LOG_LEVEL: 'debug',
  };
  if (opts.publicUrl !== '') env.PUBLIC_URL = opts.publicUrl ?? url;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined || v === '') delete env[k];
    else env[k] = v;
  }

  let child: Subprocess | undefined;
  let starts = 0;

  const note = (line: string) => {
    const fd = openSync(logFile, 'a');
    try {
      writeSync(fd, `${JSON.stringify({ level: 30, time: new Date().toISOString(), name: 'test-harness', msg: line })}\n`);
    } finally {
      closeSync(fd);
    }
  };

  const readyz = async () => {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };

  const start = async () => {
    if (child && child.exitCode === null && !child.killed) throw new Error(`${opts.name} is already running (pid ${child.pid})`);
    starts++;
    note(`starting incarnation ${starts} on port ${port}`);
    // One fd for both streams, opened in append mode: incarnations follow each other in one file.
    const fd = openSync(logFile, 'a');
    try {
      child = Bun.spawn(['bun', 'src/composition/main.ts'], { cwd: ROOT, env, stdin: 'ignore', stdout: fd, stderr: fd });
    } finally {
      closeSync(fd);
    }
    const proc = child;
    try {
      await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode} during start (see ${logFile})`);
          return (await readyz()) === 200;
        },
        { what: `${opts.name} /readyz`, timeoutMs: opts.readyTimeoutMs ?? 30_000, intervalMs: 50 },
      );
    } catch (err) {
      if (proc.exitCode === null) proc.kill(9);
      await proc.exited;
      throw err;
    }
  };

  const kill9 = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    note(`kill -9 of pid ${proc.pid}`);
    proc.kill(9);
    await proc.exited;
  };

  await start();

  return {
    name: opts.name,
    url,
    port,
    logFile,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    get starts() {
      return starts;
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    start,
    kill9,
    async restart() {
      await kill9();
      await start();
    },
    async stop(timeoutMs = 15_000) {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill(9), timeoutMs);
        await proc.exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
    trpc: (path, input, o) => callTrpc(url, path, input, o),
    graphql: (query, variables, o) => callGraphql(url, query, variables, o),
    readyz,
  };
}
