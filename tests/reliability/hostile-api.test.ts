// Hostile input at tRPC and GraphQL: every procedure without (or with the wrong) token, malformed
// JSON, oversized and absurdly nested inputs, injection strings in every text field (stored and
// returned verbatim, never executed: the tables are still there, templates are not evaluated,
// Slack's control characters are escaped), NUL bytes, too-deep, too-costly, alias-amplified and
// over-long GraphQL queries, cross-origin browsers (no CORS), errors that are not ours (a Postgres
// error answered generically, logged in full), what fan-out hands back (a ping's status, never the
// receiver's body; no event contents in the admin API) and subscriber URLs aimed inside through
// IPv6 embeddings and special-purpose blocks.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { getIntrospectionQuery } from 'graphql';
import { appRouter } from '../../src/composition/router.ts';
import { MAX_QUERY_ALIASES, MAX_QUERY_DEPTH, MAX_QUERY_TOKENS } from '../../src/api/index.ts';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { LOG_DIR, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, startTestService, waitFor, type TestService } from '../support/service.ts';
import { startReceiver } from '../support/webhook-receiver.ts';
import { figures, hoursFromNow, linkOwners, timed, waitConverged, type LinkedOwner } from './harness.ts';

setDefaultTimeout(60_000);

/** Strings that would do something if anything along the way executed or rendered them. */
const INJECTIONS = [
  "'); drop table owners; --",
  "x' or '1'='1",
  '1; select pg_sleep(10) --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${7*7}',
  '#{7*7}',
  '<%= 7*7 %>',
  '<!channel> <@U0ADMIN> &amp;',
  '$where: sleep(1000)',
  '../../../../etc/passwd',
  '😀 ünïcödé — ✓',
];

const fig = figures('hostile-api');
let emu: Emulator;
let ctl: EmulatorControl;
let t: TestService;
let sql: postgres.Sql;
let owner: LinkedOwner;

const raw = async (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const token = init.token === undefined ? TEST_SERVICE_TOKEN : init.token;
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`${t.url}${path}`, { ...init, headers });
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body };
};

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  t = await startTestService({ name: 'reliability-hostile-api', emulatorUrl: emu.url });
  sql = postgres(t.database.url!, { max: 2, onnotice: () => {} });
  [owner] = (await linkOwners(t.trpc, ctl, sql, ['hostile-api@example.com'])) as [LinkedOwner];
}, 60_000);

afterAll(async () => {
  fig.write();
  await sql?.end({ timeout: 2 });
  await t?.stop();
  await emu?.stop();
}, 30_000);

describe('authentication', () => {
  const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: 'query' | 'mutation' } }>).map(([path, p]) => ({ path, type: p._def.type }));

  test(`every tRPC procedure (${procedures.length}) refuses a call without the service token, or with another one: 401`, async () => {
    expect(procedures.length).toBeGreaterThan(15);
    const refused: string[] = [];
    for (const { path, type } of procedures) {
      for (const token of [null, 'wrong-token-0123456789abcdef', TEST_ADMIN_TOKEN, `${TEST_SERVICE_TOKEN}x`, TEST_SERVICE_TOKEN.slice(0, -1)]) {
        const r = await t.trpc(path, type === 'query' ? { externalOwnerId: owner.externalOwnerId } : {}, { token, method: type });
        if (r.status !== 401 || r.body.error?.data.code !== 'UNAUTHORIZED') refused.push(`${path} (${token ? 'wrong token' : 'no token'}): ${r.status}`);
      }
    }
    expect(refused).toEqual([]);
    // The same token in another scheme, or in a query string, is not accepted either.
    expect((await raw('/trpc/links.get?input=' + encodeURIComponent(JSON.stringify({ externalOwnerId: owner.externalOwnerId })), { token: null, headers: { authorization: `Basic ${TEST_SERVICE_TOKEN}` } })).status).toBe(401);
    expect((await raw(`/trpc/links.get?access_token=${TEST_SERVICE_TOKEN}&input=${encodeURIComponent(JSON.stringify({ externalOwnerId: owner.externalOwnerId }))}`, { token: null })).status).toBe(401);
  });

  test('GraphQL without the admin token, or with the service token: 401 UNAUTHENTICATED, introspection included', async () => {
    for (const token of [null, TEST_SERVICE_TOKEN, `${TEST_ADMIN_TOKEN}x`]) {
      for (const query of ['{ queues { name } }', '{ __schema { types { name } } }', 'mutation { stopChannel(id: "x") { id } }']) {
        const r = await t.graphql(query, undefined, { token });
        expect(r.status).toBe(401);
        expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    }
  });
});

describe('malformed and oversized requests', () => {
  test('malformed JSON: 400, never 500', async () => {
    for (const body of ['{', '{"externalOwnerId": ', 'null', '[]', '"text"', '{"a":1}{"b":2}', '\u0000', 'NaN']) {
      const r = await raw('/trpc/links.event', { method: 'POST', body });
      expect(r.status).toBe(400);
    }
    expect((await raw('/trpc/links.get?input=%7Bnot-json', { method: 'GET' })).status).toBe(400);
    // GraphQL over HTTP: a body that is not a GraphQL request is a 400; a document that does not
    // parse is a GraphQL error (code GRAPHQL_PARSE_FAILED) in a 200 application/json answer.
    for (const body of ['{', '{"query": 12}', '{"query": "{ queues { name } }", "variables": "x"}']) {
      const r = await raw('/graphql', { method: 'POST', body, token: TEST_ADMIN_TOKEN });
      expect(r.status).toBe(400);
      expect(r.body.errors?.[0]?.extensions?.code).toBeString();
    }
    const unparsable = await raw('/graphql', { method: 'POST', body: '{"query": "{ queues { name } "}', token: TEST_ADMIN_TOKEN });
    expect(unparsable.status).toBeLessThan(500);
    expect(unparsable.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  test('oversized inputs: 400 (validation) below the body limit, 413 above it', async () => {
    const big = 'x'.repeat(5000);
    const cases: Array<[string, unknown]> = [
      ['links.get', { externalOwnerId: big }],
      ['links.event', { type: 'LINKED', externalOwnerId: big, refreshToken: 'r' }],
      ['bookings.request', { externalOwnerId: owner.externalOwnerId, start: '2032-01-01T10:00:00Z', end: '2032-01-01T11:00:00Z', title: 'x'.repeat(2000), bookee: { email: 'a@b.test' } }],
      ['subscriptions.create', { url: `http://127.0.0.1/${big}` }],
      ['subscriptions.create', { url: 'http://127.0.0.1/x', types: Array.from({ length: 10_000 }, () => 'event.created') }],
    ];
    for (const [path, input] of cases) {
      const r = await t.trpc(path, input, { method: path.endsWith('.get') ? 'query' : 'mutation' });
      expect(`${path} ${r.status} ${r.body.error?.data.code}`).toBe(`${path} 400 BAD_REQUEST`);
    }
    const huge = await raw('/trpc/links.event', { method: 'POST', body: JSON.stringify({ type: 'LINKED', externalOwnerId: 'x'.repeat(1_200_000), refreshToken: 'r' }) });
    expect(huge.status).toBe(413);
    const hugeQuery = await raw('/graphql', { method: 'POST', body: JSON.stringify({ query: `{ queues { name } } # ${'x'.repeat(1_200_000)}` }), token: TEST_ADMIN_TOKEN });
    expect(hugeQuery.status).toBe(413);
  });

  test('absurdly nested JSON: refused (400), the service keeps answering', async () => {
    const depth = 100_000;
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const r = await raw('/trpc/links.event', { method: 'POST', body: `{"type":"LINKED","externalOwnerId":${nested},"refreshToken":"r"}` });
    expect(r.status).toBe(400);
    const g = await raw('/graphql', { method: 'POST', body: `{"query":"{ queues { name } }","variables":{"a":${nested}}}`, token: TEST_ADMIN_TOKEN });
    expect([200, 400]).toContain(g.status);
    expect((await raw('/readyz', { token: null })).status).toBe(200);
  });

  test('NUL bytes in text fields: 400, not a database error', async () => {
    const r1 = await t.trpc('links.get', { externalOwnerId: 'nul\u0000byte' }, { method: 'query' });
    const r2 = await t.trpc('bookings.request', {
      externalOwnerId: owner.externalOwnerId,
      start: '2032-02-01T10:00:00Z',
      end: '2032-02-01T10:30:00Z',
      title: 'nul\u0000byte',
      bookee: { email: 'nul@bookee.test' },
    });
    const g1 = await t.graphql('query($id: String!) { owner(externalOwnerId: $id) { externalOwnerId } }', { id: 'nul\u0000byte' });
    const g2 = await t.graphql('{ owner(externalOwnerId: "nul\\u0000byte") { externalOwnerId } }');
    fig.set('nulBytes', { linksGet: r1.status, bookingsRequest: r2.status, graphqlVariable: g1.body.errors?.[0]?.extensions?.code, graphqlLiteral: g2.body.errors?.[0]?.extensions?.code });
    expect(r1.status).toBe(400);
    expect(r2.status).toBe(400);
    expect(g1.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(g2.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  test("a NUL byte in Google's data does not stop the calendar's sync (it is dropped from the text)", async () => {
    // An owner of its own: before the fix, this calendar's sync failed for good from here on.
    const [other] = (await linkOwners(t.trpc, ctl, sql, ['hostile-nul@example.com'])) as [LinkedOwner];
    const start = hoursFromNow(24 * 500);
    await ctl.putEvent(other.calendarId, 'nulbyte0001', timed('nul\u0000in summary', start, 30, { description: 'and\u0000here', attendees: [{ email: 'nul\u0000@x.test' }] }));
    await ctl.putEvent(other.calendarId, 'nulbyte0002', timed('after the NUL', new Date(start.getTime() + 3600_000), 30));
    const rows = await waitFor(async () => {
      const r = await sql`select google_event_id, summary from calendar_events where calendar_id = ${other.calendarRowId} and google_event_id like 'nulbyte%' order by 1`;
      return r.length === 2 ? r : undefined;
    }, { what: 'both events mirrored', timeoutMs: 20_000 });
    expect(rows.map((r) => r.summary)).toEqual(['nulin summary', 'after the NUL']);
    expect((await sql`select sync_error from calendars where id = ${other.calendarRowId}`)[0]!.sync_error).toBeNull();
  });
});

describe('injection strings: stored and returned verbatim, never executed', () => {
  test('bookings: title and bookee name, through the API and into Google', async () => {
    let slot = Date.UTC(2032, 3, 1, 8);
    for (const s of INJECTIONS) {
      const start = new Date((slot += 3600_000));
      const r = await t.trpc<{ id: string; title: string; bookee: { name?: string }; googleEventId: string }>('bookings.request', {
        externalOwnerId: owner.externalOwnerId,
        start: start.toISOString(),
        end: new Date(start.getTime() + 30 * 60_000).toISOString(),
        title: s,
        bookee: { email: 'inject@bookee.test', name: s.slice(0, 255) },
      });
      expect(r.status).toBe(200);
      const got = await t.trpc<{ title: string; bookee: { name?: string } }>('bookings.get', { id: r.body.result!.data.id });
      expect(got.body.result!.data.title).toBe(s);
      expect(got.body.result!.data.bookee.name).toBe(s);
      const ev = await waitFor(async () => (await ctl.liveEvents(owner.calendarId)).find((e) => e.id === r.body.result!.data.googleEventId), { what: 'the booking event in Google' });
      expect(ev.summary).toContain(s);
    }
  });

  test('the mirror: events whose summaries are injection strings are listed verbatim', async () => {
    const start = hoursFromNow(24 * 400);
    for (const [i, s] of INJECTIONS.entries()) await ctl.putEvent(owner.calendarId, `inject${String(i).padStart(4, '0')}`, timed(s, new Date(start.getTime() + i * 3600_000), 30, { description: s, location: s }));
    const listed = await waitFor(async () => {
      const r = await t.trpc<{ items: Array<{ googleEventId: string; summary: string }> }>('events.list', {
        externalOwnerId: owner.externalOwnerId,
        from: start.toISOString(),
        to: new Date(start.getTime() + 30 * 3600_000).toISOString(),
      }, { method: 'query' });
      const items = r.body.result?.data.items.filter((e) => e.googleEventId.startsWith('inject')) ?? [];
      return items.length === INJECTIONS.length ? items : undefined;
    }, { what: 'the injected events mirrored', timeoutMs: 20_000 });
    for (const [i, s] of INJECTIONS.entries()) expect(listed.find((e) => e.googleEventId === `inject${String(i).padStart(4, '0')}`)!.summary).toBe(s);
  });

  test('owners and on-call groups: ids and names through tRPC and GraphQL, Slack text escaped', async () => {
    for (const s of INJECTIONS.slice(0, 6)) {
      const user = await ctl.createUser(`inj${INJECTIONS.indexOf(s)}@example.com`);
      const r = await t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: s, refreshToken: user.refreshToken });
      expect(r.status).toBe(200);
      const got = await t.trpc<{ status: string }>('links.get', { externalOwnerId: s });
      expect(got.status).toBe(200);
      const g = await t.graphql<{ owner: { externalOwnerId: string } | null }>('query($id: String!) { owner(externalOwnerId: $id) { externalOwnerId } }', { id: s });
      expect(g.body.data?.owner?.externalOwnerId).toBe(s);
    }
    // Unknown ids that look like injections: not found, nothing else.
    for (const s of INJECTIONS) {
      expect((await t.trpc('links.get', { externalOwnerId: `${s}-unknown` })).status).toBe(404);
      const g = await t.graphql<{ owner: unknown }>('query($id: String!) { owner(externalOwnerId: $id) { externalOwnerId } }', { id: `${s}-unknown` });
      expect(g.body.errors).toBeUndefined();
      expect(g.body.data?.owner).toBeNull();
    }

    const name = INJECTIONS.slice(0, 10).join(' | ');
    await ctl.json('slack/users', { email: 'ada@inject.test', id: 'U0INJADA' });
    const created = await t.graphql<{ createOncallGroup: { id: string; name: string; members: Array<{ name: string }> } }>(
      `mutation($input: CreateOncallGroupInput!) { createOncallGroup(input: $input) { id name members { name } } }`,
      {
        input: {
          name,
          externalOwnerId: owner.externalOwnerId,
          calendarId: 'primary',
          slackChannel: 'C0INJECT',
          timeZone: 'Europe/Paris',
          members: [
            { email: 'ada@inject.test', name: INJECTIONS[3]! },
            { email: 'bob@inject.test', name: INJECTIONS[9]! },
          ],
        },
      },
    );
    expect(created.body.errors).toBeUndefined();
    const group = created.body.data!.createOncallGroup;
    expect(group.name).toBe(name);
    expect(group.members.map((m) => m.name)).toEqual([INJECTIONS[3]!, INJECTIONS[9]!]);
    const shifts = await t.graphql<{ scheduleRotation: Array<{ googleEventId: string; assigneeEmail: string }> }>(
      `mutation($input: ScheduleRotationInput!) { scheduleRotation(input: $input) { googleEventId assigneeEmail } }`,
      { input: { groupId: group.id, start: hoursFromNow(72).toISOString(), shiftHours: 8, count: 2 } },
    );
    const first = shifts.body.data!.scheduleRotation[0]!;
    await ctl.respond(owner.calendarId, first.googleEventId, first.assigneeEmail, 'declined');
    const [msg] = await waitFor(async () => {
      const m = await ctl.slackMessages('C0INJECT');
      return m.length ? m : undefined;
    }, { what: 'the swap announced in Slack', timeoutMs: 30_000 });
    // Slack's control characters arrive escaped: no @channel ping, no fake mention, no link.
    expect(msg!.text).not.toContain('<!channel>');
    expect(msg!.text).not.toContain('<@U0ADMIN>');
    expect(msg!.text).toContain('&lt;!channel&gt;');
    expect(msg!.text).not.toContain('49');
    fig.set('slackText', msg!.text);
  });

  test('nothing was executed: the tables are all there, no template evaluated', async () => {
    const [r] = await sql`select to_regclass('owners') as owners, to_regclass('bookings') as bookings, to_regclass('calendar_events') as events`;
    expect(r).toEqual({ owners: 'owners', bookings: 'bookings', events: 'calendar_events' });
    const owners = await sql`select external_owner_id from owners`;
    for (const s of INJECTIONS.slice(0, 6)) expect(owners.some((o) => o.external_owner_id === s)).toBe(true);
    const titles = (await sql`select title from bookings`).map((b) => b.title as string);
    expect(titles.some((x) => x === '49' || x.includes('49'))).toBe(false);
  });
});

describe('GraphQL query shapes', () => {
  test(`too deep (over ${MAX_QUERY_DEPTH} levels): refused with an error code, nothing resolved`, async () => {
    let selection = 'id';
    for (let i = 0; i < 8; i++) selection = `group { shifts { ${selection} } }`;
    const r = await t.graphql(`{ oncallGroups { edges { node { shifts { ${selection} } } } } }`);
    fig.set('tooDeep', { status: r.status, code: r.body.errors?.[0]?.extensions?.code, message: r.body.errors?.[0]?.message });
    expect(r.body.data ?? null).toBeNull();
    expect(r.body.errors?.[0]?.extensions?.code).toBeString();
    expect(r.body.errors![0]!.message).toMatch(/depth/i);
  });

  test('too costly (thousands of aliases, huge pages): refused with an error code', async () => {
    const aliases = Array.from({ length: 10_000 }, (_, i) => `a${i}: queues { name queued active }`).join(' ');
    const r = await t.graphql(`{ ${aliases} }`);
    fig.set('tooCostly', { status: r.status, code: r.body.errors?.[0]?.extensions?.code, message: r.body.errors?.[0]?.message });
    expect(r.body.data ?? null).toBeNull();
    expect(r.body.errors?.[0]?.extensions?.code).toBeString();
    const page = await t.graphql('{ owners(first: 100000000) { edges { node { externalOwnerId } } } }');
    expect(page.body.errors?.[0]?.extensions?.code).toBeString();
  });

  test('wrong variable types and unknown fields: errors with codes, never 500', async () => {
    const a = await t.graphql('query($id: String!) { owner(externalOwnerId: $id) { externalOwnerId } }', { id: { $ne: null } });
    const b = await t.graphql('{ owners { edges { node { password } } } }');
    for (const r of [a, b]) {
      expect(r.status).toBeLessThan(500);
      expect(r.body.errors?.[0]?.extensions?.code).toBeString();
    }
  });
});

describe('GraphQL amplification: aliases and tokens', () => {
  test(`3,000 aliases of a cheap field: refused before anything runs (over ${MAX_QUERY_TOKENS} tokens)`, async () => {
    for (const field of ['__typename', 'system { version }']) {
      const r = await t.graphql(`{ ${Array.from({ length: 3000 }, (_, i) => `a${i}: ${field}`).join(' ')} }`);
      fig.set(`aliases3000 ${field}`, { status: r.status, code: r.body.errors?.[0]?.extensions?.code, message: r.body.errors?.[0]?.message });
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors).toHaveLength(1);
      expect(r.body.errors![0]!.extensions?.code).toBeString();
      expect(r.body.errors![0]!.message).toMatch(/token limit/i);
    }
  });

  test(`more than ${MAX_QUERY_ALIASES} aliases, __typename included, in a short document: refused`, async () => {
    const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
    for (const field of ['__typename', 'queues { name }']) {
      const over = await t.graphql(aliases(MAX_QUERY_ALIASES + 1, field));
      expect(over.body.data ?? null).toBeNull();
      expect(over.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
      expect(over.body.errors![0]!.message).toMatch(/aliases limit/i);
    }
    // Up to the limit, aliases are fine; so is GraphiQL's full introspection query.
    const atLimit = await t.graphql<Record<string, string>>(aliases(MAX_QUERY_ALIASES, '__typename'));
    expect(atLimit.body.errors).toBeUndefined();
    expect(Object.keys(atLimit.body.data!)).toHaveLength(MAX_QUERY_ALIASES);
    const introspection = await t.graphql<{ __schema: { types: unknown[] } }>(
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true }),
    );
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data!.__schema.types.length).toBeGreaterThan(20);
  });
});

describe('CORS: no cross-origin browser access to /graphql or /trpc', () => {
  const EVIL = 'https://evil.example';
  const corsHeaders = (res: Response) => [...res.headers.keys()].filter((h) => h.startsWith('access-control-'));

  test("a browser's preflight from another origin is refused (403), with no Access-Control-Allow-* header", async () => {
    for (const path of ['/graphql', '/trpc/subscriptions.list', '/trpc/subscriptions.create']) {
      const res = await fetch(`${t.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      await res.text();
      expect({ path, status: res.status, cors: corsHeaders(res) }).toEqual({ path, status: 403, cors: [] });
    }
  });

  test('a request that carries a foreign Origin (and the token) gets no header letting a browser read the answer', async () => {
    const answers = [
      await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { origin: EVIL, authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      }),
      await fetch(`${t.url}/graphql`, { headers: { origin: EVIL, accept: 'text/html' } }),
      await fetch(`${t.url}/trpc/subscriptions.list`, { headers: { origin: EVIL, authorization: `Bearer ${TEST_SERVICE_TOKEN}` } }),
    ];
    for (const res of answers) {
      await res.text();
      expect({ url: res.url, status: res.status, cors: corsHeaders(res) }).toEqual({ url: res.url, status: 200, cors: [] });
    }
  });
});

/** The lines of this suite's log written for one request id. */
function logLinesOf(requestId: string): Array<Record<string, any>> {
  return readFileSync(join(LOG_DIR, 'reliability-hostile-api.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"requestId":"${requestId}"`))
    .map((l) => JSON.parse(l));
}

describe("errors that are not ours: a generic answer, the original logged (request's logger, no query parameters)", () => {
  // A Postgres error on demand: a trigger raises on the rows this describe marks, nowhere else.
  const marker = `pgmarker${crypto.randomUUID().replaceAll('-', '')}`;
  let gqlSub: string;
  beforeAll(async () => {
    const r = await t.trpc<{ id: string }>('subscriptions.create', { url: `http://127.0.0.1:9/gql-${marker}`, externalOwnerId: owner.externalOwnerId, types: ['owner.revoked'] });
    gqlSub = r.body.result!.data.id;
    await sql.unsafe(`
      create function hostile_api_fail() returns trigger language plpgsql as $$
      begin
        if (tg_op = 'INSERT' and new.url like '%trpc-${marker}%') or (tg_op = 'UPDATE' and new.url like '%gql-${marker}%') then
          raise exception 'internal detail ${marker}: relation "audit_shadow" is locked by role app_rw';
        end if;
        return new;
      end $$`);
    await sql`create trigger hostile_api_fail before insert or update on subscriptions for each row execute function hostile_api_fail()`;
  });
  afterAll(async () => {
    await sql`drop trigger if exists hostile_api_fail on subscriptions`;
    await sql`drop function if exists hostile_api_fail()`;
    await sql`delete from subscriptions where id = ${gqlSub}`;
  });

  test('tRPC: a Postgres error is INTERNAL_SERVER_ERROR "Internal error", not the statement, its parameters or the message', async () => {
    const requestId = `hostile-trpc-${marker.slice(-12)}`;
    const r = await raw('/trpc/subscriptions.create', {
      method: 'POST',
      headers: { 'x-request-id': requestId },
      body: JSON.stringify({ url: `http://127.0.0.1:9/trpc-${marker}`, externalOwnerId: owner.externalOwnerId }),
    });
    fig.set('trpcForeignError', { status: r.status, message: r.body.error?.message });
    expect(r.status).toBe(500);
    expect(r.body.error).toMatchObject({ message: 'Internal error', data: { code: 'INTERNAL_SERVER_ERROR' } });
    const answer = JSON.stringify(r.body);
    for (const leak of [marker, 'audit_shadow', 'Failed query', 'insert into', '"subscriptions"', 'params', 'v1.', 'v2.']) expect({ leak, found: answer.includes(leak) }).toEqual({ leak, found: false });
    // The original is in the log, under the request's id, with the statement's text but no parameters.
    const lines = logLinesOf(requestId).filter((l) => l.msg === 'procedure failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.err.message).toContain(`internal detail ${marker}`);
    expect(lines[0]!.query).toMatch(/^insert into "subscriptions"/);
    expect(lines[0]!.path).toBe('subscriptions.create');
    expect(JSON.stringify(lines[0])).not.toContain('params:');
    expect(JSON.stringify(lines[0])).not.toContain(TEST_SERVICE_TOKEN);
  });

  test('tRPC: our own errors keep their words (validation issues, not found, unauthorized)', async () => {
    const bad = await t.trpc('subscriptions.create', { url: '' });
    expect(bad.status).toBe(400);
    expect((bad.body.error!.data as { issues?: unknown[] }).issues?.length).toBeGreaterThan(0);
    const missing = await t.trpc('subscriptions.test', { id: crypto.randomUUID() });
    expect(missing.body.error!.message).toMatch(/^no subscription /);
    expect((await t.trpc('subscriptions.list', undefined, { token: null })).body.error!.message).toBe('Bearer SERVICE_TOKEN required');
  });

  test('GraphQL: a masked error is "Unexpected error." INTERNAL to the client, and its original is logged with the request id', async () => {
    const requestId = `hostile-gql-${marker.slice(-12)}`;
    const r = await raw('/graphql', {
      method: 'POST',
      token: TEST_ADMIN_TOKEN,
      headers: { 'x-request-id': requestId },
      body: JSON.stringify({ query: 'mutation($id: ID!) { enableSubscription(id: $id) { id status } }', variables: { id: gqlSub } }),
    });
    expect(r.body.errors).toEqual([{ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } }]);
    expect(JSON.stringify(r.body)).not.toContain(marker);
    const lines = logLinesOf(requestId).filter((l) => l.level >= 50);
    fig.set('graphqlMaskedLog', lines.map((l) => ({ msg: l.msg, path: l.path, type: l.err?.type })));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'graphql error masked', path: 'enableSubscription' });
    expect(lines[0]!.err.message).toContain(`internal detail ${marker}`);
    expect(JSON.stringify(lines[0])).not.toContain('params:');
    expect(JSON.stringify(lines[0])).not.toContain(TEST_ADMIN_TOKEN);
  });
});

describe('fan-out, read back through the APIs', () => {
  let inside: ReturnType<typeof Bun.serve>;
  const secretBody = `INTERNAL-ONLY db_password=${crypto.randomUUID()}`;
  const secretLocation = `http://10.1.2.3/admin?key=${crypto.randomUUID()}`;
  beforeAll(() => {
    // An "internal" service the ping is aimed at: what it answers must not come back to the caller.
    inside = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === '/redirect') return new Response(secretBody, { status: 302, headers: { location: secretLocation } });
        if (path === '/ok') return new Response(secretBody, { status: 200 });
        return new Response(secretBody, { status: path === '/500' ? 500 : 404 });
      },
    });
  });
  afterAll(() => inside?.stop(true));

  test('subscriptions.test answers the status, never an excerpt of what the receiver said', async () => {
    const answers: Record<string, unknown> = {};
    for (const [path, status, error] of [
      ['/404', 404, 'HTTP 404'],
      ['/500', 500, 'HTTP 500'],
      ['/redirect', 302, 'HTTP 302 (redirects are not followed)'],
      ['/ok', 200, null],
    ] as const) {
      const created = await t.trpc<{ id: string }>('subscriptions.create', { url: `http://127.0.0.1:${inside.port}${path}`, types: ['owner.revoked'], externalOwnerId: owner.externalOwnerId });
      const r = await t.trpc<{ delivered: boolean; status: number | null; error: string | null }>('subscriptions.test', { id: created.body.result!.data.id });
      answers[path] = r.body.result?.data;
      expect(r.body.result!.data).toMatchObject({ delivered: status === 200, status, error });
      expect(JSON.stringify(r.body)).not.toContain('INTERNAL-ONLY');
      expect(JSON.stringify(r.body)).not.toContain(secretLocation);
      await t.trpc('subscriptions.delete', { id: created.body.result!.data.id });
    }
    fig.set('pingAnswers', answers);
  });

  test("WebhookDelivery, every field of it: no event title, no attendee's email", async () => {
    const rx = startReceiver();
    try {
      const title = `Board only: acquisition of Initech ${crypto.randomUUID().slice(0, 8)}`;
      const attendee = `ceo-${crypto.randomUUID().slice(0, 8)}@initech.test`;
      const created = await t.trpc<{ id: string; secret: string }>('subscriptions.create', { url: rx.url('/body'), externalOwnerId: owner.externalOwnerId, types: ['event.created'] });
      const sub = created.body.result!.data;
      rx.secret('/body', sub.secret);
      const googleEventId = `bodyredact${Date.now().toString(32)}`;
      await ctl.putEvent(owner.calendarId, googleEventId, timed(title, hoursFromNow(24 * 600), 30, { description: title, attendees: [{ email: attendee }] }));
      const delivered = await waitFor(async () => {
        const [d] = await sql`select id, body from deliveries where subscription_id = ${sub.id} and status = 'delivered' and body like ${`%${googleEventId}%`}`;
        return d;
      }, { what: 'the event delivered', timeoutMs: 30_000 });
      // The receiver has it all (that is its job)...
      expect(String(delivered.body)).toContain(title);
      expect(String(delivered.body)).toContain(attendee);
      // ...the admin API none of it, whichever of the delivery's fields one asks for.
      type Ty = { kind: string; name: string | null; ofType: Ty | null };
      const intro = await t.graphql<{ __type: { fields: Array<{ name: string; args: unknown[]; type: Ty }> } }>(
        '{ __type(name: "WebhookDelivery") { fields { name args { name } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }',
      );
      const leaf = (ty: Ty): Ty => (ty.ofType ? leaf(ty.ofType) : ty);
      const fields = intro.body.data!.__type.fields.filter((f) => f.args.length === 0 && ['SCALAR', 'ENUM'].includes(leaf(f.type).kind)).map((f) => f.name);
      expect(fields).toContain('id');
      const selection = fields.join(' ');
      const q = await t.graphql(
        `query($id: ID!) {
          deliveries(subscriptionId: $id, first: 20) { edges { node { ${selection} } } }
          subscriptions(externalOwnerId: "${owner.externalOwnerId}", first: 5) { edges { node { id recentDeliveries(first: 5) { ${selection} } } } }
        }`,
        { id: sub.id },
      );
      expect(q.body.errors).toBeUndefined();
      const answer = JSON.stringify(q.body);
      fig.set('deliveryFields', fields);
      expect(answer).toContain(delivered.id);
      expect(answer).toContain(googleEventId);
      expect(answer).not.toContain(title);
      expect(answer).not.toContain('Initech');
      expect(answer).not.toContain(attendee);
      await t.trpc('subscriptions.delete', { id: sub.id });
    } finally {
      await rx.stop();
    }
  });
});

describe('SSRF: subscriber URLs must be global unicast (FANOUT_ALLOW_PRIVATE=false)', () => {
  let prod: TestService;
  beforeAll(async () => {
    prod = await startTestService({ name: 'reliability-hostile-api-prod', emulatorUrl: emu.url, env: { FANOUT_ALLOW_PRIVATE: 'false' } });
  }, 60_000);
  afterAll(() => prod?.stop(), 30_000);

  test('addresses that embed, translate or relay to inside ones are refused at create (400), as is every special-purpose block', async () => {
    const urls = [
      'http://[::7f00:1]:8787/hook', // IPv4-compatible 127.0.0.1
      'http://[::127.0.0.1]/hook', // the same, dotted
      'http://[::a9fe:a9fe]/latest/meta-data/', // IPv4-compatible 169.254.169.254
      'http://[::ffff:0:7f00:1]/hook', // IPv4-translated (::ffff:0:0:0/96) 127.0.0.1
      'http://[::ffff:8.8.8.8]/hook', // IPv4-mapped (::ffff:0:0/96): never a receiver's address
      'http://[64:ff9b:1::7f00:1]/hook', // local-use NAT64 (64:ff9b:1::/48)
      'http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/',
      'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/', // well-known NAT64 of the metadata address
      'http://192.88.99.1/hook', // 6to4 relay anycast (192.88.99.0/24)
      'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook', // Teredo
      'http://[2002:a9fe:a9fe::1]/hook', // 6to4 of 169.254.169.254
      'http://[100::1]/hook', // discard-only
      'http://198.18.0.1/hook', // benchmarking
      'http://192.0.0.170/hook', // NAT64 discovery
      'http://[3fff::1]/hook', // documentation
    ];
    const answers: Record<string, string> = {};
    for (const url of urls) {
      const r = await prod.trpc('subscriptions.create', { url });
      answers[url] = `${r.status} ${r.body.error?.message ?? ''}`;
      expect({ url, status: r.status }).toEqual({ url, status: 400 });
      expect(r.body.error!.message).toMatch(/not a global unicast address/);
    }
    fig.set('ssrfRefusals', answers);
    const stored = await prod.trpc<{ items: Array<{ url: string }> }>('subscriptions.list');
    expect(stored.body.result!.data.items.filter((s) => urls.includes(s.url))).toEqual([]);
  });

  test('global unicast addresses are accepted, NAT64 of a public address included', async () => {
    for (const url of ['http://8.8.8.8/hook', 'https://[2606:4700:4700::1111]/hook', 'http://[64:ff9b::808:808]/hook', 'http://192.88.100.1/hook']) {
      const r = await prod.trpc<{ id: string }>('subscriptions.create', { url, types: ['owner.revoked'] });
      expect({ url, status: r.status }).toEqual({ url, status: 200 });
      await prod.trpc('subscriptions.delete', { id: r.body.result!.data.id });
    }
  });
});

describe('afterwards', () => {
  test("the owner's mirror equals Google row by row (bookings, injected events, shifts)", async () => {
    fig.set('convergeWaitMs', await waitConverged(sql, ctl, [owner], { timeoutMs: 20_000 }));
  });
});
