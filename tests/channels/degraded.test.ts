// Degraded conditions: no PUBLIC_URL (nothing registered, said once in the log, sync still runs),
// and the database going away under the webhook (503, so that Google retries; never a 204 without
// the durable note), then coming back.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { backfillChannels } from '../../src/channels/index.ts';
import { runChannelsCommand } from '../../src/channels/index.ts';
import { findCalendar, getCalendar } from '../../src/sync/index.ts';
import { createTestDatabase } from '../support/db.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { LOG_DIR, startTestService, waitFor, type TestService } from '../support/service.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(() => emu?.stop(), 30_000);

async function emuJson(path: string, body?: unknown) {
  const res = await fetch(`${emu.url}_emulator/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res.json() as Promise<any>;
}

async function link(t: TestService, email: string) {
  const user = await emuJson('users', { email });
  const r = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: `owner-${email}`, refreshToken: user.refreshToken });
  const ownerId = r.body.result!.data.ownerId;
  const primary = await waitFor(async () => {
    const c = await findCalendar(t.service.ctx, ownerId, 'primary');
    return c?.lastFullSyncAt ? c : undefined;
  }, { what: `first sync of ${email}` });
  return { ownerId, primary };
}

describe('without PUBLIC_URL', () => {
  test('no channel is registered, the log says so once, and the mirror is still synced', async () => {
    const name = `channels-no-public-url-${Date.now()}`;
    const t = await startTestService({ name, emulatorUrl: emu.url, env: { PUBLIC_URL: '' } });
    try {
      expect(t.config.publicUrl).toBeUndefined();
      const { primary } = await link(t, 'nopublic@example.com');
      const { ownerId: second } = await link(t, 'nopublic2@example.com');
      expect(second).toBeDefined();
      const sql = postgres(t.database.url!, { max: 1 });
      try {
        expect((await sql`select count(*)::int as n from channels`)[0]!.n).toBe(0);
      } finally {
        await sql.end();
      }
      expect((await emuJson('channels')).items.filter((c: any) => c.user.startsWith('nopublic'))).toEqual([]);
      expect(primary.lastFullSyncAt).toBeInstanceOf(Date);
      expect((await backfillChannels(t.service.ctx)).disabled).toBe(true);
      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), progress: () => ({ update() {}, finish: (s: string) => lines.push(s) }) };
      expect(await runChannelsCommand(t.service.ctx, ['backfill'], io)).toBe(1);
      expect(lines.join('\n')).toContain('PUBLIC_URL is not set');
      const logFile = join(LOG_DIR, `${name}.log`);
      const said = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('PUBLIC_URL is not set')) : [];
      expect(said).toHaveLength(1);
    } finally {
      await t.stop();
    }
  }, 30_000);
});

describe('database down', () => {
  const TOKEN = 'degraded-webhook-token-0123456789';
  let t: TestService;
  let proxy: TcpProxy;
  let realDrop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    realDrop = database.drop;
    const u = new URL(database.url);
    proxy = await startTcpProxy(u.hostname, Number(u.port));
    t = await startTestService({ name: 'channels-db-down', emulatorUrl: emu.url, database: { ...database, url: proxy.url(database.url) }, env: { GOOGLE_WEBHOOK_TOKEN: TOKEN } });
  }, 60_000);
  afterAll(async () => {
    proxy?.up();
    await t?.service.stop();
    await proxy?.stop();
    await realDrop?.();
  }, 30_000);

  test('503 while the database is unreachable (known or unknown channel), 204 and the sync enqueued once it is back', async () => {
    const { ownerId, primary } = await link(t, 'dbdown@example.com');
    const sql = postgres(t.database.url!, { max: 1, onnotice: () => {} });
    let ch: any;
    try {
      ch = await waitFor(async () => (await sql`select * from channels where calendar_id = ${primary.id} and status = 'active'`)[0], { what: 'the channel' });
    } finally {
      await sql.end();
    }
    expect(ownerId).toBeDefined();
    const post = (id: string, n: number) =>
      fetch(`${t.url}/webhooks/google/calendar`, {
        method: 'POST',
        headers: {
          'X-Goog-Channel-ID': id,
          'X-Goog-Channel-Token': TOKEN,
          'X-Goog-Resource-ID': ch.resource_id,
          'X-Goog-Resource-State': 'exists',
          'X-Goog-Message-Number': String(n),
        },
      });
    // Warm: the channel row is cached, so the failure below is the durable note's, not the lookup's.
    expect((await post(ch.id, 1000)).status).toBe(204);

    proxy.down();
    const started = performance.now();
    const down = await post(ch.id, 2000);
    expect(down.status).toBe(503);
    // Bounded: Google's delivery does not wait on a dead database for long.
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await down.json()).detail).toMatch(/unavailable/i);
    expect((await post(crypto.randomUUID(), 5)).status).toBe(503);

    proxy.up();
    // Google retries the same message: now it is noted, and the calendar's sync follows.
    const acceptedAfter = new Date();
    const retried = await waitFor(async () => {
      const r = await post(ch.id, 2000);
      return r.status === 204 ? r : undefined;
    }, { what: 'the retry accepted', timeoutMs: 20_000 });
    expect(retried.status).toBe(204);
    const sql2 = postgres(t.database.url!, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql2`select last_message_number from channels where id = ${ch.id}`;
      expect(Number(row!.last_message_number)).toBe(2000);
    } finally {
      await sql2.end();
    }
    await waitFor(async () => {
      const c = await getCalendar(t.service.ctx, primary.id);
      return c?.lastSyncedAt && c.lastSyncedAt > acceptedAfter;
    }, { what: 'a sync after the accepted retry', timeoutMs: 20_000 });
  }, 60_000);
});
