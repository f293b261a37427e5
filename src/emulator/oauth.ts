// Google OAuth 2.0 endpoints for web-server apps (https://developers.google.com/identity/protocols/oauth2/web-server):
// the consent page (approves at once), the token endpoint (authorization_code and refresh_token grants) and
// revocation. Token endpoint errors are Google's flat bodies: {"error":"invalid_grant","error_description":"..."}.

import { Hono, type Context } from 'hono';
import type { EmulatorState } from './state.ts';
import type { Grant, OAuthClient } from './oauth-store.ts';

const SCOPE_ALIASES: Record<string, string> = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};

/** Google expands the short scopes and reports the granted set space-separated. */
export function normalizeScopes(raw: string): string[] | null {
  const parts = raw.split(/[\s+]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const out: string[] = [];
  for (const p of parts) {
    const s = SCOPE_ALIASES[p] ?? p;
    if (s !== 'openid' && !s.startsWith('https://www.googleapis.com/auth/')) return null;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function errorPage(status: 400 | 401, error: string, detail: string): Response {
  // Google shows an HTML page, not a redirect, when the client or redirect URI cannot be trusted.
  const html = `<!doctype html><html><head><title>Error ${status} (OAuth 2.0): ${error}</title></head>` +
    `<body><h1>Access blocked: authorization error</h1><p>Error ${status}: ${error}</p><p>${detail}</p></body></html>`;
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

function tokenError(status: 400 | 401, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }, null, 2), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' },
  });
}

async function formParams(c: Context): Promise<URLSearchParams> {
  const params = new URLSearchParams(new URL(c.req.url).search);
  if (c.req.method !== 'POST') return params;
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (type.includes('application/json')) {
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === 'object' && v !== null) for (const [k, val] of Object.entries(v)) params.set(k, String(val));
    } catch {
      // fall through: an unparsable body has no parameters
    }
  } else {
    for (const [k, v] of new URLSearchParams(text)) params.set(k, v);
  }
  return params;
}

function subjectFor(email: string): string {
  const h = new Bun.CryptoHasher('sha256').update(email).digest();
  let n = 0n;
  for (const b of h.subarray(0, 8)) n = (n << 8n) | BigInt(b);
  return `1${(n % 10n ** 20n).toString().padStart(20, '0')}`;
}

/** An id_token for openid scopes: the claims Google puts in one, signed HS256 with the client secret. */
function idToken(grant: Grant, client: OAuthClient, ttlSeconds: number, nonce?: string): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: 'https://accounts.google.com', azp: client.clientId, aud: client.clientId, sub: subjectFor(grant.email),
    email: grant.email, email_verified: true, iat: now, exp: now + ttlSeconds,
  };
  if (nonce) claims.nonce = nonce;
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  const sig = new Bun.CryptoHasher('sha256', client.clientSecret).update(head).digest();
  return `${head}.${Buffer.from(sig).toString('base64url')}`;
}

async function pkceMatches(verifier: string, challenge: string, method: string | undefined): Promise<boolean> {
  if (method === 'S256') {
    const digest = new Bun.CryptoHasher('sha256').update(verifier).digest();
    return Buffer.from(digest).toString('base64url') === challenge;
  }
  return verifier === challenge;
}

/** The user a token request was for, picked up by the request log. */
type OAuthEnv = { Variables: { userEmail: string } };

export function oauthRoutes(state: EmulatorState): Hono<OAuthEnv> {
  const app = new Hono<OAuthEnv>();

  const consent = (c: Context<OAuthEnv>): Response => {
    const p = new URL(c.req.url).searchParams;
    const client = state.oauth.clients.get(p.get('client_id') ?? '');
    if (!client) return errorPage(401, 'invalid_client', 'The OAuth client was not found.');
    const redirectUri = p.get('redirect_uri') ?? '';
    if (!redirectUri || !state.oauth.redirectAllowed(client, redirectUri)) {
      return errorPage(400, 'redirect_uri_mismatch', `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${redirectUri}`);
    }
    const responseType = p.get('response_type');
    if (!responseType) return errorPage(400, 'invalid_request', 'Required parameter is missing: response_type');
    if (responseType !== 'code') return errorPage(400, 'invalid_request', `Invalid response_type: ${responseType}`);
    const rawScope = p.get('scope');
    if (!rawScope) return errorPage(400, 'invalid_request', 'Missing required parameter: scope');
    const scopes = normalizeScopes(rawScope);
    if (!scopes) return errorPage(400, 'invalid_scope', 'Some requested scopes were invalid.');

    const back = new URL(redirectUri);
    const stateParam = p.get('state');
    // Simulated refusal: ?emulator_error=access_denied, or POST /_emulator/config {nextConsentError}.
    const refusal = p.get('emulator_error') ?? state.config.nextConsentError;
    if (refusal) {
      state.config.nextConsentError = undefined;
      back.searchParams.set('error', refusal);
      if (stateParam !== null) back.searchParams.set('state', stateParam);
      return c.redirect(back.toString(), 302);
    }
    const hint = p.get('login_hint');
    const first = state.directory.users.keys().next();
    const email = hint ?? (first.done ? 'user@example.com' : first.value);
    state.directory.ensureUser(email);
    const user = email.toLowerCase();
    c.set('userEmail', user);
    // access_type=offline yields a refresh token "the first time that your application exchanges an
    // authorization code"; later consents need prompt=consent to get a new one.
    const offline = p.get('access_type') === 'offline';
    const forceConsent = (p.get('prompt') ?? '').split(' ').includes('consent');
    const issueRefreshToken = offline && (forceConsent || !state.oauth.hasOfflineGrant(user, client.clientId));
    const code = state.oauth.issueCode({
      clientId: client.clientId, redirectUri, email: user, scope: scopes.join(' '), issueRefreshToken,
      ...(p.get('code_challenge') ? { codeChallenge: p.get('code_challenge') ?? '', codeChallengeMethod: p.get('code_challenge_method') ?? 'plain' } : {}),
      ...(p.get('nonce') ? { nonce: p.get('nonce') ?? '' } : {}),
    });
    if (stateParam !== null) back.searchParams.set('state', stateParam);
    back.searchParams.set('code', code.code);
    back.searchParams.set('scope', code.scope);
    back.searchParams.set('authuser', '0');
    back.searchParams.set('prompt', 'consent');
    return c.redirect(back.toString(), 302);
  };
  app.get('/o/oauth2/v2/auth', consent);
  app.get('/o/oauth2/auth', consent);

  const token = async (c: Context<OAuthEnv>): Promise<Response> => {
    const p = await formParams(c);
    let clientId = p.get('client_id');
    let secret = p.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        clientId = decodeURIComponent(decoded.slice(0, i));
        secret = decodeURIComponent(decoded.slice(i + 1));
      }
    }
    if (!clientId) return tokenError(400, 'invalid_request', 'Could not determine client ID from request.');
    const client = state.oauth.clients.get(clientId);
    if (!client) return tokenError(401, 'invalid_client', 'The OAuth client was not found.');
    if (secret !== client.clientSecret) return tokenError(401, 'invalid_client', 'Unauthorized');
    const ttl = state.config.accessTokenTtlSeconds;
    const grantType = p.get('grant_type') ?? '';

    if (grantType === 'authorization_code') {
      const raw = p.get('code');
      if (!raw) return tokenError(400, 'invalid_request', 'Missing required parameter: code');
      const code = state.oauth.code(raw);
      if (!code || code.used || code.clientId !== client.clientId) return tokenError(400, 'invalid_grant', 'Bad Request');
      if (p.get('redirect_uri') !== code.redirectUri) return tokenError(400, 'redirect_uri_mismatch', 'Bad Request');
      if (code.codeChallenge !== undefined) {
        const verifier = p.get('code_verifier');
        if (!verifier) return tokenError(400, 'invalid_grant', 'Missing code verifier.');
        if (!(await pkceMatches(verifier, code.codeChallenge, code.codeChallengeMethod))) return tokenError(400, 'invalid_grant', 'Invalid code verifier.');
      }
      code.used = true;
      c.set('userEmail', code.email);
      const grant = code.issueRefreshToken
        ? state.oauth.createGrant(client.clientId, code.email, code.scope, true)
        : state.oauth.latestGrant(code.email, client.clientId) ?? state.oauth.createGrant(client.clientId, code.email, code.scope, false);
      const access = state.oauth.issueAccessToken(grant, ttl);
      const out: Record<string, unknown> = { access_token: access.token, expires_in: ttl };
      if (code.issueRefreshToken && grant.refreshToken) out.refresh_token = grant.refreshToken;
      out.scope = code.scope;
      out.token_type = 'Bearer';
      if (code.scope.split(' ').includes('openid')) out.id_token = idToken(grant, client, ttl, code.nonce);
      return Response.json(out);
    }

    if (grantType === 'refresh_token') {
      const raw = p.get('refresh_token');
      if (!raw) return tokenError(400, 'invalid_request', 'Missing required parameter: refresh_token');
      const grant = state.oauth.grantByRefreshToken(raw);
      if (grant) c.set('userEmail', grant.email);
      if (!grant || grant.revoked) return tokenError(400, 'invalid_grant', 'Token has been expired or revoked.');
      if (grant.clientId !== client.clientId) return tokenError(401, 'unauthorized_client', 'Unauthorized');
      const access = state.oauth.issueAccessToken(grant, ttl);
      // The refresh response carries no refresh_token (web-server guide, "Refreshing an access token").
      const out: Record<string, unknown> = { access_token: access.token, expires_in: ttl, scope: grant.scope, token_type: 'Bearer' };
      if (grant.scope.split(' ').includes('openid')) out.id_token = idToken(grant, client, ttl);
      return Response.json(out);
    }

    return tokenError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  };
  app.post('/token', token);
  app.post('/oauth2/v4/token', token);

  const revoke = async (c: Context): Promise<Response> => {
    const p = await formParams(c);
    const t = p.get('token') ?? '';
    if (!t || !state.oauth.revokeToken(t)) return Response.json({ error: 'invalid_token', error_description: 'Token expired or revoked' }, { status: 400 });
    return Response.json({});
  };
  app.post('/revoke', revoke);
  app.get('/revoke', revoke);
  app.post('/o/oauth2/revoke', revoke);

  app.get('/oauth2/v3/userinfo', (c) => {
    const m = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    const found = m?.[1] ? state.oauth.resolveAccessToken(m[1]) : undefined;
    if (!found) return Response.json({ error: 'invalid_request', error_description: 'Invalid Credentials' }, { status: 401 });
    return Response.json({ sub: subjectFor(found.grant.email), email: found.grant.email, email_verified: true });
  });

  app.get('/tokeninfo', (c) => {
    const t = new URL(c.req.url).searchParams.get('access_token') ?? '';
    const found = state.oauth.resolveAccessToken(t);
    if (!found) return Response.json({ error: 'invalid_token', error_description: 'Invalid Value' }, { status: 400 });
    const expiresIn = Math.max(0, Math.floor((found.token.expiresAt - Date.now()) / 1000));
    return Response.json({
      azp: found.grant.clientId, aud: found.grant.clientId, sub: subjectFor(found.grant.email), scope: found.grant.scope,
      exp: String(Math.floor(found.token.expiresAt / 1000)), expires_in: String(expiresIn), email: found.grant.email,
      email_verified: 'true', access_type: found.grant.refreshToken ? 'offline' : 'online',
    });
  });

  return app;
}
