// A burst of links drains at the queues' concurrency, never waiting for a poll: 100 owners LINKED
// at once, with every worker's poll interval (JOBS_POLL_SECONDS) far above the test's patience, are
// all mirrored and watched. On the CI Postgres (LISTEN/NOTIFY wakes other processes' workers) and
// on the embedded PGlite (no NOTIFY: only this process's own wake-ups).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { emulatorControl } from '../support/emulator-control.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';

const OWNERS = 100;
/** Far above the test's patience: a job found by a poll would come too late. */
const POLL = '300';

for (const backend of ['postgres', 'embedded'] as const) {
  describe(`${OWNERS} owners linked at once (${backend}, JOBS_POLL_SECONDS=${POLL})`, () => {
    let emu: Emulator;
    let t: TestService;
    let sql: postgres.Sql;
    let dataDir: string | undefined;
    const tokens: string[] = [];

    beforeAll(async () => {
      emu = await startEmulator({ port: 0 });
      const ctl = emulatorControl(emu.url);
      for (let i = 0; i < OWNERS; i++) tokens.push((await ctl.createUser(`burst${i}-${backend}@example.com`)).refreshToken);
      if (backend === 'embedded') dataDir = mkdtempSync(join(tmpdir(), 'calwatch-burst-'));
      t = await startTestService({
        name: `link-burst-${backend}`,
        emulatorUrl: emu.url,
        env: {
          JOBS_POLL_SECONDS: POLL,
          LOG_LEVEL: 'info',
          // The embedded default: no DATABASE_URL, PGlite under DATA_DIR, as a newcomer runs it.
          ...(backend === 'embedded' ? { DATABASE_URL: undefined, DATA_DIR: dataDir } : {}),
        },
        ...(backend === 'embedded' ? { database: { url: '', kind: 'embedded' as const, drop: async () => {} } } : {}),
      });
      expect(t.service.db.kind).toBe(backend);
      sql = postgres(t.service.db.url, { max: 1, onnotice: () => {} });
    }, 120_000);

    afterAll(async () => {
      await sql?.end({ timeout: 1 });
      await t?.stop();
      await emu?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    test('every owner is mirrored (primary fully synced) and watched (calendar list and primary channels active)', async () => {
      const answers = await Promise.all(
        tokens.map((refreshToken, i) => t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: `burst-${i}`, refreshToken })),
      );
      expect(answers.filter((a) => !a.body.result)).toEqual([]);
      const state = async () => {
        const [r] = await sql`
          select
            (select count(*)::int from calendars where "primary" and last_full_sync_at is not null) as mirrored,
            (select count(distinct owner_id)::int from channels where kind = 'events' and status = 'active') as watched,
            (select count(distinct owner_id)::int from channels where kind = 'calendarList' and status = 'active') as listed`;
        return r as { mirrored: number; watched: number; listed: number };
      };
      const final = await waitFor(
        async () => {
          const s = await state();
          return s.mirrored === OWNERS && s.watched === OWNERS && s.listed === OWNERS ? s : undefined;
        },
        { what: `${OWNERS} owners mirrored and watched`, timeoutMs: 90_000, intervalMs: 250 },
      ).catch(async (err) => {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await state())}`);
      });
      expect(final).toEqual({ mirrored: OWNERS, watched: OWNERS, listed: OWNERS });
      // Nothing failed on the way (a retry would have waited for a poll).
      const [failed] = await sql`select count(*)::int as n from pgboss.job where state in ('retry', 'failed')`;
      expect(failed!.n).toBe(0);
    }, 120_000);
  });
}
