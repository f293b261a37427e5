// OAuth through the two browser routes (with the state cookie) and through oauth.start/finish:
// the full round trip against the emulator's consent page, and every failure case of the issue.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import type { CalwatchModule, OwnerEvent } from '../../src/context/index.ts';
import { startTestService, waitFor, type TestService } from '../support/service.ts';
import { startLinksHarness, type LinksHarness } from './harness.ts';

let h: LinksHarness;
const events: OwnerEvent[] = [];
/** Records the owner events of every service this suite starts. */
const recorder: CalwatchModule = {
  name: 'links-oauth-test',
  reactions: {
    ownerEvents: async (_ctx, ev) => {
      events.push(ev);
    },
  },
};

beforeAll(async () => {
  h = await startLinksHarness('links-oauth', {}, { extraModules: [recorder] });
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

const manual = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', ...(cookie ? { headers: { cookie } } : {}) });
const countOwners = async () => Number((await h.sql`select count(*)::int as n from owners`)[0]!.n);
const countStates = async () => Number((await h.sql`select count(*)::int as n from oauth_states`)[0]!.n);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Started {
  location: URL;
  setCookie: string;
  cookie: string;
  state: string;
}

/** What a frontend gets from its backend: a single-use start link (oauth.ticket, service token). */
async function ticket(query: Record<string, string>, service: TestService = h.t, token?: string): Promise<string> {
  const r = await service.trpc<{ url: string; expiresAt: string }>('oauth.ticket', query, token ? { token } : {});
  expect(r.status).toBe(200);
  return r.body.result!.data.url;
}

async function start(query: Record<string, string>): Promise<Started> {
  const res = await manual(await ticket(query));
  expect(res.status).toBe(307);
  const location = new URL(res.headers.get('location')!);
  const setCookie = res.headers.get('set-cookie')!;
  const cookie = setCookie.split(';')[0]!;
  return { location, setCookie, cookie, state: location.searchParams.get('state')! };
}

/** Follows the redirect to the emulator's consent page, which approves at once and sends us back. */
async function consent(location: URL): Promise<URL> {
  const res = await manual(location.toString());
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

describe('full round trip through GET /oauth/google/start and /callback', () => {
  test('307 to consent with the right parameters, state cookie, callback links the owner and redirects to returnTo', async () => {
    await h.googleUser('grace@example.com');
    const s = await start({ externalOwnerId: 'u-grace', returnTo: 'http://app.test/settings?tab=calendar', loginHint: 'grace@example.com' });

    const p = s.location.searchParams;
    expect(`${s.location.origin}${s.location.pathname}`).toBe(`${h.emu.url}o/oauth2/v2/auth`);
    expect(p.get('client_id')).toBe('calwatch-dev');
    expect(p.get('redirect_uri')).toBe(`${h.t.url}/oauth/google/callback`);
    expect(p.get('response_type')).toBe('code');
    expect(p.get('access_type')).toBe('offline');
    expect(p.get('prompt')).toBe('consent');
    expect(p.get('login_hint')).toBe('grace@example.com');
    // The narrowest scopes that do the job (discovery's per-method scope lists)
    expect(p.get('scope')!.split(' ').sort()).toEqual(['https://www.googleapis.com/auth/calendar.calendarlist.readonly', 'https://www.googleapis.com/auth/calendar.events']);
    expect(s.state.length).toBeGreaterThanOrEqual(40);
    // PKCE: only the S256 challenge goes to Google; the verifier is stored sealed with the state
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(s.setCookie).toContain('HttpOnly');
    expect(s.setCookie).toContain('SameSite=Lax');
    expect(s.setCookie).toContain('Path=/oauth/google');
    expect(s.setCookie).toContain('Max-Age=600');
    expect(s.setCookie).not.toContain('Secure');
    expect(s.cookie).toBe(`calwatch_oauth_state=${s.state}`);

    // stored hashed, never in clear
    const rows = await h.sql`select * from oauth_states where external_owner_id = 'u-grace'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state_hash).toBe(sha256(s.state));
    expect(JSON.stringify(rows)).not.toContain(s.state);
    expect(rows[0]!.verifier_enc).toMatch(/^v[12]\./);
    expect(rows[0]!.expires_at.getTime() - rows[0]!.created_at.getTime()).toBe(600_000);

    const back = await consent(s.location);
    expect(`${back.origin}${back.pathname}`).toBe(`${h.t.url}/oauth/google/callback`);
    expect(back.searchParams.get('state')).toBe(s.state);

    const cb = await manual(back.toString(), s.cookie);
    expect(cb.status).toBe(302);
    expect(cb.headers.get('location')).toBe('http://app.test/settings?tab=calendar');
    expect(cb.headers.get('set-cookie')).toContain('calwatch_oauth_state=;');

    const owner = (await h.sql`select * from owners where external_owner_id = 'u-grace'`)[0]!;
    expect(owner.status).toBe('active');
    expect(owner.refresh_token_enc).toMatch(/^v[12]\./);
    expect(owner.access_token_enc).toMatch(/^v[12]\./);
    expect(owner.access_token_expires_at.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(owner.scopes).toContain('https://www.googleapis.com/auth/calendar.events');
    expect(events.filter((e) => e.externalOwnerId === 'u-grace').map((e) => e.type)).toEqual(['linked']);
    // the grant is grace's (login_hint), and the exchanged token works at Google
    const users = await h.emuJson('users');
    const grace = users.items.find((u: { email: string }) => u.email === 'grace@example.com');
    expect(grace.grants.some((g: { offline: boolean; revoked: boolean }) => g.offline && !g.revoked)).toBe(true);

    // the first sync started: links.get soon lists grace's primary calendar (sync's provider)
    const status = await waitFor(
      async () => {
        const r = await h.t.trpc<{ status: string; calendars: Array<{ calendarId: string; primary: boolean }> }>('links.get', { externalOwnerId: 'u-grace' });
        return r.body.result?.data.calendars.some((c) => c.primary) ? r.body.result.data : undefined;
      },
      { what: "grace's calendars listed by the first sync" },
    );
    expect(status.status).toBe('active');
    expect(status.calendars.find((c) => c.primary)!.calendarId).toBe('grace@example.com');

    // the same callback again: the state is single use
    const replay = await manual(back.toString(), s.cookie);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { detail: string }).detail).toContain('already used');
  }, 20_000);

  test('without returnTo the callback answers JSON', async () => {
    const s = await start({ externalOwnerId: 'u-heidi' });
    const cb = await manual((await consent(s.location)).toString(), s.cookie);
    expect(cb.status).toBe(200);
    expect(await cb.json()).toEqual({ externalOwnerId: 'u-heidi', status: 'active' });
  });
});

describe('one Google account per owner, through the browser', () => {
  test("a consent with another account than the owner's: back to returnTo with error=account_mismatch, nothing changed", async () => {
    const own = await h.googleUser('cb-owner@example.com');
    await h.googleUser('cb-other@example.com');
    expect((await h.t.trpc('links.event', { type: 'LINKED', externalOwnerId: 'u-cb', refreshToken: own.refreshToken })).status).toBe(200);
    const before = (await h.sql`select refresh_token_enc, google_email from owners where external_owner_id = 'u-cb'`)[0]!;
    const s = await start({ externalOwnerId: 'u-cb', returnTo: 'http://app.test/linked', loginHint: 'cb-other@example.com' });
    const cb = await manual((await consent(s.location)).toString(), s.cookie);
    expect(cb.status).toBe(302);
    expect(cb.headers.get('location')).toBe('http://app.test/linked?error=account_mismatch');
    const after = (await h.sql`select refresh_token_enc, google_email from owners where external_owner_id = 'u-cb'`)[0]!;
    expect(after).toEqual(before);
    expect(after.google_email).toBe('cb-owner@example.com');
  });
});

describe('callback failures: 400 with a clear JSON message, nothing stored', () => {
  async function expectRefused(res: Response, message: string) {
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { detail: string }).detail).toContain(message);
  }

  test('missing state parameter', async () => {
    const s = await start({ externalOwnerId: 'u-fail1' });
    const back = await consent(s.location);
    back.searchParams.delete('state');
    const n = await countOwners();
    await expectRefused(await manual(back.toString(), s.cookie), 'missing state');
    expect(await countOwners()).toBe(n);
  });

  test('missing cookie (another browser): refused, and the state is not spent', async () => {
    const s = await start({ externalOwnerId: 'u-fail2' });
    const back = await consent(s.location);
    await expectRefused(await manual(back.toString()), 'cookie');
    expect(await h.sql`select 1 from owners where external_owner_id = 'u-fail2'`).toHaveLength(0);
    expect((await h.sql`select used_at from oauth_states where state_hash = ${sha256(s.state)}`)[0]!.used_at).toBeNull();
  });

  test('mismatched cookie (login CSRF: the attacker\'s callback URL in the victim\'s browser)', async () => {
    const attacker = await start({ externalOwnerId: 'u-attacker' });
    const victim = await start({ externalOwnerId: 'u-victim' });
    const attackerBack = await consent(attacker.location);
    await expectRefused(await manual(attackerBack.toString(), victim.cookie), 'does not match');
    expect(await h.sql`select 1 from owners where external_owner_id in ('u-attacker', 'u-victim')`).toHaveLength(0);
  });

  test('unknown state (cookie and URL forged alike)', async () => {
    const forged = 'forged-state-0123456789abcdefghijklmnop';
    const n = await countOwners();
    await expectRefused(await manual(`${h.t.url}/oauth/google/callback?code=4/whatever&state=${forged}`, `calwatch_oauth_state=${forged}`), 'unknown OAuth state');
    expect(await countOwners()).toBe(n);
  });

  test('expired state (10 minutes)', async () => {
    const s = await start({ externalOwnerId: 'u-late' });
    const back = await consent(s.location);
    h.t.clock.advance(10 * 60_000 + 1_000);
    try {
      await expectRefused(await manual(back.toString(), s.cookie), 'expired');
    } finally {
      h.t.clock.offsetMs = 0;
    }
    expect(await h.sql`select 1 from owners where external_owner_id = 'u-late'`).toHaveLength(0);
  });

  test('a bad or used code: refused, nothing stored', async () => {
    const s = await start({ externalOwnerId: 'u-badcode' });
    const back = await consent(s.location);
    back.searchParams.set('code', '4/emu-not-a-code');
    await expectRefused(await manual(back.toString(), s.cookie), 'authorization code');
    expect(await h.sql`select 1 from owners where external_owner_id = 'u-badcode'`).toHaveLength(0);
  });

  test('error=access_denied from Google: redirect back to returnTo with the error, nothing stored', async () => {
    await h.emuJson('config', { nextConsentError: 'access_denied' });
    const s = await start({ externalOwnerId: 'u-denied', returnTo: 'http://app.test/back' });
    const back = await consent(s.location);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
    const tokenCalls = (await h.tokenRequests()).length;
    const cb = await manual(back.toString(), s.cookie);
    expect(cb.status).toBe(302);
    expect(cb.headers.get('location')).toBe('http://app.test/back?error=access_denied');
    expect(await h.sql`select 1 from owners where external_owner_id = 'u-denied'`).toHaveLength(0);
    expect((await h.tokenRequests()).length).toBe(tokenCalls);
    // the state is spent: the same answer cannot be replayed
    expect((await manual(back.toString(), s.cookie)).status).toBe(400);
  });

  test('error=access_denied without returnTo: 400 JSON naming the error', async () => {
    await h.emuJson('config', { nextConsentError: 'access_denied' });
    const s = await start({ externalOwnerId: 'u-denied2' });
    const back = await consent(s.location);
    const cb = await manual(back.toString(), s.cookie);
    expect(cb.status).toBe(400);
    expect(((await cb.json()) as { error: string }).error).toBe('access_denied');
    expect(await h.sql`select 1 from owners where external_owner_id = 'u-denied2'`).toHaveLength(0);
  });
});

describe('start: returnTo only to configured origins (no open redirect), input checked', () => {
  const refused = [
    'https://evil.example/steal',
    'http://app.test.evil.example/',
    'http://app.test@evil.example/',
    '//evil.example/',
    '/relative/path',
    'javascript:alert(1)',
    'https://app.test/', // scheme differs: another origin
    'http://app.test:8080/',
  ];
  for (const returnTo of refused) {
    test(`refuses returnTo=${returnTo}`, async () => {
      const n = await countStates();
      const r = await h.t.trpc('oauth.ticket', { externalOwnerId: 'u-x', returnTo });
      expect(r.status).toBe(400);
      expect(await countStates()).toBe(n);
    });
  }

  test('missing, empty or oversized externalOwnerId -> 400', async () => {
    for (const externalOwnerId of ['', 'x'.repeat(256)]) expect((await h.t.trpc('oauth.ticket', { externalOwnerId })).status).toBe(400);
    expect((await h.t.trpc('oauth.ticket', {})).status).toBe(400);
  });
});

describe('start needs a ticket (link CSRF, linking anyone to anyone)', () => {
  const expect401 = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(((await res.json()) as { detail: string }).detail).toContain('ticket');
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
  };

  test('no ticket, or a bare externalOwnerId: 401, nothing stored', async () => {
    const n = await countStates();
    await expect401(await manual(`${h.t.url}/oauth/google/start`));
    await expect401(await manual(`${h.t.url}/oauth/google/start?externalOwnerId=user-42`));
    await expect401(await manual(`${h.t.url}/oauth/google/start?externalOwnerId=user-42&returnTo=http://app.test/`));
    expect(await countStates()).toBe(n);
  });

  test('a forged, a used and an expired ticket: 401', async () => {
    await expect401(await manual(`${h.t.url}/oauth/google/start?ticket=forged-0123456789abcdefghijklmnopqrstuvwxyz`));
    const url = await ticket({ externalOwnerId: 'u-once' });
    expect(new URL(url).origin).toBe(h.t.url);
    expect((await manual(url)).status).toBe(307);
    await expect401(await manual(url));
    const late = await ticket({ externalOwnerId: 'u-late-ticket' });
    h.t.clock.advance(10 * 60_000 + 1_000);
    try {
      await expect401(await manual(late));
    } finally {
      h.t.clock.offsetMs = 0;
    }
  });

  test('the ticket needs the service token; it is stored hashed, valid 10 minutes', async () => {
    expect((await h.t.trpc('oauth.ticket', { externalOwnerId: 'u-t' }, { token: null })).status).toBe(401);
    const r = await h.t.trpc<{ url: string; expiresAt: string }>('oauth.ticket', { externalOwnerId: 'u-t' });
    const raw = new URL(r.body.result!.data.url).searchParams.get('ticket')!;
    const rows = await h.sql`select * from oauth_tickets where external_owner_id = 'u-t'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ticket_hash).toBe(sha256(raw));
    expect(JSON.stringify(rows)).not.toContain(raw);
    expect(new Date(r.body.result!.data.expiresAt).getTime() - rows[0]!.created_at.getTime()).toBe(600_000);
  });

  test('PKCE: a code exchanged without the verifier is refused by Google (the emulator checks it)', async () => {
    const s = await start({ externalOwnerId: 'u-pkce' });
    const back = await consent(s.location);
    const res = await fetch(`${h.emu.url}token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, client_id: 'calwatch-dev', client_secret: 'calwatch-dev-secret', redirect_uri: `${h.t.url}/oauth/google/callback` }),
    });
    expect(res.status).toBe(400);
  });
});

describe('oauth.start / oauth.finish for frontends that take the redirect themselves', () => {
  test('start -> consent -> finish links the owner like LINKED; finish again -> BAD_REQUEST', async () => {
    const r = await h.t.trpc<{ url: string }>('oauth.start', { externalOwnerId: 'u-ivan', returnTo: 'http://app.test/x' });
    expect(r.status).toBe(200);
    const url = new URL(r.body.result!.data.url);
    expect(url.searchParams.get('access_type')).toBe('offline');
    const back = await consent(url);
    const code = back.searchParams.get('code')!;
    const state = back.searchParams.get('state')!;
    // A flow started for u-ivan, finished as if for another owner: refused before the exchange.
    const wrong = await h.t.trpc('oauth.finish', { code, state, expectedExternalOwnerId: 'u-mallory' });
    expect(wrong.status).toBe(409);
    expect((await h.sql`select used_at from oauth_states where state_hash = ${sha256(state)}`)[0]!.used_at).toBeNull();
    const f = await h.t.trpc<{ externalOwnerId: string }>('oauth.finish', { code, state, expectedExternalOwnerId: 'u-ivan' });
    expect(f.status).toBe(200);
    expect(f.body.result!.data).toEqual({ externalOwnerId: 'u-ivan' });
    expect((await h.sql`select status from owners where external_owner_id = 'u-ivan'`)[0]!.status).toBe('active');
    expect(events.filter((e) => e.externalOwnerId === 'u-ivan').map((e) => e.type)).toEqual(['linked']);

    const again = await h.t.trpc('oauth.finish', { code, state, expectedExternalOwnerId: 'u-ivan' });
    expect(again.status).toBe(400);
    expect(again.body.error!.message).toContain('already used');
  });

  test('a redirectUri on an allowed origin is used for consent and the code exchange', async () => {
    const r = await h.t.trpc<{ url: string }>('oauth.start', { externalOwnerId: 'u-judy', redirectUri: 'http://app.test/oauth-done' });
    const url = new URL(r.body.result!.data.url);
    expect(url.searchParams.get('redirect_uri')).toBe('http://app.test/oauth-done');
    const row = (await h.sql`select redirect_uri from oauth_states where external_owner_id = 'u-judy'`)[0]!;
    expect(row.redirect_uri).toBe('http://app.test/oauth-done');
  });

  test('bad input and attacks -> BAD_REQUEST / 401, nothing stored', async () => {
    const n = await countStates();
    expect((await h.t.trpc('oauth.start', { externalOwnerId: 'u-k', returnTo: 'https://evil.example/' })).status).toBe(400);
    expect((await h.t.trpc('oauth.start', { externalOwnerId: 'u-k', redirectUri: 'https://evil.example/cb' })).status).toBe(400);
    expect((await h.t.trpc('oauth.start', { externalOwnerId: '' })).status).toBe(400);
    expect((await h.t.trpc('oauth.start', { externalOwnerId: 'u-k' }, { token: null })).status).toBe(401);
    expect(await countStates()).toBe(n);
    expect((await h.t.trpc('oauth.finish', { code: '4/x', state: 'unknown-state', expectedExternalOwnerId: 'u-k' })).status).toBe(400);
    expect((await h.t.trpc('oauth.finish', { code: '', state: 'x', expectedExternalOwnerId: 'u-k' })).status).toBe(400);
    expect((await h.t.trpc('oauth.finish', { code: '4/x', state: 'x' })).status).toBe(400);
    expect((await h.t.trpc('oauth.finish', { code: '4/x', state: 'x', expectedExternalOwnerId: 'u-k' }, { token: null })).status).toBe(401);
  });
});

describe('production settings', () => {
  let prod: TestService;
  beforeAll(async () => {
    prod = await startTestService({
      name: 'links-oauth-prod',
      emulatorUrl: h.emu.url,
      env: { NODE_ENV: 'production', PUBLIC_URL: 'https://calwatch.example', GOOGLE_ACCESS: 'read', SERVICE_TOKEN: 's'.repeat(32), ADMIN_TOKEN: 'a'.repeat(32), OAUTH_RETURN_ORIGINS: 'https://app.test' },
      skipStartHooks: true,
      extraModules: [recorder],
    });
  }, 30_000);
  afterAll(() => prod?.stop(), 30_000);

  test('the state cookie is Secure, and read access asks for read-only scopes', async () => {
    const url = await ticket({ externalOwnerId: 'u-prod' }, prod, 's'.repeat(32));
    expect(url.startsWith('https://calwatch.example/oauth/google/start?ticket=')).toBe(true);
    const res = await manual(`${prod.url}${new URL(url).pathname}${new URL(url).search}`);
    expect(res.status).toBe(307);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toContain('Secure');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    const scope = new URL(res.headers.get('location')!).searchParams.get('scope')!.split(' ');
    expect(scope.sort()).toEqual(['https://www.googleapis.com/auth/calendar.calendarlist.readonly', 'https://www.googleapis.com/auth/calendar.events.readonly']);
  });
});
