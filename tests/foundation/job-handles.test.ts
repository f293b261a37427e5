// Job handles against a real pg-boss: a handle's send carries its typed payload to the handler
// (schema defaults applied), inside the caller's transaction when given one; the handler is
// loaded on the queue's first job, once; and a payload the schema refuses fails at the sender,
// for the type checker (the @ts-expect-error lines) as at run time.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { z } from 'zod';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import { defineJob } from '../../src/jobs/index.ts';
import type { CalwatchModule } from '../../src/context/index.ts';

let loads = 0;
const probeJob = defineJob({
  name: 'probe.handle',
  schema: z.object({
    count: z.number().int().min(0),
    label: z.string().default('unlabelled'),
    at: z.iso.datetime(),
    tags: z.array(z.string()).max(3),
  }),
  retryLimit: 0,
  handler: () => {
    loads += 1;
    return import('./probe-handler.ts').then((m) => m.recordProbe);
  },
});
const probe: CalwatchModule = { name: 'probe', jobs: [probeJob] };

let t: TestService;
let sql: postgres.Sql;

const receivedNow = async () => (await import('./probe-handler.ts')).received;
const jobsOfProbe = async () => (await sql`select state, data from pgboss.job where name = ${probeJob.name} order by created_on`) as Array<{ state: string; data: Record<string, unknown> }>;

beforeAll(async () => {
  t = await startTestService({ name: 'foundation-job-handles', skipStartHooks: true, extraModules: [probe] });
  sql = postgres(t.database.url!, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql.end();
  await t.stop();
}, 30000);

describe('job handles', () => {
  test('the handle names its queue and declares it', () => {
    expect(probeJob.name).toBe('probe.handle');
    expect(probeJob.definition.name).toBe('probe.handle');
    expect(t.service.ctx.jobs.queueNames).toContain('probe.handle');
  });

  test('send carries the typed payload, defaults applied, to a handler loaded on the first job, once', async () => {
    // Declared and worked since the start, yet nothing loaded its handler before a job came.
    expect(loads).toBe(0);
    const at = new Date().toISOString();
    const ctx = t.service.ctx;
    const first = await probeJob.send(ctx, { count: 1, at, tags: ['a'] });
    expect(first).toEqual(expect.any(String));
    await probeJob.sendMany(ctx, [{ data: { count: 2, label: 'second', at, tags: [] } }, { data: { count: 3, at, tags: ['b', 'c'] } }]);
    const received = await waitFor(async () => {
      const r = await receivedNow();
      return r.length >= 3 ? r : undefined;
    }, { what: 'the probe jobs to run' });
    expect(received.map((r) => r.data).sort((a, b) => a.count - b.count)).toEqual([
      { count: 1, label: 'unlabelled', at, tags: ['a'] },
      { count: 2, label: 'second', at, tags: [] },
      { count: 3, label: 'unlabelled', at, tags: ['b', 'c'] },
    ]);
    expect(new Set(received.map((r) => r.queue))).toEqual(new Set(['probe.handle']));
    expect(loads).toBe(1);
  });

  test('with opts.tx the job exists only if the transaction commits', async () => {
    const ctx = t.service.ctx;
    const at = new Date().toISOString();
    const before = (await jobsOfProbe()).length;
    await ctx.db
      .transaction(async (tx) => {
        await probeJob.send(ctx, { count: 10, at, tags: [] }, { tx });
        throw new Error('roll back');
      })
      .catch(() => {});
    expect((await jobsOfProbe()).length).toBe(before);
    await ctx.db.transaction(async (tx) => {
      await probeJob.send(ctx, { count: 11, at, tags: [] }, { tx });
    });
    await waitFor(async () => (await receivedNow()).some((r) => r.data.count === 11), { what: 'the committed job to run' });
    expect((await receivedNow()).some((r) => r.data.count === 10)).toBe(false);
    expect(loads).toBe(1);
  });

  test('a payload the schema refuses fails at the sender, for the type checker and at run time', async () => {
    const ctx = t.service.ctx;
    const at = new Date().toISOString();
    const before = (await jobsOfProbe()).length;
    // @ts-expect-error count is a number
    await expect(probeJob.send(ctx, { count: 'three', at, tags: [] })).rejects.toThrow();
    // @ts-expect-error at is required
    await expect(probeJob.send(ctx, { count: 1, tags: [] })).rejects.toThrow();
    // @ts-expect-error tags holds strings
    await expect(probeJob.sendMany(ctx, [{ data: { count: 1, at, tags: [1] } }])).rejects.toThrow();
    // Within the types, outside the schema: the sender's parse refuses it all the same.
    await expect(probeJob.send(ctx, { count: -1, at, tags: [] })).rejects.toThrow();
    await expect(probeJob.send(ctx, { count: 1, at: 'yesterday', tags: [] })).rejects.toThrow();
    expect((await jobsOfProbe()).length).toBe(before);
  });
});

// The handler's side of the types: it receives the schema's output (defaults filled in).
defineJob({
  name: 'probe.types',
  schema: z.object({ label: z.string().default('x') }),
  handler: async () => async (_ctx, data) => {
    const label: string = data.label;
    // @ts-expect-error no such field in the payload
    return data.missing ?? label;
  },
});
