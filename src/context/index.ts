// What every verb receives: built once in src/composition/main.ts (tests build their own), never global.
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Jobs } from '../jobs/index.ts';
import type { Logger } from '../log/index.ts';
import type { Keyring } from '../crypto/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { GoogleQuota } from '../quota/index.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can move: real time plus an offset, so timers and the database still agree. */
export class SettableClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  set(date: Date): void {
    this.offsetMs = date.getTime() - Date.now();
  }
}

export interface Ctx {
  config: Config;
  db: Database;
  jobs: Jobs;
  log: Logger;
  clock: Clock;
  keyring: Keyring;
  metrics: Metrics;
  /** Google's per-minute budgets, shared with every process on the database. */
  quota: GoogleQuota;
  runtime: { version: string; dbKind: 'postgres' | 'embedded' };
}

/** What a domain module plugs into the service (its tRPC router is composed in src/composition/router.ts). */
export interface CalwatchModule {
  name: string;
  jobs?: import('../jobs/index.ts').JobDefinition[];
  /** Raw HTTP routes outside tRPC and GraphQL (the webhook, the OAuth redirects). */
  routes?: (ctx: Ctx) => import('hono').Hono;
  /** Raw routes on the hot path (Google's pushes): no per-request logger, request id or body parsing. */
  hotRoutes?: (ctx: Ctx) => import('hono').Hono;
  /** Runs once the workers are started (catch-up syncs, scheduling). */
  start?: (ctx: Ctx) => Promise<void>;
  /** Runs at shutdown once HTTP is closed, before the workers stop (hand over what this process holds). */
  stop?: (ctx: Ctx) => Promise<void>;
}
