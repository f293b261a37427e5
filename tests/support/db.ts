// A fresh database per suite: a new database on the test Postgres (TEST_DATABASE_URL, else
// 127.0.0.1:5432 when it answers), or an in-memory PGlite when no Postgres is around.
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/index.ts';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
let probed: Promise<string | undefined> | undefined;

async function adminUrl(): Promise<string | undefined> {
  probed ??= (async () => {
    const url = process.env.TEST_DATABASE_URL ?? DEFAULT_URL;
    if (process.env.TEST_DATABASE_URL === 'embedded') return undefined;
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return url;
    } catch {
      if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL does not answer: ${url}`);
      return undefined;
    } finally {
      await sql.end({ timeout: 1 });
    }
  })();
  return probed;
}

export interface TestDatabase {
  url: string | undefined;
  kind: 'postgres' | 'embedded';
  drop(): Promise<void>;
}

/** Creates an empty database; `url` undefined means "let the service embed PGlite" is NOT used:
 *  we start our own in-memory PGlite so the suite does not write under DATA_DIR. */
export async function createTestDatabase(): Promise<TestDatabase & { url: string }> {
  const admin = await adminUrl();
  if (!admin) {
    const embedded = await startEmbeddedPostgres(undefined);
    return { url: embedded.url, kind: 'embedded', drop: () => embedded.stop() };
  }
  const name = `cw_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: 'postgres',
    async drop() {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      try {
        await s.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await s.end();
      }
    },
  };
}
