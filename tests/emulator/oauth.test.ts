// OAuth 2.0 conformance: consent, code exchange, refresh, revoke, expiry, with google-auth-library's OAuth2Client.

import { describe, expect, test } from 'bun:test';
import { REDIRECT_URI, calendarClient, control, failure, newUser, oauthClient } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const CAL_SCOPE = 'https://www.googleapis.com/auth/calendar';
const suite = emulatorSuite();

async function consent(url: string): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '');
}

describe('consent and code exchange', () => {
  test('approves at once as login_hint and the code yields a refresh token with access_type=offline', async () => {
    await control(suite.emu, 'POST', 'users', { email: 'first@example.com' });
    const client = oauthClient(suite.emu);
    const url = client.generateAuthUrl({ access_type: 'offline', scope: [CAL_SCOPE, 'email'], state: 'xyz', login_hint: 'alice@example.com' });
    expect(url.startsWith(`${suite.emu.url}o/oauth2/v2/auth?`)).toBe(true);
    const back = await consent(url);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('xyz');
    const code = back.searchParams.get('code') ?? '';
    expect(code).not.toBe('');

    const { tokens } = await client.getToken(code);
    expect(tokens.access_token).toStartWith('ya29.');
    expect(tokens.refresh_token).toBeString();
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.scope?.split(' ')).toContain(CAL_SCOPE);
    expect(tokens.expiry_date).toBeGreaterThan(Date.now() + 3500_000);

    // The token acts as the hinted user, whose primary calendar id is their email.
    client.setCredentials(tokens);
    const cal = await calendarClient(suite.emu, client).calendars.get({ calendarId: 'primary' });
    expect(cal.data.id).toBe('alice@example.com');

    // A code is single-use.
    const again = await failure(() => client.getToken(code));
    expect(again.status).toBe(400);
    expect((again.body as unknown as { error: string }).error).toBe('invalid_grant');
  });

  test('without login_hint the first user consents; a second consent needs prompt=consent for a new refresh token', async () => {
    await control(suite.emu, 'POST', 'users', { email: 'first@example.com' });
    const client = oauthClient(suite.emu);
    const first = await client.getToken((await consent(client.generateAuthUrl({ access_type: 'offline', scope: CAL_SCOPE }))).searchParams.get('code') ?? '');
    // /_emulator/users already granted the default client offline access, as if the user had consented.
    expect(first.tokens.refresh_token).toBeUndefined();
    const forced = await client.getToken((await consent(client.generateAuthUrl({ access_type: 'offline', prompt: 'consent', scope: CAL_SCOPE }))).searchParams.get('code') ?? '');
    expect(forced.tokens.refresh_token).toBeString();
    client.setCredentials(forced.tokens);
    expect((await calendarClient(suite.emu, client).calendars.get({ calendarId: 'primary' })).data.id).toBe('first@example.com');
  });

  test('creates user@example.com when nobody exists; online access has no refresh token', async () => {
    const client = oauthClient(suite.emu);
    const back = await consent(client.generateAuthUrl({ scope: CAL_SCOPE }));
    const { tokens } = await client.getToken(back.searchParams.get('code') ?? '');
    expect(tokens.refresh_token).toBeUndefined();
    client.setCredentials(tokens);
    expect((await calendarClient(suite.emu, client).calendars.get({ calendarId: 'primary' })).data.id).toBe('user@example.com');
  });

  test('refusal simulation redirects with error=access_denied', async () => {
    const client = oauthClient(suite.emu);
    const back = await consent(`${client.generateAuthUrl({ scope: CAL_SCOPE, state: 's1' })}&emulator_error=access_denied`);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('s1');
    expect(back.searchParams.has('code')).toBe(false);

    await control(suite.emu, 'POST', 'config', { nextConsentError: 'access_denied' });
    const once = await consent(client.generateAuthUrl({ scope: CAL_SCOPE }));
    expect(once.searchParams.get('error')).toBe('access_denied');
    const next = await consent(client.generateAuthUrl({ scope: CAL_SCOPE }));
    expect(next.searchParams.has('code')).toBe(true);
  });

  test('validates client_id, redirect_uri, response_type and scope', async () => {
    const base = `${suite.emu.url}o/oauth2/v2/auth`;
    const q = (o: Record<string, string>): string => `${base}?${new URLSearchParams(o)}`;
    const ok = { client_id: 'calwatch-dev', redirect_uri: 'http://localhost:9999/cb', response_type: 'code', scope: CAL_SCOPE };
    expect((await fetch(q(ok), { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(q({ ...ok, client_id: 'nope' }), { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(q({ ...ok, redirect_uri: 'https://evil.example/cb' }), { redirect: 'manual' })).status).toBe(400);
    expect((await fetch(q({ ...ok, response_type: 'token id_token' }), { redirect: 'manual' })).status).toBe(400);
    expect((await fetch(q({ ...ok, scope: 'not-a-scope' }), { redirect: 'manual' })).status).toBe(400);

    // Registered clients only accept their exact redirect URIs.
    await control(suite.emu, 'POST', 'clients', { clientId: 'web-app', clientSecret: 's3cret', redirectUris: ['https://app.example/cb'] });
    const reg = { ...ok, client_id: 'web-app' };
    expect((await fetch(q({ ...reg, redirect_uri: 'https://app.example/cb' }), { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(q(reg), { redirect: 'manual' })).status).toBe(400);
  });

  test('token endpoint: invalid_client (401) for an unknown client or a wrong secret, client auth by HTTP Basic', async () => {
    const u = await newUser(suite.emu, 'alice@example.com');
    const post = (body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${suite.emu.url}token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() });
    const unknown = await post({ grant_type: 'refresh_token', refresh_token: u.refreshToken, client_id: 'nope', client_secret: 'x' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    const wrong = await post({ grant_type: 'refresh_token', refresh_token: u.refreshToken, client_id: 'calwatch-dev', client_secret: 'bad' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_client');
    const basic = await post({ grant_type: 'refresh_token', refresh_token: u.refreshToken }, {
      authorization: `Basic ${Buffer.from('calwatch-dev:calwatch-dev-secret').toString('base64')}`,
    });
    expect(basic.status).toBe(200);
    const body = (await basic.json()) as Record<string, unknown>;
    expect(body.access_token).toBeString();
    expect(body).not.toHaveProperty('refresh_token');
    const badGrant = await post({ grant_type: 'password', client_id: 'calwatch-dev', client_secret: 'calwatch-dev-secret' });
    expect(badGrant.status).toBe(400);
    expect(((await badGrant.json()) as { error: string }).error).toBe('unsupported_grant_type');
  });
});

describe('refresh, revoke and expiry', () => {
  test('refresh works, and after revoke the refresh token fails with invalid_grant', async () => {
    const u = await newUser(suite.emu, 'alice@example.com');
    const { token } = await u.auth.getAccessToken();
    expect(token).toStartWith('ya29.');
    expect((await u.calendar.calendarList.list()).data.items?.[0]?.id).toBe('alice@example.com');

    await u.auth.revokeToken(u.refreshToken);

    // Access tokens of the revoked grant stop working at once...
    const res = await fetch(`${suite.emu.url}calendar/v3/users/me/calendarList`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    // ...and refreshing answers Google's flat invalid_grant body.
    const fresh = oauthClient(suite.emu);
    fresh.setCredentials({ refresh_token: u.refreshToken });
    const err = await failure(() => fresh.refreshAccessToken());
    expect(err.status).toBe(400);
    expect(err.body as unknown).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });

    // Revoking twice: Google answers 400 invalid_token.
    const second = await fetch(`${suite.emu.url}revoke?token=${encodeURIComponent(u.refreshToken)}`, { method: 'POST' });
    expect(second.status).toBe(400);
  });

  test('revoking through the control API (user removes access) invalidates every grant', async () => {
    const u = await newUser(suite.emu, 'bob@example.com');
    await u.auth.getAccessToken();
    await control(suite.emu, 'POST', `users/${encodeURIComponent('bob@example.com')}/revoke`);
    const fresh = oauthClient(suite.emu);
    fresh.setCredentials({ refresh_token: u.refreshToken });
    const err = await failure(() => fresh.refreshAccessToken());
    expect((err.body as unknown as { error: string }).error).toBe('invalid_grant');
  });

  test('expired access tokens answer 401 with Google body; the client refreshes by itself', async () => {
    const u = await newUser(suite.emu, 'carol@example.com');
    const { token } = await u.auth.getAccessToken();
    await control(suite.emu, 'POST', 'tokens/expire');
    const res = await fetch(`${suite.emu.url}calendar/v3/calendars/primary`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: number; status: string; errors: Array<{ reason: string }> } };
    expect(body.error.code).toBe(401);
    expect(body.error.status).toBe('UNAUTHENTICATED');
    expect(body.error.errors[0]?.reason).toBe('authError');

    // Missing credentials: 401 "Login Required.".
    const none = await fetch(`${suite.emu.url}calendar/v3/calendars/primary`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0]?.reason).toBe('required');

    // A client holding only a refresh token gets a new access token transparently.
    const fresh = oauthClient(suite.emu);
    fresh.setCredentials({ refresh_token: u.refreshToken });
    expect((await calendarClient(suite.emu, fresh).calendars.get({ calendarId: 'primary' })).data.id).toBe('carol@example.com');
  });

  test('access token lifetime is configurable at runtime', async () => {
    await control(suite.emu, 'POST', 'config', { accessTokenTtlSeconds: 1 });
    const u = await newUser(suite.emu, 'dave@example.com');
    const r = await u.auth.refreshAccessToken();
    expect(r.credentials.expiry_date).toBeLessThanOrEqual(Date.now() + 1000);
  });
});
