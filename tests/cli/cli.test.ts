// `bun run calwatch <command>` as an operator runs it: a child process on the service's database,
// configured by the environment.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { listChannels, stopChannel } from '../../src/channels/index.ts';
import { findCalendar } from '../../src/sync/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startServiceWithEmulator, type ServiceWithEmulator } from '../support/service-with-emulator.ts';
import { TEST_ENCRYPTION_KEY, childEnv, waitFor } from '../support/service.ts';

const CLI = join(import.meta.dir, '..', '..', 'src', 'cli', 'index.ts');
let h: ServiceWithEmulator;
let ownerId: string;

const envFor = (databaseUrl: string, extra: Record<string, string> = {}) => childEnv({ databaseUrl, publicUrl: h.t.url, emulatorUrl: h.emu.url }, extra);

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(['bun', CLI, ...args], { env, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

beforeAll(async () => {
  h = await startServiceWithEmulator({ name: 'cli' });
  ownerId = await h.linkOwner('cli-ada@example.com', 'cli-ada');
  const cal = await h.primarySynced(ownerId, { what: 'first sync' });
  await waitFor(async () => (await listChannels(h.t.service.ctx, { status: 'active', calendarRowId: cal.id })).length === 1, { what: 'channel active' });
}, 60_000);

afterAll(() => h?.stop(), 30_000);

describe('calwatch CLI', () => {
  test('--help lists every command; an unknown command is refused with the usage', async () => {
    const help = await cli(['--help'], envFor(h.t.database.url!));
    expect(help.code).toBe(0);
    for (const c of ['migrate', 'channels backfill', 'channels renew', 'resync', 'rotate-key', 'status']) expect(help.out).toContain(c);
    const unknown = await cli(['frobnicate'], envFor(h.t.database.url!));
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('unknown command: frobnicate');
  });

  test('a configuration error is one line naming the variable', async () => {
    const r = await cli(['status'], { ...envFor(h.t.database.url!), ENCRYPTION_KEY: 'short' });
    expect(r.code).toBe(1);
    expect(r.out.trim()).toBe('calwatch: invalid ENCRYPTION_KEY: must be 32 bytes encoded in base64');
  });

  test('migrate applies the migrations to an empty database, and again without harm', async () => {
    const db: TestDatabase & { url: string } = await createTestDatabase();
    try {
      for (let i = 0; i < 2; i++) {
        const r = await cli(['migrate'], envFor(db.url));
        expect(r.code).toBe(0);
        expect(r.out).toContain('migrations applied');
      }
    } finally {
      await db.drop();
    }
  }, 60_000);

  test('status shows owners, channels by expiry and queue depths as tables (plain text off a terminal)', async () => {
    const r = await cli(['status'], envFor(h.t.database.url!));
    expect(r.code).toBe(0);
    expect(r.out).toContain('owners: 1 active');
    expect(r.out).toMatch(/Channels by expiry\nexpires at\s+in\s+owner\s+calendar/);
    expect(r.out).toContain('cli-ada@example.com');
    expect(r.out).toMatch(/\nsync\.events\s+\d+/);
    expect(r.out).not.toContain('\x1b['); // no terminal codes when stdout is a pipe
  });

  test('channels backfill creates the missing channel, then finds nothing to do', async () => {
    const ctx = h.t.service.ctx;
    const cal = (await findCalendar(ctx, ownerId, 'primary'))!;
    for (const c of await listChannels(ctx, { status: 'active', calendarRowId: cal.id })) await stopChannel(ctx, c.id);
    const first = await cli(['channels', 'backfill'], envFor(h.t.database.url!));
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/channels backfill: \d+ resources: 1 created/);
    expect((await listChannels(ctx, { status: 'active', calendarRowId: cal.id })).length).toBe(1);
    const again = await cli(['channels', 'backfill'], envFor(h.t.database.url!));
    expect(again.out).toMatch(/0 created/);
  }, 60_000);

  test('channels renew replaces the channels expiring within the window', async () => {
    const ctx = h.t.service.ctx;
    const cal = (await findCalendar(ctx, ownerId, 'primary'))!;
    const [before] = await listChannels(ctx, { status: 'active', calendarRowId: cal.id });
    const r = await cli(['channels', 'renew', '--within', String(30 * 86400)], envFor(h.t.database.url!));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/channels renew: .*\d+ /);
    const [after] = await listChannels(ctx, { status: 'active', calendarRowId: cal.id });
    expect(after!.id).not.toBe(before!.id);
  }, 60_000);

  test('resync queues a full resync; an unknown owner is a one-line refusal', async () => {
    const ok = await cli(['resync', 'cli-ada'], envFor(h.t.database.url!));
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('resync queued for cli-ada');
    const unknown = await cli(['resync', 'nobody'], envFor(h.t.database.url!));
    expect(unknown.code).toBe(1);
    expect(unknown.out).toMatch(/^calwatch: .*\(NOT_FOUND\)\n$/);
  }, 60_000);

  test('rotate-key re-encrypts under the new key, reading the old one as previous', async () => {
    const newKey = Buffer.alloc(32, 9).toString('base64');
    const r = await cli(['rotate-key'], envFor(h.t.database.url!, { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: TEST_ENCRYPTION_KEY }));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/links: [1-9]\d* re-encrypted/);
    const again = await cli(['rotate-key'], envFor(h.t.database.url!, { ENCRYPTION_KEY: newKey }));
    expect(again.out).toMatch(/links: 0 re-encrypted, [1-9]\d* already under the current key/);
  }, 60_000);
});
