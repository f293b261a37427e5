import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { z } from 'zod';
import { startTestService, waitFor, TEST_SERVICE_TOKEN, type TestService } from '../support/service.ts';
import { createTestDatabase } from '../support/db.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { runMigrations } from '../../src/db/index.ts';
import { defineJob } from '../../src/jobs/index.ts';
import type { CalwatchModule } from '../../src/context/index.ts';

// A probe job: takes a while, and records that it finished.
const finished: string[] = [];
const started: string[] = [];
const slowProbe = defineJob({
  name: 'probe.slow',
  schema: z.object({ tag: z.string() }),
  retryLimit: 0,
  handler: async () => async (_ctx, data) => {
    started.push(data.tag);
    await Bun.sleep(800);
    finished.push(data.tag);
  },
});
const probe: CalwatchModule = { name: 'probe', jobs: [slowProbe] };

let t: TestService;
let proxy: TcpProxy;

beforeAll(async () => {
  const database = await createTestDatabase();
  const u = new URL(database.url);
  proxy = await startTcpProxy(u.hostname, Number(u.port));
  t = await startTestService({
    name: 'foundation-service',
    database: { ...database, url: proxy.url(database.url) },
    extraModules: [probe],
  });
  // keep the real database handle to drop it at the end
  (t as unknown as { realDb: typeof database }).realDb = database;
});

afterAll(async () => {
  await t.service.stop();
  await proxy.stop();
  await (t as unknown as { realDb: { drop(): Promise<void> } }).realDb.drop();
}, 30000);

describe('health and readiness', () => {
  test('healthz and readyz answer 200 when all is well', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, jobs: true } });
  });

  test('readyz answers 503 while the database is unreachable, and 200 again once it is back', async () => {
    proxy.down();
    const down = await waitFor(async () => {
      const r = await fetch(`${t.url}/readyz`);
      return r.status === 503 ? r : undefined;
    }, { what: 'readyz 503' });
    expect((await down.json()).status).toBe('unavailable');
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    proxy.up();
    await waitFor(async () => (await fetch(`${t.url}/readyz`)).status === 200, { what: 'readyz 200 again' });
  });

  test('metrics are served as Prometheus text', async () => {
    const r = await fetch(`${t.url}/metrics`);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(await r.text()).toContain('calwatch_http_requests_total');
  });
});

describe('tRPC', () => {
  test('401 without the service token, and with a wrong one', async () => {
    expect((await t.trpc('system.info', undefined, { token: null })).status).toBe(401);
    expect((await t.trpc('system.info', undefined, { token: 'wrong-token-wrong-token' })).status).toBe(401);
  });

  test('system.info reports version, database kind and queues', async () => {
    const r = await t.trpc<{ version: string; database: string; queues: string[] }>('system.info');
    expect(r.status).toBe(200);
    expect(r.body.result!.data.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(['postgres', 'embedded']).toContain(r.body.result!.data.database);
    expect(r.body.result!.data.queues).toContain('probe.slow');
  });

  test('plain JSON over curl-style POST works (no transformer)', async () => {
    const r = await fetch(`${t.url}/trpc/system.info`, { headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}` } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { result: { data: { queues: string[] } } }).result.data.queues).toBeArray();
  });
});

describe('GraphQL admin', () => {
  test('401 without the admin token; the service token is not an admin token', async () => {
    const none = await t.graphql('{ system { version } }', undefined, { token: null });
    expect(none.status).toBe(401);
    expect(none.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect((await t.graphql('{ system { version } }', undefined, { token: TEST_SERVICE_TOKEN })).status).toBe(401);
  });

  test('system answers with the admin token', async () => {
    const r = await t.graphql<{ system: { database: string; queues: string[] } }>('{ system { database queues } }');
    expect(r.status).toBe(200);
    expect(r.body.data!.system.queues).toContain('probe.slow');
  });

  test('GraphiQL loads in a browser without a token', async () => {
    const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('GraphiQL');
  });
});

describe('migrations', () => {
  test('apply twice, and concurrently, without harm', async () => {
    const url = t.service.db.url;
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await runMigrations(url);
      await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url)]);
      const rows = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const files = (await Array.fromAsync(new Bun.Glob('*.sql').scan(`${import.meta.dir}/../../drizzle`))).length;
      expect(rows[0]!.n).toBe(files);
    } finally {
      await sql.end();
    }
  });
});

describe('graceful shutdown', () => {
  test('a job in flight when stop() is called finishes, then everything closes', async () => {
    const db = await createTestDatabase();
    const s = await startTestService({ name: 'foundation-shutdown', database: db, extraModules: [probe] });
    try {
      await slowProbe.send(s.service.ctx, { tag: 'in-flight' });
      slowProbe.wake(s.service.ctx);
      await waitFor(() => started.includes('in-flight'), { what: 'job to start' });
      await s.service.stop();
      expect(finished).toContain('in-flight');
      // The service no longer answers.
      expect(await fetch(`${s.url}/healthz`).then(() => 'up', () => 'down')).toBe('down');
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      const [job] = await sql`select state from pgboss.job where name = 'probe.slow' and data->>'tag' = 'in-flight'`;
      await sql.end();
      expect(job!.state).toBe('completed');
    } finally {
      await db.drop();
    }
  });
});
