// postgres.js + drizzle on one database: the configured Postgres, or the embedded PGlite default.
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';
import { runMigrations } from './migrate.ts';

export { runMigrations, startEmbeddedPostgres };

export type Database = PostgresJsDatabase<Record<string, never>>;
export type Transaction = PgTransaction<PostgresJsQueryResultHKT, Record<string, never>, ExtractTablesWithRelations<Record<string, never>>>;
/** What a query function accepts: the pool or an open transaction. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  url: string;
  kind: 'postgres' | 'embedded';
  /** Whether the database answers right now (used by /readyz). */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(opts: {
  databaseUrl: string | undefined;
  dataDir: string | undefined;
  max?: number;
  /** Called for every statement the pool sends (tests count the admin API's statements with it); unset, nothing is counted. */
  onQuery?: () => void;
}): Promise<DatabaseHandle> {
  let embedded: EmbeddedPostgres | undefined;
  let url = opts.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(opts.dataDir);
    url = embedded.url;
  }
  const sql = postgres(url, {
    ...(opts.onQuery ? { debug: opts.onQuery } : {}),
    max: embedded ? Math.min(opts.max ?? 4, 4) : (opts.max ?? 10),
    onnotice: () => {},
    connect_timeout: 5,
    idle_timeout: 60,
  });
  const db = withCommitHooks(drizzle(sql));
  return {
    db,
    sql,
    url,
    kind: embedded ? 'embedded' : 'postgres',
    async ping(timeoutMs = 1000) {
      try {
        await Promise.race([
          sql`select 1`,
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs)),
        ]);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      // Jobs and requests are already stopped: anything still pending is a dead connection.
      await sql.end({ timeout: 2 });
      await embedded?.stop();
    },
  };
}

/**
 * Work to do once a transaction has committed (waking a job worker for a job the transaction
 * enqueued: woken before the commit, the worker would find nothing and sleep until its next poll).
 * Outside a transaction of this pool (the pool itself, a transaction of another handle), it runs
 * at once. Hooks of a rolled-back transaction are dropped; a savepoint's hooks join its parent's.
 */
export function afterCommit(executor: Executor, hook: () => void): void {
  const hooks = commitHooks.get(executor as object);
  if (hooks) hooks.push(hook);
  else hook();
}

const commitHooks = new WeakMap<object, Array<() => void>>();

type TransactionFn = (fn: (tx: Transaction) => Promise<unknown>, config?: unknown) => Promise<unknown>;

/** Wraps `transaction` (and its savepoints') so that afterCommit hooks run once the outermost commits. */
function withCommitHooks(db: Database): Database {
  const wrap = (owner: { transaction: TransactionFn }, parent: Array<() => void> | undefined) => {
    const original = owner.transaction.bind(owner);
    owner.transaction = async (fn, config) => {
      const hooks: Array<() => void> = [];
      const result = await original(async (tx) => {
        commitHooks.set(tx, hooks);
        wrap(tx as unknown as { transaction: TransactionFn }, hooks);
        return fn(tx);
      }, config);
      // A savepoint's hooks wait for the outer commit; the outermost runs them now.
      if (parent) parent.push(...hooks);
      else for (const hook of hooks) runHook(hook);
      return result;
    };
  };
  wrap(db as unknown as { transaction: TransactionFn }, undefined);
  return db;
}

function runHook(hook: () => void): void {
  try {
    hook();
  } catch {
    // A hook is a wake-up call: its failure must not turn a committed transaction into an error.
  }
}
