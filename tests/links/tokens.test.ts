// Access tokens: cached sealed, refreshed shortly before expiry, one refresh at a time per owner
// (also across two service processes on one database), a forced refresh on 401, invalid_grant ->
// revoked with fewer than 5 token requests, no token in clear anywhere, and key rotation.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createCipheriv, randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { AppError } from '../../src/errors/index.ts';
import { createKeyring, decrypt, keyId, sealedKeyId } from '../../src/crypto/index.ts';
import type { CalwatchModule, Ctx, OwnerEvent } from '../../src/context/index.ts';
import { rotateKey, withCalendar } from '../../src/links/index.ts';
import { rotateKey as rotateFanoutKey } from '../../src/fanout/index.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import { startLinksHarness, type LinksHarness } from './harness.ts';

let h: LinksHarness;
let ctx: Ctx;
const events: OwnerEvent[] = [];
const issued: string[] = [];

/**
 * Every service of this suite records owner events, and counts token requests exactly: sync's
 * reaction to 'linked' (a calendar-list sync, then event syncs and channels, all asking for tokens
 * in the background) is switched off. The other links suites run with it.
 */
const wiring = {
  extraModules: [{ name: 'links-tokens-test', reactions: { ownerEvents: async (_ctx, ev) => void events.push(ev) } } satisfies CalwatchModule],
  adjustModules: (builtIn: CalwatchModule[]) => builtIn.map((m) => (m.name === 'sync' ? { ...m, reactions: { ...m.reactions, ownerEvents: undefined } } : m)),
};

beforeAll(async () => {
  h = await startLinksHarness('links-tokens', {}, wiring);
  ctx = h.t.service.ctx;
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

async function linked(email: string, externalOwnerId: string): Promise<string> {
  const g = await h.googleUser(email);
  issued.push(g.refreshToken);
  const r = await h.t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId, refreshToken: g.refreshToken });
  expect(r.status).toBe(200);
  const ownerId = r.body.result!.data.ownerId;
  // LINKED asked Google whose grant it is and cached that access token: these tests start from an
  // owner whose access token has to be refreshed first.
  await h.sql`update owners set access_token_enc = null, access_token_expires_at = null where id = ${ownerId}`;
  return ownerId;
}

const listCalendars = (c: Ctx, ownerId: string) => withCalendar(c, ownerId, async (cal) => (await cal.calendarList.list()).data);
const tokenCount = async () => (await h.tokenRequests()).length;
const cachedToken = async (ownerId: string) => (await h.sql`select access_token_enc, access_token_expires_at from owners where id = ${ownerId}`)[0]!;

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe('withCalendar and the access-token cache', () => {
  test('first call refreshes once, later calls use the cached token, a token near expiry is refreshed', async () => {
    const ownerId = await linked('kim@example.com', 'u-kim');
    const t0 = await tokenCount();
    const list = await listCalendars(ctx, ownerId);
    expect(Array.isArray(list.items)).toBe(true);
    expect(await tokenCount()).toBe(t0 + 1);
    const first = await cachedToken(ownerId);
    expect(first.access_token_enc).toMatch(/^v2\./);

    await listCalendars(ctx, ownerId);
    await listCalendars(ctx, ownerId);
    expect(await tokenCount()).toBe(t0 + 1);

    // 56 minutes later less than 5 minutes remain of the hour: refreshed before use.
    h.t.clock.advance(56 * 60_000);
    try {
      await listCalendars(ctx, ownerId);
      expect(await tokenCount()).toBe(t0 + 2);
      const second = await cachedToken(ownerId);
      expect(second.access_token_enc).not.toBe(first.access_token_enc);
      expect(second.access_token_expires_at.getTime()).toBeGreaterThan(h.t.clock.now().getTime() + 50 * 60_000);
      await listCalendars(ctx, ownerId);
      expect(await tokenCount()).toBe(t0 + 2);
    } finally {
      h.t.clock.offsetMs = 0;
    }
  });

  test('an access token Google no longer accepts (401) is refreshed once and the call retried once', async () => {
    const ownerId = await linked('lea@example.com', 'u-lea');
    await listCalendars(ctx, ownerId);
    const before = await cachedToken(ownerId);
    const t0 = await tokenCount();
    await h.emuJson('users/lea@example.com/expire-tokens', {});
    const list = await listCalendars(ctx, ownerId);
    expect(Array.isArray(list.items)).toBe(true);
    expect(await tokenCount()).toBe(t0 + 1);
    expect((await cachedToken(ownerId)).access_token_enc).not.toBe(before.access_token_enc);
    // (sync's own jobs for this owner may meet the 401 too: they reuse the refreshed token)
    const unauthorized = (await h.emuJson('requests?path=/calendar/v3/')).items.filter((r: { status: number; user: string | null }) => r.status === 401);
    expect(unauthorized.length).toBeGreaterThanOrEqual(1);
  });

  test('ten concurrent calls needing a token cause ONE refresh', async () => {
    const ownerId = await linked('mia@example.com', 'u-mia');
    const t0 = await tokenCount();
    const results = await Promise.all(Array.from({ length: 10 }, () => listCalendars(ctx, ownerId)));
    expect(results).toHaveLength(10);
    expect(await tokenCount()).toBe(t0 + 1);
  });

  test('two service processes on one database, both needing a token at once: ONE refresh', async () => {
    const other: TestService = await startTestService({ name: 'links-tokens-b', emulatorUrl: h.emu.url, database: h.t.database as never, skipStartHooks: true, ...wiring });
    try {
      const ownerId = await linked('ned@example.com', 'u-ned');
      const t0 = await tokenCount();
      const calls = Array.from({ length: 12 }, (_, i) => listCalendars(i % 2 ? other.service.ctx : ctx, ownerId));
      await Promise.all(calls);
      expect(await tokenCount()).toBe(t0 + 1);
      // and once expiry nears, again once for both
      h.t.clock.advance(57 * 60_000);
      other.clock.advance(57 * 60_000);
      await Promise.all(Array.from({ length: 8 }, (_, i) => listCalendars(i % 2 ? other.service.ctx : ctx, ownerId)));
      expect(await tokenCount()).toBe(t0 + 2);
    } finally {
      h.t.clock.offsetMs = 0;
      await other.service.stop();
    }
  }, 30_000);

  test('a token endpoint failing (500): retryable errors, one caller asks, a short cooldown stops the others from asking', async () => {
    let hits = 0;
    const failing = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => {
        hits++;
        return Response.json({ error: 'internal_failure' }, { status: 500 });
      },
    });
    try {
      const ownerId = await linked('ola@example.com', 'u-ola');
      const broken: Ctx = { ...ctx, config: { ...ctx.config, google: { ...ctx.config.google, tokenUrl: `http://127.0.0.1:${failing.port}/token` } } };
      const settled = await Promise.allSettled(Array.from({ length: 6 }, () => listCalendars(broken, ownerId)));
      for (const r of settled) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as AppError;
        expect(err).toBeInstanceOf(AppError);
        expect(err.retryable).toBe(true);
      }
      const afterFirst = hits;
      expect(afterFirst).toBeGreaterThanOrEqual(1);
      expect(afterFirst).toBeLessThanOrEqual(4); // one caller; google-auth-library's own bounded retries
      for (let i = 0; i < 5; i++) expect((await rejection(listCalendars(broken, ownerId))).retryable).toBe(true);
      expect(hits).toBe(afterFirst);
      // the cooldown over, the next caller refreshes (Google is back)
      h.t.clock.advance(6_000);
      const t0 = await tokenCount();
      await listCalendars(ctx, ownerId);
      expect(await tokenCount()).toBe(t0 + 1);
    } finally {
      h.t.clock.offsetMs = 0;
      await failing.stop(true);
    }
  }, 30_000);

  test('an unknown or unlinked owner -> NOT_FOUND (non-retryable)', async () => {
    const err = await rejection(listCalendars(ctx, '00000000-0000-4000-8000-000000000000'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.retryable).toBe(false);
  });
});

describe('invalid_grant: owner revoked, no hammering', () => {
  test('a grant revoked at Google ends in revoked (with error and time) after fewer than 5 token requests', async () => {
    const ownerId = await linked('olga@example.com', 'u-olga');
    await listCalendars(ctx, ownerId); // cached token
    const t0 = await tokenCount();
    await h.emuJson('users/olga@example.com/revoke', {});

    // many callers at once (jobs of several calendars), then more later
    const first = await Promise.allSettled(Array.from({ length: 6 }, () => listCalendars(ctx, ownerId)));
    for (let i = 0; i < 5; i++) await rejection(listCalendars(ctx, ownerId));
    for (const r of first) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as AppError;
      expect(err.code).toBe('UPSTREAM_AUTH');
      expect(err.retryable).toBe(false);
    }
    const tokenRequests = (await tokenCount()) - t0;
    expect(tokenRequests).toBeGreaterThanOrEqual(1);
    expect(tokenRequests).toBeLessThan(5);

    const row = (await h.sql`select * from owners where id = ${ownerId}`)[0]!;
    expect(row.status).toBe('revoked');
    expect(row.last_error).toContain('invalid_grant');
    expect(row.last_error_at).toBeInstanceOf(Date);
    expect(row.revoked_at).toBeInstanceOf(Date);
    expect(row.access_token_enc).toBeNull();
    expect(events.filter((e) => e.ownerId === ownerId).map((e) => e.type)).toEqual(['linked', 'revoked']);

    const status = await h.t.trpc<{ status: string; lastError: string; lastErrorAt: string }>('links.get', { externalOwnerId: 'u-olga' });
    expect(status.body.result!.data).toMatchObject({ status: 'revoked' });
    expect(status.body.result!.data.lastError).toContain('invalid_grant');
    expect(typeof status.body.result!.data.lastErrorAt).toBe('string');
    const admin = await h.t.graphql<{ owner: { status: string; lastError: string } }>(
      'query($id: String!) { owner(externalOwnerId: $id) { status lastError lastErrorAt revokedAt } }',
      { id: 'u-olga' },
    );
    expect(admin.body.errors).toBeUndefined();
    expect(admin.body.data!.owner.status).toBe('REVOKED');
    const list = await h.t.graphql<{ owners: { edges: Array<{ node: { externalOwnerId: string } }> } }>(
      '{ owners(status: REVOKED) { edges { node { externalOwnerId } } } }',
    );
    expect(list.body.data!.owners.edges.map((e) => e.node.externalOwnerId)).toContain('u-olga');
  });

  test('a revoked grant without a cached token: one token request, then none', async () => {
    const ownerId = await linked('pia@example.com', 'u-pia');
    await h.emuJson('users/pia@example.com/revoke', {});
    const t0 = await tokenCount();
    await Promise.allSettled(Array.from({ length: 5 }, () => listCalendars(ctx, ownerId)));
    for (let i = 0; i < 3; i++) expect((await rejection(listCalendars(ctx, ownerId))).code).toBe('UPSTREAM_AUTH');
    expect((await tokenCount()) - t0).toBe(1);
  });

  test('while UNLINKED revokes the grant, callers meeting the revocation neither refresh nor mark the owner revoked', async () => {
    const ownerId = await linked('ruth@example.com', 'u-ruth');
    await listCalendars(ctx, ownerId);
    // the state UNLINKED puts the owner in just before revoking at Google
    await h.sql`update owners set refresh_lease_id = 'unlinking', refresh_lease_until = now() + interval '5 minutes' where id = ${ownerId}`;
    await h.emuJson('users/ruth@example.com/revoke', {});
    const t0 = await tokenCount();
    const err = await rejection(listCalendars(ctx, ownerId));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.retryable).toBe(false);
    expect(await tokenCount()).toBe(t0);
    expect((await h.sql`select status from owners where id = ${ownerId}`)[0]!.status).toBe('active');
    expect(events.filter((e) => e.ownerId === ownerId).map((e) => e.type)).toEqual(['linked']);
  });

  test('a later LINKED revives the owner', async () => {
    const ownerId = await linked('olga@example.com', 'u-olga');
    const row = (await h.sql`select status, last_error, revoked_at from owners where id = ${ownerId}`)[0]!;
    expect(row).toEqual({ status: 'active', last_error: null, revoked_at: null });
    expect((await listCalendars(ctx, ownerId)).items).toBeDefined();
  });
});

describe('at rest', () => {
  test('no refresh or access token in clear in any table of the database', async () => {
    const tables = await h.sql<{ table_schema: string; table_name: string }[]>`
      select table_schema, table_name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`;
    expect(tables.length).toBeGreaterThan(3);
    let scanned = 0;
    for (const t of tables) {
      const rows = await h.sql.unsafe(`select t::text as v from "${t.table_schema}"."${t.table_name}" t`);
      for (const r of rows) {
        scanned++;
        const v = String(r.v);
        expect(v).not.toContain('ya29.');
        expect(v).not.toContain('1//emu-');
        for (const token of issued) expect(v).not.toContain(token);
      }
    }
    expect(scanned).toBeGreaterThan(10);
    const sealed = await h.sql`select refresh_token_enc, access_token_enc from owners where access_token_enc is not null`;
    expect(sealed.length).toBeGreaterThan(0);
    for (const r of sealed) {
      expect(sealedKeyId(r.refresh_token_enc)).toBe(ctx.keyring.current.id);
      expect(sealedKeyId(r.access_token_enc)).toBe(ctx.keyring.current.id);
    }
  });
});

/** The format written before v2 (what databases held): no associated data. */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', keyId(key), iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

describe('sealed values are bound to their row', () => {
  test("attack: tokens copied from one owner's row to another's do not open there: that owner fails safely, no one is impersonated, a LINKED repairs it", async () => {
    const victim = await linked('vic@example.com', 'u-victim');
    const g = await h.googleUser('mal@example.com');
    const r = await h.t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'u-mallory', refreshToken: g.refreshToken });
    const mallory = r.body.result!.data.ownerId;
    await listCalendars(ctx, victim); // the victim's access token is cached too
    await h.sql`
      update owners set refresh_token_enc = v.refresh_token_enc, access_token_enc = v.access_token_enc, access_token_expires_at = v.access_token_expires_at
      from owners v where v.id = ${victim} and owners.id = ${mallory}`;

    const t0 = await tokenCount();
    const err = await rejection(listCalendars(ctx, mallory));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toContain('cannot be opened');
    expect(err.message).not.toContain('1//');
    expect(await tokenCount()).toBe(t0); // the victim's refresh token never went to Google
    // (mallory's own sync jobs, started by its LINKED, meet the same unopenable values meanwhile and
    // release their lease: neither a cooldown nor a revocation is left behind)
    const row = await waitFor(async () => {
      const [r] = await h.sql`select status, refresh_lease_id, last_error from owners where id = ${mallory}`;
      return r!.refresh_lease_id === null ? r : undefined;
    }, { what: "mallory's refresh lease released" });
    expect(row).toMatchObject({ status: 'active', refresh_lease_id: null, last_error: null });
    // the victim's own row opens as before; the same LINKED again re-seals mallory's own token
    await listCalendars(ctx, victim);
    expect((await h.t.trpc('links.event', { type: 'LINKED', externalOwnerId: 'u-mallory', refreshToken: g.refreshToken })).status).toBe(200);
    const items = (await listCalendars(ctx, mallory)).items!.map((c) => c.id);
    expect(items).toContain('mal@example.com');
    expect(items).not.toContain('vic@example.com');
  });

  test('legacy v1 values open, and the next boot re-seals every one (owners and subscriptions) as v2 bound to its row, once, even with two processes booting together', async () => {
    const key = h.t.config.encryptionKey;
    const ownerId = await linked('leg@example.com', 'u-legacy');
    const refreshToken = issued.at(-1)!;
    await listCalendars(ctx, ownerId);
    const [sealed] = await h.sql`select access_token_enc from owners where id = ${ownerId}`;
    const accessToken = decrypt(ctx.keyring, sealed!.access_token_enc, `owners.access_token_enc:${ownerId}`);
    await h.sql`update owners set refresh_token_enc = ${sealV1(key, refreshToken)}, access_token_enc = ${sealV1(key, accessToken)} where id = ${ownerId}`;
    const [sub] = await h.sql`insert into subscriptions (url, secret_enc) values ('https://receiver.test/legacy', ${sealV1(key, 'whsec_legacy')}) returning id`;

    // v1 opens: the cached access token, then (once it is gone) the refresh token
    const t0 = await tokenCount();
    await listCalendars(ctx, ownerId);
    expect(await tokenCount()).toBe(t0);
    await h.sql`update owners set access_token_enc = ${sealV1(key, accessToken)}, access_token_expires_at = now() - interval '1 minute' where id = ${ownerId}`;
    await listCalendars(ctx, ownerId);
    expect(await tokenCount()).toBe(t0 + 1);
    await h.sql`update owners set access_token_enc = ${sealV1(key, accessToken)}, access_token_expires_at = now() + interval '1 hour' where id = ${ownerId}`;
    const legacy = await h.sql`select count(*)::int as n from owners where refresh_token_enc like 'v1.%' or access_token_enc like 'v1.%'`;
    expect(legacy[0]!.n).toBe(1);

    const boot = () => startTestService({ name: 'links-tokens-reseal', emulatorUrl: h.emu.url, database: h.t.database as never, skipStartHooks: true, ...wiring });
    const booted = await Promise.all([boot(), boot()]);
    try {
      const [row] = await h.sql`select refresh_token_enc, access_token_enc from owners where id = ${ownerId}`;
      expect(row!.refresh_token_enc).toMatch(/^v2\./);
      expect(row!.access_token_enc).toMatch(/^v2\./);
      expect(decrypt(ctx.keyring, row!.refresh_token_enc, `owners.refresh_token_enc:${ownerId}`)).toBe(refreshToken);
      expect(decrypt(ctx.keyring, row!.access_token_enc, `owners.access_token_enc:${ownerId}`)).toBe(accessToken);
      const [s] = await h.sql`select secret_enc from subscriptions where id = ${sub!.id}`;
      expect(s!.secret_enc).toMatch(/^v2\./);
      expect(decrypt(ctx.keyring, s!.secret_enc, `subscriptions.secret_enc:${sub!.id}`)).toBe('whsec_legacy');
      const left = await h.sql`
        select (select count(*)::int from owners where refresh_token_enc like 'v1.%' or access_token_enc like 'v1.%')
             + (select count(*)::int from subscriptions where secret_enc like 'v1.%') as n`;
      expect(left[0]!.n).toBe(0);
      // re-sealed, still usable without a refresh
      const t1 = await tokenCount();
      await listCalendars(booted[0]!.service.ctx, ownerId);
      expect(await tokenCount()).toBe(t1);

      // with nothing left, the boot's step is one query per module
      let queries = 0;
      const counting = postgres(h.t.database.url!, { max: 1, fetch_types: false, onnotice: () => {}, debug: () => void queries++ });
      try {
        const c: Ctx = { ...ctx, db: drizzle(counting) as never };
        expect(await rotateKey(c, { legacyOnly: true })).toMatchObject({ reencrypted: 0, unreadable: 0 });
        expect(await rotateFanoutKey(c, { legacyOnly: true })).toMatchObject({ reencrypted: 0, unreadable: 0 });
        expect(queries).toBe(2);
      } finally {
        await counting.end();
      }
    } finally {
      await h.sql`delete from subscriptions where id = ${sub!.id}`;
      await Promise.all(booted.map((b) => b.service.stop()));
    }
  }, 60_000);
});

// Last: it re-seals every owner of this database under key B.
describe('key rotation', () => {
  test('sealed under A; with B current and A previous, rotateKey re-encrypts everything; then B alone suffices', async () => {
    const ownerId = await linked('quinn@example.com', 'u-quinn');
    await listCalendars(ctx, ownerId); // an access token sealed under A too
    const A = h.t.config.encryptionKey;
    const B = Buffer.alloc(32, 9);
    const onlyA: Ctx = { ...ctx, keyring: createKeyring(A) };
    const bWithA: Ctx = { ...ctx, keyring: createKeyring(B, A) };
    const onlyB: Ctx = { ...ctx, keyring: createKeyring(B) };

    // before rotation, B alone cannot read A's values
    expect(await rejection(listCalendars(onlyB, ownerId)).catch((e) => e)).toBeDefined();

    const sealedBefore = Number((await h.sql`select count(refresh_token_enc)::int + count(access_token_enc)::int as n from owners`)[0]!.n);
    const r = await rotateKey(bWithA);
    expect(r.reencrypted).toBe(sealedBefore);
    expect(r.current).toBe(0);
    const rows = await h.sql`select refresh_token_enc, access_token_enc from owners`;
    for (const row of rows) {
      for (const v of [row.refresh_token_enc, row.access_token_enc]) if (v !== null) expect(sealedKeyId(v)).toBe(keyId(B));
    }
    expect(await rotateKey(bWithA)).toMatchObject({ reencrypted: 0, current: sealedBefore });

    // only B configured: the cached access token and, once it is gone, the refresh token still open
    const t0 = await tokenCount();
    await listCalendars(onlyB, ownerId);
    expect(await tokenCount()).toBe(t0);
    await h.sql`update owners set access_token_enc = null, access_token_expires_at = null where id = ${ownerId}`;
    await listCalendars(onlyB, ownerId);
    expect(await tokenCount()).toBe(t0 + 1);
    // and A alone no longer can
    let failed = false;
    await listCalendars(onlyA, ownerId).catch(() => (failed = true));
    expect(failed).toBe(true);
  });
});
