// postgres.js + drizzle on one database: the configured Postgres, or the embedded PGlite default.
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';
import { runMigrations } from './migrate.ts';

export { runMigrations };

export type Database = PostgresJsDatabase<Record<string, never>>;
export type Transaction = PgTransaction<PostgresJsQueryResultHKT, Record<string, never>, ExtractTablesWithRelations<Record<string, never>>>;
/** What a query function accepts: the pool or an open transaction. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  url: string;
  kind: 'postgres' | 'embedded';
  /** SQL statements sent by the app's pool so far (the admin API's batching is tested with it). */
  queryCount(): number;
  /** Whether the database answers right now (used by /readyz). */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(opts: {
  databaseUrl: string | undefined;
  dataDir: string | undefined;
  max?: number;
}): Promise<DatabaseHandle> {
  let embedded: EmbeddedPostgres | undefined;
  let url = opts.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(opts.dataDir);
    url = embedded.url;
  }
  let queries = 0;
  const sql = postgres(url, {
    debug: () => {
      queries += 1;
    },
    max: embedded ? Math.min(opts.max ?? 4, 4) : (opts.max ?? 10),
    onnotice: () => {},
    connect_timeout: 5,
    idle_timeout: 60,
  });
  const db = drizzle(sql);
  return {
    db,
    sql,
    url,
    kind: embedded ? 'embedded' : 'postgres',
    queryCount: () => queries,
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
