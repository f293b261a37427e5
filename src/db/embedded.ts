// The embedded default: PGlite keeps its data under DATA_DIR and is served over the Postgres wire
// protocol on a loopback port, so drizzle (postgres.js) and pg-boss (pg) use the same code path as
// with a real Postgres.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { keepProtocolBatchesTogether } from './pglite-batches.ts';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let db: PGlite;
  if (dataDir) {
    const dir = resolve(join(dataDir, 'pgdata'));
    mkdirSync(dir, { recursive: true });
    db = await PGlite.create(dir, { extensions: { btree_gist } });
  } else {
    db = await PGlite.create({ extensions: { btree_gist } }); // in memory (tests)
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  keepProtocolBatchesTogether(server);
  await server.start();
  const [, port] = server.getServerConn().split(':');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
