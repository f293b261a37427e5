// links.event (LINKED / REFRESHED / UNLINKED / UNLINK / RESYNC) and links.get over tRPC with the
// service token, and POST /link-events in WebhookDB's body format; against the emulator and a real
// database. Owner events are observed through a handler registered like sync registers its own.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sql as rawSql } from 'drizzle-orm';
import type { CalwatchModule, OwnerEvent } from '../../src/context/index.ts';
import { waitFor } from '../support/service.ts';
import { startLinksHarness, type LinksHarness } from './harness.ts';

const LINK_SECRET = 'link-events-secret-0123456789';
const SIGNING_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
let h: LinksHarness;
const events: Array<OwnerEvent & { ownerRowPresent: boolean }> = [];
const hooks: Array<{ ownerId: string; externalOwnerId: string; ownerRowPresent: boolean }> = [];

/** Wired like sync / channels are: the event runs in links' transaction, before deletion. */
const recorder: CalwatchModule = {
  name: 'links-test-recorder',
  reactions: {
    ownerEvents: async (ctx, ev) => {
      const rows = await ctx.tx.execute(rawSql`select 1 from owners where id = ${ev.ownerId}`);
      events.push({ ...ev, ownerRowPresent: rows.length === 1 });
    },
    beforeUnlink: async (ctx, o) => {
      const rows = await ctx.db.execute(rawSql`select 1 from owners where id = ${o.ownerId}`);
      hooks.push({ ...o, ownerRowPresent: rows.length === 1 });
    },
  },
};

/** Stands in for sync's provider: links.get must pass on what it gives. */
const withStandInStatus = (builtIn: CalwatchModule[]) =>
  builtIn.map((m) => (m.name === 'sync' ? { ...m, provides: { ...m.provides, calendarStatus: standInStatus } } : m));
const standInStatus = async (_ctx: unknown, ownerId: string) => [
  {
    calendarId: `${ownerId}@example.com`,
    summary: 'Work',
    primary: true,
    selected: true,
    lastSyncedAt: new Date('2030-01-02T03:04:05Z'),
    syncError: null,
    channelExpiresAt: '2030-01-09T03:04:05.000Z',
  },
];

beforeAll(async () => {
  h = await startLinksHarness('links-events', { LINK_EVENTS_SECRET: LINK_SECRET, LINK_EVENTS_SIGNING_SECRET: SIGNING_SECRET }, { extraModules: [recorder], adjustModules: withStandInStatus });
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

type Result = { ownerId: string; status: string };
const ownerRow = async (externalOwnerId: string) => (await h.sql`select * from owners where external_owner_id = ${externalOwnerId}`)[0];
/** What the link verbs write (sync's background jobs also touch the row: last_sync_at, the access token). */
const linkFields = (row: Record<string, unknown> | undefined) =>
  row && { status: row.status, refresh_token_enc: row.refresh_token_enc, linked_at: row.linked_at, revoked_at: row.revoked_at };
const eventsFor = (externalOwnerId: string) => events.filter((e) => e.externalOwnerId === externalOwnerId).map((e) => e.type);
const event = (input: Record<string, unknown>, token?: string | null) => h.t.trpc<Result>('links.event', input, { token });
const countOwners = async () => Number((await h.sql`select count(*)::int as n from owners`)[0]!.n);

/** Every table with an owner_id column, and how many rows it holds for this owner. */
async function ownerRowsEverywhere(ownerId: string): Promise<Record<string, number>> {
  const tables = await h.sql<{ table_name: string }[]>`
    select table_name from information_schema.columns
    where table_schema = 'public' and column_name = 'owner_id' order by table_name`;
  const out: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [r] = await h.sql.unsafe(`select count(*)::int as n from "${table_name}" where owner_id = $1`, [ownerId]);
    out[table_name] = Number(r!.n);
  }
  const [o] = await h.sql`select count(*)::int as n from owners where id = ${ownerId}`;
  out.owners = Number(o!.n);
  return out;
}

describe('LINKED', () => {
  test('creates an active owner with the refresh token sealed, and dispatches linked in the transaction', async () => {
    const g = await h.googleUser('alice@example.com');
    const r = await event({ type: 'LINKED', externalOwnerId: 'u-alice', refreshToken: g.refreshToken });
    expect(r.status).toBe(200);
    expect(r.body.result!.data.status).toBe('active');
    const row = (await ownerRow('u-alice'))!;
    expect(row.id).toBe(r.body.result!.data.ownerId);
    expect(row.status).toBe('active');
    expect(row.linked_at).toBeInstanceOf(Date);
    expect(row.refresh_token_enc).toMatch(/^v2\./);
    expect(row.refresh_token_enc).not.toContain(g.refreshToken);
    expect(eventsFor('u-alice')).toEqual(['linked']);
    expect(events.find((e) => e.externalOwnerId === 'u-alice')).toMatchObject({ ownerId: row.id, ownerRowPresent: true });
  });

  test('the same LINKED again changes nothing and dispatches nothing', async () => {
    const before = (await ownerRow('u-alice'))!;
    // the very token of the first LINKED
    const again = await event({ type: 'LINKED', externalOwnerId: 'u-alice', refreshToken: (await refreshTokenOf('u-alice'))! });
    expect(again.body.result!.data).toEqual({ ownerId: before.id, status: 'active' });
    const after = (await ownerRow('u-alice'))!;
    expect(after.refresh_token_enc).toBe(before.refresh_token_enc);
    expect(linkFields(after)).toEqual(linkFields(before));
    expect(eventsFor('u-alice')).toEqual(['linked']);
  });

  test('LINKED with another grant re-links the same owner (same id) and dispatches linked again', async () => {
    const before = (await ownerRow('u-alice'))!;
    const g2 = await h.googleUser('alice@example.com');
    const r = await event({ type: 'LINKED', externalOwnerId: 'u-alice', refreshToken: g2.refreshToken });
    expect(r.body.result!.data.ownerId).toBe(before.id);
    const after = (await ownerRow('u-alice'))!;
    expect(after.refresh_token_enc).not.toBe(before.refresh_token_enc);
    expect(await refreshTokenOf('u-alice')).toBe(g2.refreshToken);
    expect(eventsFor('u-alice')).toEqual(['linked', 'linked']);
  });

  test('two concurrent LINKED for a new owner create one owner', async () => {
    const g = await h.googleUser('conc@example.com');
    const [a, b] = await Promise.all([
      event({ type: 'LINKED', externalOwnerId: 'u-conc', refreshToken: g.refreshToken }),
      event({ type: 'LINKED', externalOwnerId: 'u-conc', refreshToken: g.refreshToken }),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.result!.data.ownerId).toBe(b.body.result!.data.ownerId);
    expect(eventsFor('u-conc')).toEqual(['linked']);
  });
});

// The sealed token, opened with the service's own keyring (tests may; the API never returns it).
async function refreshTokenOf(externalOwnerId: string): Promise<string | undefined> {
  const { decrypt } = await import('../../src/crypto/index.ts');
  const row = await ownerRow(externalOwnerId);
  return row?.refresh_token_enc ? decrypt(h.t.service.ctx.keyring, row.refresh_token_enc, `owners.refresh_token_enc:${row.id}`) : undefined;
}

describe('REFRESHED', () => {
  test('unknown owner -> NOT_FOUND, nothing written', async () => {
    const n = await countOwners();
    const r = await event({ type: 'REFRESHED', externalOwnerId: 'u-nobody', refreshToken: 'rt-x' });
    expect(r.status).toBe(404);
    expect(r.body.error!.data.code).toBe('NOT_FOUND');
    expect(await countOwners()).toBe(n);
  });

  test("replaces the refresh token, forgets the old grant's cached access token, dispatches refreshed; a repeat changes nothing", async () => {
    const g = await h.googleUser('bob@example.com');
    const linked = await event({ type: 'LINKED', externalOwnerId: 'u-bob', refreshToken: g.refreshToken });
    await h.sql`update owners set access_token_enc = 'v1.x.y.z.w', access_token_expires_at = now() + interval '1 hour' where external_owner_id = 'u-bob'`;
    const g2 = await h.googleUser('bob@example.com');
    const r = await event({ type: 'REFRESHED', externalOwnerId: 'u-bob', refreshToken: g2.refreshToken });
    expect(r.body.result!.data).toEqual({ ownerId: linked.body.result!.data.ownerId, status: 'active' });
    expect(await refreshTokenOf('u-bob')).toBe(g2.refreshToken);
    const row = (await ownerRow('u-bob'))!;
    // The old grant's token is gone; the one cached is the new grant's (asked when checking whose grant it is).
    expect(row.access_token_enc).not.toBe('v1.x.y.z.w');
    expect(eventsFor('u-bob')).toEqual(['linked', 'refreshed']);
    const again = await event({ type: 'REFRESHED', externalOwnerId: 'u-bob', refreshToken: g2.refreshToken });
    expect(again.status).toBe(200);
    expect(linkFields(await ownerRow('u-bob'))).toEqual(linkFields(row));
    expect(eventsFor('u-bob')).toEqual(['linked', 'refreshed']);
  });

  test('REFRESHED revives a revoked owner', async () => {
    await h.sql`update owners set status = 'revoked', revoked_at = now(), last_error = 'invalid_grant', last_error_at = now() where external_owner_id = 'u-bob'`;
    const g3 = await h.googleUser('bob@example.com');
    const r = await event({ type: 'REFRESHED', externalOwnerId: 'u-bob', refreshToken: g3.refreshToken });
    expect(r.body.result!.data.status).toBe('active');
    const row = (await ownerRow('u-bob'))!;
    expect(row.status).toBe('active');
    expect(row.revoked_at).toBeNull();
    expect(row.last_error).not.toBe('invalid_grant');
  });
});

describe('RESYNC', () => {
  test('dispatches resync for a known owner; unknown -> NOT_FOUND', async () => {
    const r = await event({ type: 'RESYNC', externalOwnerId: 'u-bob' });
    expect(r.status).toBe(200);
    expect(eventsFor('u-bob').at(-1)).toBe('resync');
    const unknown = await event({ type: 'RESYNC', externalOwnerId: 'u-nobody' });
    expect(unknown.status).toBe(404);
  });

  test('a revoked owner cannot be resynced (CONFLICT) until LINKED/REFRESHED', async () => {
    const g = await h.googleUser('carol@example.com');
    await event({ type: 'LINKED', externalOwnerId: 'u-carol', refreshToken: g.refreshToken });
    await h.sql`update owners set status = 'revoked' where external_owner_id = 'u-carol'`;
    const r = await event({ type: 'RESYNC', externalOwnerId: 'u-carol' });
    expect(r.status).toBe(409);
    expect(eventsFor('u-carol')).toEqual(['linked']);
    await event({ type: 'LINKED', externalOwnerId: 'u-carol', refreshToken: g.refreshToken });
    expect((await ownerRow('u-carol'))!.status).toBe('active');
    expect(eventsFor('u-carol')).toEqual(['linked', 'linked']);
  });
});

describe('UNLINKED', () => {
  test('hooks first, grant revoked at Google, unlinked dispatched before deletion, no owner row left anywhere, a tombstone kept', async () => {
    const g = await h.googleUser('dave@example.com');
    await fetch(`${h.emu.url}_emulator/calendars/dave@example.com/events/standup1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'Standup', start: { dateTime: '2031-03-03T09:00:00Z' }, end: { dateTime: '2031-03-03T09:15:00Z' } }),
    }).then((r) => expect(r.ok).toBe(true));
    const linked = await event({ type: 'LINKED', externalOwnerId: 'u-dave', refreshToken: g.refreshToken });
    const ownerId = linked.body.result!.data.ownerId;
    // A row in another module's table that references the owner (sync's calendar list), and what
    // the first sync mirrors on its own: the calendars and the event.
    await h.sql`insert into calendar_lists (owner_id) values (${ownerId}) on conflict do nothing`;
    const before = await waitFor(
      async () => {
        const rows = await ownerRowsEverywhere(ownerId);
        return (rows.calendars ?? 0) > 0 && (rows.calendar_events ?? 0) > 0 ? rows : undefined;
      },
      { what: "dave's calendar and event mirrored by the first sync" },
    );
    expect(before.owners).toBe(1);
    expect(before.calendar_lists).toBe(1);

    const r = await event({ type: 'UNLINKED', externalOwnerId: 'u-dave', keepBlockedTimes: true });
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toEqual({ ownerId, status: 'unlinked' });

    expect(hooks.filter((x) => x.ownerId === ownerId)).toEqual([{ ownerId, externalOwnerId: 'u-dave', ownerRowPresent: true }]);
    const unlinked = events.filter((e) => e.ownerId === ownerId && e.type === 'unlinked');
    expect(unlinked).toEqual([{ type: 'unlinked', ownerId, externalOwnerId: 'u-dave', keepBlockedTimes: true, ownerRowPresent: true }]);

    const after = await ownerRowsEverywhere(ownerId);
    expect(Object.values(after).every((n) => n === 0)).toBe(true);
    expect(Object.keys(after).length).toBeGreaterThan(1);
    const states = await h.sql`select count(*)::int as n from oauth_states where external_owner_id = 'u-dave'`;
    expect(states[0]!.n).toBe(0);
    const tomb = await h.sql`select * from owner_tombstones where former_owner_id = ${ownerId}`;
    expect(tomb).toHaveLength(1);
    expect(Object.keys(tomb[0]!).sort()).toEqual(['external_owner_id', 'former_owner_id', 'linked_at', 'unlinked_at']);

    const users = await h.emuJson('users');
    const dave = users.items.find((u: { email: string }) => u.email === 'dave@example.com');
    expect(dave.grants.every((x: { revoked: boolean }) => x.revoked)).toBe(true);
    const revokes = await h.emuJson('requests?path=/revoke');
    expect(revokes.items.some((x: { status: number }) => x.status === 200)).toBe(true);
  }, 20_000);

  test('repeating UNLINKED (and its alias UNLINK) is safe: same answer, no second revocation, hooks not rerun', async () => {
    const tomb = (await h.sql`select former_owner_id from owner_tombstones where external_owner_id = 'u-dave'`)[0]!;
    const revokesBefore = (await h.emuJson('requests?path=/revoke')).items.length;
    for (const type of ['UNLINKED', 'UNLINK']) {
      const r = await event({ type, externalOwnerId: 'u-dave' });
      expect(r.status).toBe(200);
      expect(r.body.result!.data).toEqual({ ownerId: tomb.former_owner_id, status: 'unlinked' });
    }
    expect((await h.emuJson('requests?path=/revoke')).items.length).toBe(revokesBefore);
    expect(hooks.filter((x) => x.externalOwnerId === 'u-dave')).toHaveLength(1);
    expect(await h.sql`select 1 from owner_tombstones where external_owner_id = 'u-dave'`).toHaveLength(1);
  });

  test('unknown owner -> NOT_FOUND', async () => {
    const r = await event({ type: 'UNLINK', externalOwnerId: 'u-never' });
    expect(r.status).toBe(404);
  });

  test('a failed revocation at Google (grant already revoked) does not block the unlink', async () => {
    const g = await h.googleUser('erin@example.com');
    const linked = await event({ type: 'LINKED', externalOwnerId: 'u-erin', refreshToken: g.refreshToken });
    await h.emuJson('users/erin@example.com/revoke', {});
    const r = await event({ type: 'UNLINK', externalOwnerId: 'u-erin' });
    expect(r.body.result!.data).toEqual({ ownerId: linked.body.result!.data.ownerId, status: 'unlinked' });
    expect(await ownerRow('u-erin')).toBeUndefined();
  });

  test('LINKED after UNLINKED creates a new owner; links.get shows it active', async () => {
    const old = (await h.sql`select former_owner_id from owner_tombstones where external_owner_id = 'u-erin'`)[0]!;
    const g = await h.googleUser('erin@example.com');
    const r = await event({ type: 'LINKED', externalOwnerId: 'u-erin', refreshToken: g.refreshToken });
    expect(r.body.result!.data.ownerId).not.toBe(old.former_owner_id);
    const s = await h.t.trpc<{ status: string }>('links.get', { externalOwnerId: 'u-erin' });
    expect(s.body.result!.data.status).toBe('active');
  });
});

describe('recordOwnerSync (what sync reports)', () => {
  test('a success sets lastSyncAt and clears the error; a failure sets lastError; a revoked owner keeps its revocation error', async () => {
    const { recordOwnerSync } = await import('../../src/links/index.ts');
    const ctx = h.t.service.ctx;
    const g = await h.googleUser('rita@example.com');
    const { ownerId } = (await event({ type: 'LINKED', externalOwnerId: 'u-rita', refreshToken: g.refreshToken })).body.result!.data;
    const at1 = new Date('2031-01-01T00:00:00Z');
    await recordOwnerSync(ctx, ownerId, { at: at1, error: 'Google: 500 backendError' });
    let row = (await ownerRow('u-rita'))!;
    expect([row.last_error, row.last_error_at?.toISOString()]).toEqual(['Google: 500 backendError', at1.toISOString()]);
    const at2 = new Date('2031-01-01T00:05:00Z');
    await recordOwnerSync(ctx, ownerId, { at: at2 });
    row = (await ownerRow('u-rita'))!;
    expect([row.last_sync_at?.toISOString(), row.last_error, row.last_error_at]).toEqual([at2.toISOString(), null, null]);

    await h.sql`update owners set status = 'revoked', last_error = 'invalid_grant: Token has been expired or revoked.', last_error_at = now() where id = ${ownerId}`;
    await recordOwnerSync(ctx, ownerId, { at: at2, error: 'something else' });
    await recordOwnerSync(ctx, ownerId, { at: new Date('2031-01-01T00:10:00Z') });
    row = (await ownerRow('u-rita'))!;
    expect(row.last_error).toBe('invalid_grant: Token has been expired or revoked.');
    expect(row.last_sync_at.toISOString()).toBe('2031-01-01T00:10:00.000Z');
    // not a uuid, unknown: nothing happens
    await recordOwnerSync(ctx, 'nope', { at: at2 });
    await recordOwnerSync(ctx, '00000000-0000-4000-8000-000000000000', { at: at2 });
  });
});

describe('links.get', () => {
  test('active owner: status, times and the calendars from the registered provider', async () => {
    const row = (await ownerRow('u-alice'))!;
    await h.sql`update owners set last_sync_at = '2030-01-02T03:04:05Z', last_error = 'Google: 500', last_error_at = '2030-01-01T00:00:00Z' where id = ${row.id}`;
    const r = await h.t.trpc<Record<string, unknown>>('links.get', { externalOwnerId: 'u-alice' });
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({
      ownerId: row.id,
      externalOwnerId: 'u-alice',
      status: 'active',
      linkedAt: row.linked_at.toISOString(),
      lastSyncAt: '2030-01-02T03:04:05.000Z',
      lastError: 'Google: 500',
      lastErrorAt: '2030-01-01T00:00:00.000Z',
      calendars: [
        {
          calendarId: `${row.id}@example.com`,
          summary: 'Work',
          primary: true,
          selected: true,
          lastSyncedAt: '2030-01-02T03:04:05.000Z',
          syncError: null,
          channelExpiresAt: '2030-01-09T03:04:05.000Z',
        },
      ],
    });
    expect(JSON.stringify(r.body)).not.toMatch(/v[12]\./);
  });

  test('unlinked owner: status unlinked, no calendars; unknown -> NOT_FOUND; no token -> 401', async () => {
    const r = await h.t.trpc<{ status: string; calendars: unknown[]; unlinkedAt: string }>('links.get', { externalOwnerId: 'u-dave' });
    expect(r.body.result!.data.status).toBe('unlinked');
    expect(r.body.result!.data.calendars).toEqual([]);
    expect(typeof r.body.result!.data.unlinkedAt).toBe('string');
    expect((await h.t.trpc('links.get', { externalOwnerId: 'u-none' })).status).toBe(404);
    expect((await h.t.trpc('links.get', { externalOwnerId: 'u-alice' }, { token: null })).status).toBe(401);
  });
});

describe('bad input and auth on links.event: BAD_REQUEST with the zod issue, nothing written', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['unknown type', { type: 'DELETED', externalOwnerId: 'u-bad' }],
    ['missing type', { externalOwnerId: 'u-bad', refreshToken: 'rt' }],
    ['LINKED without refreshToken', { type: 'LINKED', externalOwnerId: 'u-bad' }],
    ['missing externalOwnerId', { type: 'LINKED', refreshToken: 'rt' }],
    ['empty externalOwnerId', { type: 'LINKED', externalOwnerId: '', refreshToken: 'rt' }],
    ['blank externalOwnerId', { type: 'LINKED', externalOwnerId: '   ', refreshToken: 'rt' }],
    ['oversized externalOwnerId', { type: 'LINKED', externalOwnerId: 'x'.repeat(256), refreshToken: 'rt' }],
    ['empty refreshToken', { type: 'REFRESHED', externalOwnerId: 'u-alice', refreshToken: '' }],
    ['oversized refreshToken', { type: 'LINKED', externalOwnerId: 'u-bad', refreshToken: 'r'.repeat(2049) }],
    ['non-string refreshToken', { type: 'LINKED', externalOwnerId: 'u-bad', refreshToken: 42 }],
    ['non-boolean keepBlockedTimes', { type: 'UNLINKED', externalOwnerId: 'u-alice', keepBlockedTimes: 'yes' }],
  ];
  for (const [name, input] of cases) {
    test(name, async () => {
      const n = await countOwners();
      const nEvents = events.length;
      const aliceBefore = (await ownerRow('u-alice'))!;
      const r = await event(input);
      expect(r.status).toBe(400);
      expect(r.body.error!.data.code).toBe('BAD_REQUEST');
      expect(Array.isArray((r.body.error!.data as { issues?: unknown[] }).issues)).toBe(true);
      expect(await countOwners()).toBe(n);
      expect(events.length).toBe(nEvents);
      expect(linkFields(await ownerRow('u-alice'))).toEqual(linkFields(aliceBefore));
    });
  }

  test('no or wrong service token -> 401, nothing written', async () => {
    const n = await countOwners();
    expect((await event({ type: 'LINKED', externalOwnerId: 'u-anon', refreshToken: 'rt' }, null)).status).toBe(401);
    expect((await event({ type: 'LINKED', externalOwnerId: 'u-anon', refreshToken: 'rt' }, 'wrong-token-0123456789')).status).toBe(401);
    expect(await countOwners()).toBe(n);
  });
});

describe('one Google account per owner, and the scopes actually granted', () => {
  test("attack: LINKED / REFRESHED with another account's grant for an active owner: CONFLICT, nothing changed; force replaces it and revokes the old grant", async () => {
    const victim = await h.googleUser('victim@example.com');
    const attacker = await h.googleUser('attacker@example.com');
    const linked = await event({ type: 'LINKED', externalOwnerId: 'u-victim', refreshToken: victim.refreshToken });
    expect(linked.body.result!.data.status).toBe('active');
    expect((await ownerRow('u-victim'))!.google_email).toBe('victim@example.com');
    const before = linkFields(await ownerRow('u-victim'));
    for (const type of ['LINKED', 'REFRESHED'] as const) {
      const r = await event({ type, externalOwnerId: 'u-victim', refreshToken: attacker.refreshToken });
      expect(r.status).toBe(409);
      expect(r.body.error!.message).toContain('account_mismatch');
      expect(await refreshTokenOf('u-victim')).toBe(victim.refreshToken);
      expect(linkFields(await ownerRow('u-victim'))).toEqual(before);
    }
    expect(eventsFor('u-victim')).toEqual(['linked']);
    // The owner's own account again (a new grant): fine.
    const again = await h.googleUser('victim@example.com');
    expect((await event({ type: 'REFRESHED', externalOwnerId: 'u-victim', refreshToken: again.refreshToken })).status).toBe(200);
    // force: the other account replaces it, and the grant it replaced is revoked at Google.
    const forced = await event({ type: 'LINKED', externalOwnerId: 'u-victim', refreshToken: attacker.refreshToken, force: true });
    expect(forced.status).toBe(200);
    expect((await ownerRow('u-victim'))!.google_email).toBe('attacker@example.com');
    await waitFor(async () => {
      const users = (await h.emuJson('users')).items as Array<{ email: string; grants: Array<{ revoked: boolean; offline: boolean }> }>;
      return users.find((u) => u.email === 'victim@example.com')!.grants.some((g) => g.revoked);
    }, { what: "the replaced account's grant revoked" });
  });

  test('a grant missing a scope calwatch needs (granular consent) is not an active link: revoked, lastError naming the scope, no sync', async () => {
    const partial = await h.emuJson('users', { email: 'partial@example.com', scope: 'https://www.googleapis.com/auth/calendar.readonly' });
    const r = await event({ type: 'LINKED', externalOwnerId: 'u-partial', refreshToken: partial.refreshToken });
    expect(r.status).toBe(200);
    expect(r.body.result!.data.status).toBe('revoked');
    const row = (await ownerRow('u-partial'))!;
    expect(row.status).toBe('revoked');
    // calendar.readonly covers the reads, not the writes (GOOGLE_ACCESS=write asks calendar.events)
    expect(row.last_error).toContain('missing https://www.googleapis.com/auth/calendar.events');
    expect(eventsFor('u-partial')).toEqual([]);
    const status = await h.t.trpc<{ status: string; lastError: string }>('links.get', { externalOwnerId: 'u-partial' });
    expect(status.body.result!.data.lastError).toContain('missing');
  });

  test('a refresh token Google refuses is not shown as an active link', async () => {
    const r = await event({ type: 'LINKED', externalOwnerId: 'u-bogus', refreshToken: '1//emu-not-a-token-0123456789' });
    expect(r.status).toBe(200);
    expect(r.body.result!.data.status).toBe('revoked');
    expect((await ownerRow('u-bogus'))!.last_error).toContain('invalid_grant');
  });
});

describe('POST /link-events (WebhookDB body format)', () => {
  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(`${h.t.url}/link-events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  test('LINKED with X-Calwatch-Secret links like links.event; a repeat changes nothing', async () => {
    const g = await h.googleUser('frank@example.com');
    const res = await post({ type: 'LINKED', external_owner_id: 'u-frank', refresh_token: g.refreshToken }, { 'x-calwatch-secret': LINK_SECRET });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { owner_id: string; status: string };
    expect(body).toMatchObject({ status: 'active', external_owner_id: 'u-frank' });
    expect((await ownerRow('u-frank'))!.id).toBe(body.owner_id);
    const again = await post({ type: 'LINKED', external_owner_id: 'u-frank', refresh_token: g.refreshToken }, { 'x-calwatch-secret': LINK_SECRET });
    expect(((await again.json()) as { owner_id: string }).owner_id).toBe(body.owner_id);
    expect(eventsFor('u-frank')).toEqual(['linked']);
  });

  test('bearer SERVICE_TOKEN works too; REFRESHED, RESYNC, UNLINK with the same semantics', async () => {
    const auth = { authorization: `Bearer ${h.t.config.serviceToken}` };
    const g = await h.googleUser('frank@example.com');
    expect((await post({ type: 'REFRESHED', external_owner_id: 'u-frank', refresh_token: g.refreshToken }, auth)).status).toBe(200);
    expect(await refreshTokenOf('u-frank')).toBe(g.refreshToken);
    expect((await post({ type: 'REFRESHED', external_owner_id: 'u-nobody', refresh_token: 'rt' }, auth)).status).toBe(404);
    expect((await post({ type: 'RESYNC', external_owner_id: 'u-frank' }, auth)).status).toBe(200);
    const un = await post({ type: 'UNLINK', external_owner_id: 'u-frank' }, auth);
    expect(un.status).toBe(200);
    expect(((await un.json()) as { status: string }).status).toBe('unlinked');
    expect(eventsFor('u-frank')).toEqual(['linked', 'refreshed', 'resync', 'unlinked']);
    expect(await ownerRow('u-frank')).toBeUndefined();
  });

  test('wrong, empty or missing secret -> 401 and nothing written', async () => {
    const n = await countOwners();
    const body = { type: 'LINKED', external_owner_id: 'u-mallory', refresh_token: 'rt' };
    expect((await post(body, { 'x-calwatch-secret': 'wrong-secret-0123456789' })).status).toBe(401);
    expect((await post(body, { 'x-calwatch-secret': LINK_SECRET.slice(0, -1) })).status).toBe(401);
    expect((await post(body, { 'x-calwatch-secret': '' })).status).toBe(401);
    expect((await post(body, {})).status).toBe(401);
    expect((await post(body, { authorization: `Bearer ${LINK_SECRET}` })).status).toBe(401);
    expect(await countOwners()).toBe(n);
  });

  test('bad bodies -> 400 with the validation issue, nothing written', async () => {
    const auth = { 'x-calwatch-secret': LINK_SECRET };
    const n = await countOwners();
    for (const body of [
      'not json',
      [],
      { type: 'NOPE', external_owner_id: 'u-x' },
      { type: 'LINKED', external_owner_id: 'u-x' },
      { type: 'LINKED', refresh_token: 'rt' },
      { type: 'LINKED', external_owner_id: '', refresh_token: 'rt' },
      { type: 'LINKED', external_owner_id: 'x'.repeat(300), refresh_token: 'rt' },
      { type: 'LINKED', external_owner_id: 'u-x', refresh_token: 'r'.repeat(5000) },
      { type: 'LINKED', externalOwnerId: 'u-x', refreshToken: 'rt' },
    ]) {
      const res = await post(body, auth);
      expect(res.status).toBe(400);
      const b = (await res.json()) as { detail: string };
      expect(typeof b.detail).toBe('string');
    }
    const res = await post({ type: 'NOPE', external_owner_id: 'u-x' }, auth);
    expect(((await res.json()) as { issues: Array<{ path: unknown[] }> }).issues[0]!.path).toEqual(['type']);
    const missing = await post({ type: 'LINKED', external_owner_id: 'u-x' }, auth);
    expect(((await missing.json()) as { issues: Array<{ path: unknown[] }> }).issues[0]!.path).toEqual(['refresh_token']);
    expect(await countOwners()).toBe(n);
  });

  test("WebhookDB's own header Whdb-Webhook-Secret works as X-Calwatch-Secret does (moving is a URL change)", async () => {
    const g = await h.googleUser('wanda@example.com');
    const res = await post({ type: 'LINKED', external_owner_id: 'u-wanda', refresh_token: g.refreshToken }, { 'whdb-webhook-secret': LINK_SECRET });
    expect(res.status).toBe(200);
    expect((await post({ type: 'RESYNC', external_owner_id: 'u-wanda' }, { 'whdb-webhook-secret': `${LINK_SECRET}x` })).status).toBe(401);
  });

  test('signed mode (Standard Webhooks): a valid signature links; a forged, stale or replayed one is 401', async () => {
    const { Webhook } = await import('standardwebhooks');
    const wh = new Webhook(SIGNING_SECRET);
    const g = await h.googleUser('sigrid@example.com');
    const body = JSON.stringify({ type: 'LINKED', external_owner_id: 'u-sigrid', refresh_token: g.refreshToken });
    const sign = (id: string, at: Date, payload = body) => ({ 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign(id, at, payload) });
    const headers = sign('msg_sig_1', new Date());
    expect((await post(body, headers)).status).toBe(200);
    expect((await ownerRow('u-sigrid'))?.status).toBe('active');
    // The same delivery again (a replay within the window): refused.
    expect((await post(body, headers)).status).toBe(401);
    // Another body under that signature, a stale timestamp, another key: refused, nothing written.
    const n = await countOwners();
    const evil = JSON.stringify({ type: 'LINKED', external_owner_id: 'u-evil', refresh_token: 'rt' });
    expect((await post(evil, sign('msg_sig_2', new Date(), body))).status).toBe(401);
    expect((await post(evil, sign('msg_sig_3', new Date(Date.now() - 10 * 60_000), evil))).status).toBe(401);
    const other = new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`);
    expect((await post(evil, { 'webhook-id': 'msg_sig_4', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': other.sign('msg_sig_4', new Date(), evil) })).status).toBe(401);
    expect(await countOwners()).toBe(n);
  });

  test('LINK_EVENTS_REQUIRE_SIGNATURE: the shared secret and the bearer token no longer suffice; without a signing secret the boot refuses', async () => {
    const { loadConfig } = await import('../../src/config/index.ts');
    expect(() => loadConfig({ NODE_ENV: 'test', LINK_EVENTS_REQUIRE_SIGNATURE: 'true' })).toThrow(/LINK_EVENTS_SIGNING_SECRET/);
    const { startTestService } = await import('../support/service.ts');
    const strict = await startTestService({ name: 'links-events-strict', emulatorUrl: h.emu.url, env: { LINK_EVENTS_SECRET: LINK_SECRET, LINK_EVENTS_SIGNING_SECRET: SIGNING_SECRET, LINK_EVENTS_REQUIRE_SIGNATURE: 'true' }, skipStartHooks: true, extraModules: [recorder], adjustModules: withStandInStatus });
    try {
      const body = JSON.stringify({ type: 'RESYNC', external_owner_id: 'u-nobody' });
      const send = (headers: Record<string, string>) => fetch(`${strict.url}/link-events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect((await send({ 'x-calwatch-secret': LINK_SECRET })).status).toBe(401);
      expect((await send({ authorization: `Bearer ${strict.config.serviceToken}` })).status).toBe(401);
      const { Webhook } = await import('standardwebhooks');
      const at = new Date();
      const signed = await send({ 'webhook-id': 'msg_strict_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(SIGNING_SECRET).sign('msg_strict_1', at, body) });
      expect(signed.status).toBe(404); // authenticated; the owner does not exist
    } finally {
      await strict.stop();
    }
  }, 30_000);
});
