// The demo is a client of a running calwatch, like any application: it speaks HTTP only (tRPC with
// the service token, GraphQL with the admin token, the emulator's control API). It imports nothing
// of calwatch, so what it shows is exactly what an integrator gets.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A failure the demo explains in one line (no stack trace for the newcomer). */
export class DemoError extends Error {
  override name = 'DemoError';
}

export interface DemoTarget {
  /** Base URL of the service, without a trailing slash. */
  serviceUrl: string;
  /** Base URL of the emulator, with a trailing slash (as `startEmulator` gives it). */
  emulatorUrl: string;
  serviceToken: string;
  adminToken: string;
  /** Where the tokens came from: `env`, or the secrets file's path. */
  tokenSource: string;
}

const trimSlash = (u: string) => u.replace(/\/+$/, '');

/**
 * Where the service and the emulator are, and the tokens: CALWATCH_URL / EMULATOR_URL, else
 * PORT / EMULATOR_PORT on 127.0.0.1 (the defaults of `bun run start`); SERVICE_TOKEN / ADMIN_TOKEN,
 * else `${DATA_DIR:-./.calwatch}/secrets.json`, written by the service's first start.
 */
export function resolveTarget(env: Record<string, string | undefined> = process.env): DemoTarget {
  const port = env.PORT || '8787';
  const emulatorPort = env.EMULATOR_PORT || '8788';
  const serviceUrl = trimSlash(env.CALWATCH_URL || `http://127.0.0.1:${port}`);
  const emulatorUrl = `${trimSlash(env.EMULATOR_URL || `http://127.0.0.1:${emulatorPort}`)}/`;
  let serviceToken = env.SERVICE_TOKEN || '';
  let adminToken = env.ADMIN_TOKEN || '';
  let tokenSource = 'env';
  if (!serviceToken || !adminToken) {
    const file = join(env.DATA_DIR || './.calwatch', 'secrets.json');
    if (existsSync(file)) {
      try {
        const stored = JSON.parse(readFileSync(file, 'utf8')) as { serviceToken?: string; adminToken?: string };
        serviceToken ||= stored.serviceToken ?? '';
        adminToken ||= stored.adminToken ?? '';
        tokenSource = file;
      } catch {
        throw new DemoError(`${file} is not readable JSON: set SERVICE_TOKEN and ADMIN_TOKEN instead`);
      }
    }
  }
  // Missing tokens are reported by the caller, after it has checked that the service is up at all.
  return { serviceUrl, emulatorUrl, serviceToken, adminToken, tokenSource };
}

async function send(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new DemoError(`${what}: no answer from ${new URL(url).origin} (${(err as Error).message})`);
  }
}

async function json(res: Response, what: string): Promise<any> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    throw new DemoError(`${what}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
}

export class DemoClient {
  constructor(readonly target: DemoTarget) {}

  /** Where a token came from, for error messages. */
  tokenOrigin(name: 'SERVICE_TOKEN' | 'ADMIN_TOKEN'): string {
    return this.target.tokenSource === 'env'
      ? `(from the environment: is ${name} the one the service was started with?)`
      : `(read from ${this.target.tokenSource}: was the service started with another DATA_DIR or its own ${name}?)`;
  }

  /** True when something answers /readyz with 200. */
  async serviceReady(): Promise<boolean> {
    try {
      const res = await fetch(`${this.target.serviceUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async emulatorReachable(): Promise<boolean> {
    try {
      const res = await fetch(`${this.target.emulatorUrl}_emulator/config`, { signal: AbortSignal.timeout(5_000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** A tRPC query (GET, input in the query string). */
  query<T = any>(path: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    const url = `${this.target.serviceUrl}/trpc/${path}${qs}`;
    return this.trpc<T>(url, { method: 'GET' }, path);
  }

  /** A tRPC mutation (POST, JSON body). */
  mutate<T = any>(path: string, input: unknown): Promise<T> {
    const url = `${this.target.serviceUrl}/trpc/${path}`;
    return this.trpc<T>(url, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } }, path);
  }

  private async trpc<T>(url: string, init: RequestInit, path: string): Promise<T> {
    const res = await send(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.target.serviceToken}` } }, path);
    const body = await json(res, path);
    if (res.status === 401) throw new DemoError(`the service refused SERVICE_TOKEN ${this.tokenOrigin('SERVICE_TOKEN')}`);
    if (!res.ok || body?.error) {
      const e = body?.error;
      throw new DemoError(`${path} failed: ${e?.data?.code ?? res.status} ${e?.message ?? JSON.stringify(body).slice(0, 300)}`);
    }
    return body.result.data as T;
  }

  /** A GraphQL operation with the admin token; GraphQL errors become a DemoError naming their code. */
  async graphql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await send(
      `${this.target.serviceUrl}/graphql`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.target.adminToken}` },
        body: JSON.stringify({ query, variables }),
      },
      'GraphQL',
    );
    const body = await json(res, 'GraphQL');
    if (res.status === 401) throw new DemoError(`the service refused ADMIN_TOKEN ${this.tokenOrigin('ADMIN_TOKEN')}`);
    if (body?.errors?.length) {
      const e = body.errors[0];
      throw new DemoError(`GraphQL failed: ${e.extensions?.code ?? res.status} ${e.message}`);
    }
    if (!res.ok || !body?.data) throw new DemoError(`GraphQL failed: HTTP ${res.status}`);
    return body.data as T;
  }

  /** The emulator's control API (`/_emulator/<path>`): acts as the people in Google Calendar and Slack. */
  async emulator<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const what = `emulator ${method} /_emulator/${path}`;
    const res = await send(
      `${this.target.emulatorUrl}_emulator/${path}`,
      { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) },
      what,
    );
    const data = await json(res, what);
    if (!res.ok) throw new DemoError(`${what}: HTTP ${res.status} ${data?.error ?? JSON.stringify(data ?? '').slice(0, 200)}`);
    return data as T;
  }
}

/**
 * Polls `check` until it returns something truthy; past the deadline, a DemoError saying what did
 * not happen (and the hint), never a hang.
 */
export async function until<T>(
  check: () => Promise<T | undefined | null | false>,
  opts: { what: string; timeoutMs?: number; intervalMs?: number; hint?: string },
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new DemoError(`gave up waiting ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s for ${opts.what}${opts.hint ? `: ${opts.hint}` : ''}`);
    }
    await Bun.sleep(opts.intervalMs ?? 250);
  }
}
