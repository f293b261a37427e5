// What every verb receives: built once in src/composition/main.ts (tests build their own), never global.
import type { Config } from '../config/index.ts';
import type { Database, Executor } from '../db/index.ts';
import type { Jobs } from '../jobs/index.ts';
import type { Logger } from '../log/index.ts';
import type { Keyring } from '../crypto/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { GoogleQuota } from '../quota/index.ts';
import type { ModuleProviders, ModuleReactions, Wiring } from './reactions.ts';

export * from './reactions.ts';

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
  /** Who reacts to what, and who answers which question: built once from the module list. */
  wiring: Wiring;
  /** Per-service state of modules (ModuleLocal): shared by every copy of this context. */
  locals: Locals;
  /** Set when the verb runs inside a caller's transaction (see inTransaction). */
  tx?: Executor;
}

/** A context inside a transaction: what the verb writes and enqueues joins `tx`. */
export type TxCtx = Ctx & { tx: Executor };

/**
 * A module's per-service state (a cache, a single-flight drainer): created from the context on
 * first use and kept by that context's `locals`, so two services in one process never share it
 * while every verb, job and route of one service does.
 */
export class ModuleLocal<T> {
  constructor(
    readonly name: string,
    readonly create: (ctx: Ctx) => T,
  ) {}
}

export class Locals {
  private readonly values = new Map<ModuleLocal<unknown>, unknown>();
  get<T>(ctx: Ctx, key: ModuleLocal<T>): T {
    if (!this.values.has(key)) this.values.set(key, key.create(ctx));
    return this.values.get(key) as T;
  }
  /** Only what was created already (nothing is created for a look). */
  peek<T>(key: ModuleLocal<T>): T | undefined {
    return this.values.get(key) as T | undefined;
  }
}

/** What a domain module plugs into the service (its tRPC router is composed in src/composition/router.ts). */
export interface CalwatchModule {
  name: string;
  jobs?: import('../jobs/index.ts').JobHandle[];
  /** Raw HTTP routes outside tRPC and GraphQL (the webhook, the OAuth redirects). */
  routes?: (ctx: Ctx) => import('hono').Hono;
  /** Raw routes on the hot path (Google's pushes): no per-request logger, request id or body parsing. */
  hotRoutes?: (ctx: Ctx) => import('hono').Hono;
  /** Runs once the workers are started (catch-up syncs, scheduling). */
  start?: (ctx: Ctx) => Promise<void>;
  /** Runs at shutdown once HTTP is closed, before the workers stop (hand over what this process holds). */
  stop?: (ctx: Ctx) => Promise<void>;
  /** What the module reacts to (other modules' change sets, calendar changes, owner events). */
  reactions?: ModuleReactions;
  /** Answers the module gives to modules that may not import it (links.get's calendar list...). */
  provides?: ModuleProviders;
}
