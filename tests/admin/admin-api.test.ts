// The admin GraphQL API: the committed schema matches the code, the GraphiQL example tabs are valid,
// lists cost a constant number of SQL queries, deep queries are refused, and the steering
// mutations work against the emulator.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import type postgres from 'postgres';
import { ADMIN_SCHEMA_FILE } from '../../src/composition/print-admin-schema.ts';
import { adminSchema, printAdminSchema } from '../../src/composition/admin-schema.ts';
import { graphiqlTabs } from '../../src/composition/admin-tabs.ts';
import { waitFor, type TestService } from '../support/service.ts';
import { startServiceWithEmulator, type ServiceWithEmulator } from '../support/service-with-emulator.ts';

let pair: ServiceWithEmulator;
let t: TestService;
let sql: postgres.Sql;

beforeAll(async () => {
  pair = await startServiceWithEmulator({ name: 'admin-api' });
  ({ t, sql } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
}, 30_000);

describe('schema', () => {
  test('schema/admin.graphql is the printed schema of the code (run `bun run admin-schema` after a change)', () => {
    expect(readFileSync(ADMIN_SCHEMA_FILE, 'utf8')).toBe(`${printAdminSchema()}\n`);
  });

  test('every GraphiQL example tab is a valid operation', () => {
    for (const tab of graphiqlTabs) expect(validate(adminSchema(), parse(tab.query)).map((e) => e.message)).toEqual([]);
  });

  test('no field exposes a token, a secret or an event title', () => {
    const sdl = printAdminSchema();
    expect(sdl).not.toMatch(/\b(refreshToken|accessToken|tokenHash|secret|password)\b\s*:/i);
    // Event contents stay in the mirror: no title, description, location or attendees of any event.
    expect(sdl).not.toMatch(/^\s+(title|description|location|attendees)(\(.*\))?\s*:/m);
  });
});

describe('batched loading', () => {
  async function seed(prefix: string, owners: number) {
    await sql.begin(async (tx) => {
      const rows = await tx`
        insert into owners (external_owner_id, status, linked_at)
        select ${prefix} || '-' || g, 'active', now() from generate_series(1, ${owners}) g
        returning id, external_owner_id`;
      for (const o of rows) {
        const cals = await tx`
          insert into calendars (owner_id, external_owner_id, google_calendar_id, summary, "primary", selected, last_synced_at)
          values (${o.id}, ${o.external_owner_id}, ${`${o.external_owner_id}@example.com`}, 'Primary', true, true, now()),
                 (${o.id}, ${o.external_owner_id}, ${`team-${o.external_owner_id}@group.calendar.google.com`}, 'Team', false, false, null)
          returning id`;
        await tx`
          insert into channels (id, owner_id, calendar_id, kind, resource_key, token_hash, status, expires_at)
          values (gen_random_uuid(), ${o.id}, ${cals[0]!.id}, 'events', ${`events:${cals[0]!.id}`}, 'x', 'active', now() + interval '3 days')`;
      }
    });
  }

  const listQuery = `query($first: Int!) {
    owners(first: $first) { edges { node { externalOwnerId status
      calendars { calendarId selected lastSyncedAt eventCount channel { id status expiresAt } freshness { mode reason } } } } }
  }`;

  async function queriesFor(first: number): Promise<number> {
    const before = t.queryCount();
    const r = await t.graphql<{ owners: { edges: Array<{ node: { calendars: Array<{ selected: boolean; channel: unknown; freshness: unknown }> } }> } }>(listQuery, { first });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.owners.edges.length).toBe(first);
    for (const e of r.body.data!.owners.edges) {
      expect(e.node.calendars.length).toBe(2);
      expect(e.node.calendars.filter((c) => c.channel !== null).length).toBe(1);
      // The selected calendar is pushed to by its live channel; the other is not selected.
      expect(e.node.calendars.map((c) => (c.selected ? c.freshness : c.freshness === null))).toEqual(
        e.node.calendars.map((c) => (c.selected ? { mode: 'PUSH', reason: null } : true)),
      );
    }
    return t.queryCount() - before;
  }

  test('100 owners with their calendars, channels and freshness cost as many SQL queries as 10', async () => {
    await seed('bulk', 100);
    // The counter sees the whole pool, background jobs included: the fewest of three runs is the
    // request's own cost.
    const fewest = async (first: number) => Math.min(await queriesFor(first), await queriesFor(first), await queriesFor(first));
    const ten = await fewest(10);
    const hundred = await fewest(100);
    expect(hundred).toBe(ten);
    expect(hundred).toBeLessThanOrEqual(6);
  });
});

describe('limits', () => {
  test('a too-deep query is refused before it runs, with an error code', async () => {
    const deep = `{ channels(first: 1) { edges { node { calendar { channel { calendar { channel { calendar { channel { calendar { channel { id } } } } } } } } } } } }`;
    const before = t.queryCount();
    const r = await t.graphql(deep);
    expect(r.body.errors?.[0]?.message).toMatch(/depth/i);
    expect(r.body.errors?.[0]?.extensions?.code).toBeDefined();
    expect(t.queryCount() - before).toBe(0);
  });

  test('401 without the admin token, for queries and mutations alike', async () => {
    expect((await t.graphql('{ owners(first: 1) { edges { node { id } } } }', undefined, { token: null })).status).toBe(401);
    expect((await t.graphql('mutation { stopChannel(id: "x") { id } }', undefined, { token: 'nope-nope-nope-nope' })).status).toBe(401);
  });
});

describe('steering a linked owner', () => {
  let ownerExternalId: string;
  let calendarId: string;

  beforeAll(async () => {
    const user = await pair.ctl.createUser('ada@example.com');
    calendarId = user.email;
    ownerExternalId = 'admin-ada';
    const linked = await t.trpc('links.event', { type: 'LINKED', externalOwnerId: ownerExternalId, refreshToken: user.refreshToken });
    expect(linked.status).toBe(200);
    await waitFor(
      async () => {
        const r = await t.graphql<{ owner: { calendars: Array<{ lastSyncedAt: string | null; channel: { status: string } | null }> } }>(
          `query($id: String!) { owner(externalOwnerId: $id) { calendars { lastSyncedAt channel { status } } } }`,
          { id: ownerExternalId },
        );
        // The channel may be created before the first full sync has finished: wait for both.
        const cal = r.body.data?.owner?.calendars[0];
        return cal?.channel?.status === 'ACTIVE' && cal.lastSyncedAt !== null;
      },
      { what: 'the primary calendar synced and watched' },
    );
  }, 60_000);

  test('owner shows its calendars with sync times, event count and channel', async () => {
    const r = await t.graphql<{ owner: { status: string; calendars: Array<{ calendarId: string; primary: boolean; selected: boolean; lastSyncedAt: string | null; eventCount: number; channel: { expiresAt: string } }> } }>(
      `query($id: String!) { owner(externalOwnerId: $id) { status calendars { calendarId primary selected lastSyncedAt eventCount channel { expiresAt } } } }`,
      { id: ownerExternalId },
    );
    const cal = r.body.data!.owner.calendars.find((c) => c.primary)!;
    expect(r.body.data!.owner.status).toBe('ACTIVE');
    expect(cal).toMatchObject({ calendarId, selected: true, eventCount: 0 });
    expect(cal.lastSyncedAt).not.toBeNull();
    expect(new Date(cal.channel.expiresAt).getTime()).toBeGreaterThan(Date.now());
  });

  test('links.get shows the channel expiry of the watched calendar', async () => {
    const r = await t.trpc<{ calendars: Array<{ calendarId: string; channelExpiresAt: string | null }> }>('links.get', { externalOwnerId: ownerExternalId });
    const primary = r.body.result!.data.calendars.find((c) => c.calendarId === calendarId)!;
    expect(new Date(primary.channelExpiresAt!).getTime()).toBeGreaterThan(Date.now());
  });

  test('channels(status, expiringBefore) lists the channel; renewChannel replaces it and stopChannel stops the replacement', async () => {
    const soon = new Date(Date.now() + 30 * 86400_000).toISOString();
    const list = await t.graphql<{ channels: { edges: Array<{ node: { id: string; kind: string; owner: { externalOwnerId: string } } }> } }>(
      `query($before: DateTime!) { channels(status: ACTIVE, expiringBefore: $before, first: 10) { edges { node { id kind owner { externalOwnerId } } } } }`,
      { before: soon },
    );
    const events = list.body.data!.channels.edges.map((e) => e.node).find((n) => n.kind === 'events' && n.owner.externalOwnerId === ownerExternalId)!;
    expect(events).toBeDefined();

    const renewed = await t.graphql<{ renewChannel: { id: string; status: string } }>(`mutation($id: ID!) { renewChannel(id: $id) { id status } }`, { id: events.id });
    expect(renewed.body.errors).toBeUndefined();
    expect(renewed.body.data!.renewChannel.id).not.toBe(events.id);
    const old = await pair.ctl.channels();
    await waitFor(() => old.some((c) => c.id === events.id), { what: 'old channel known to the emulator' });

    const stopped = await t.graphql<{ stopChannel: { status: string } }>(`mutation($id: ID!) { stopChannel(id: $id) { status } }`, { id: renewed.body.data!.renewChannel.id });
    expect(stopped.body.data!.stopChannel.status).toBe('STOPPED');
  });

  test('resyncCalendar and resyncOwner queue full syncs and return the object', async () => {
    const cal = await t.graphql<{ resyncCalendar: { calendarId: string } }>(
      `mutation($o: String!, $c: String!) { resyncCalendar(externalOwnerId: $o, calendarId: $c) { calendarId } }`,
      { o: ownerExternalId, c: calendarId },
    );
    expect(cal.body.data!.resyncCalendar.calendarId).toBe(calendarId);
    const owner = await t.graphql<{ resyncOwner: { externalOwnerId: string } }>(`mutation($o: String!) { resyncOwner(externalOwnerId: $o) { externalOwnerId } }`, { o: ownerExternalId });
    expect(owner.body.data!.resyncOwner.externalOwnerId).toBe(ownerExternalId);
  });

  test('failures are GraphQL errors with a code: unknown channel, unknown owner, unknown calendar', async () => {
    const unknownChannel = await t.graphql(`mutation { stopChannel(id: "00000000-0000-0000-0000-000000000000") { id } }`);
    expect(unknownChannel.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const unknownOwner = await t.graphql(`mutation { resyncOwner(externalOwnerId: "nobody") { id } }`);
    expect(unknownOwner.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const unknownCalendar = await t.graphql(`mutation($o: String!) { resyncCalendar(externalOwnerId: $o, calendarId: "nope@example.com") { id } }`, { o: ownerExternalId });
    expect(unknownCalendar.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });
});
