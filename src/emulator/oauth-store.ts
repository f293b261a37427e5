// OAuth clients, grants (a user's consent to a client; holds the refresh token), authorization codes and
// access tokens. Behaviour from https://developers.google.com/identity/protocols/oauth2/web-server.

import { randomToken } from './ids.ts';

export const DEFAULT_CLIENT_ID = 'calwatch-dev';
export const DEFAULT_CLIENT_SECRET = 'calwatch-dev-secret';
export const DEFAULT_SCOPE = 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar';

/** Authorization codes live 10 minutes, like Google's. */
const CODE_TTL_MS = 10 * 60_000;

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** The default client accepts any loopback redirect URI (http://127.0.0.1:*, http://localhost:*). */
  anyLoopback: boolean;
}

export interface Grant {
  id: string;
  clientId: string;
  email: string;
  scope: string;
  refreshToken?: string;
  revoked: boolean;
  createdAt: string;
}

export interface AccessToken {
  token: string;
  grantId: string;
  expiresAt: number;
}

export interface AuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  email: string;
  scope: string;
  issueRefreshToken: boolean;
  expiresAt: number;
  used: boolean;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  nonce?: string;
}

export function isLoopbackRedirect(uri: string): boolean {
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

export class OAuthStore {
  readonly clients = new Map<string, OAuthClient>();
  readonly grants = new Map<string, Grant>();
  private readonly byRefresh = new Map<string, Grant>();
  private readonly access = new Map<string, AccessToken>();
  private readonly codes = new Map<string, AuthCode>();

  constructor() {
    this.clients.set(DEFAULT_CLIENT_ID, {
      clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET, redirectUris: [], anyLoopback: true,
    });
  }

  registerClient(c: { clientId: string; clientSecret: string; redirectUris: string[] }): OAuthClient {
    const client: OAuthClient = { ...c, anyLoopback: false };
    this.clients.set(c.clientId, client);
    return client;
  }

  redirectAllowed(client: OAuthClient, uri: string): boolean {
    return client.redirectUris.includes(uri) || (client.anyLoopback && isLoopbackRedirect(uri));
  }

  /** Whether the user already has a live grant with a refresh token for this client. */
  hasOfflineGrant(email: string, clientId: string): boolean {
    for (const g of this.grants.values()) if (g.email === email && g.clientId === clientId && g.refreshToken && !g.revoked) return true;
    return false;
  }

  latestGrant(email: string, clientId: string): Grant | undefined {
    let found: Grant | undefined;
    for (const g of this.grants.values()) if (g.email === email && g.clientId === clientId && !g.revoked) found = g;
    return found;
  }

  createGrant(clientId: string, email: string, scope: string, withRefreshToken: boolean): Grant {
    const g: Grant = { id: randomToken(9), clientId, email, scope, revoked: false, createdAt: new Date().toISOString() };
    if (withRefreshToken) {
      g.refreshToken = `1//emu-${randomToken(32)}`;
      this.byRefresh.set(g.refreshToken, g);
    }
    this.grants.set(g.id, g);
    return g;
  }

  grantByRefreshToken(token: string): Grant | undefined {
    return this.byRefresh.get(token);
  }

  issueCode(c: Omit<AuthCode, 'code' | 'expiresAt' | 'used'>): AuthCode {
    const code: AuthCode = { ...c, code: `4/emu-${randomToken(24)}`, expiresAt: Date.now() + CODE_TTL_MS, used: false };
    this.codes.set(code.code, code);
    return code;
  }

  code(code: string): AuthCode | undefined {
    const c = this.codes.get(code);
    if (c && c.expiresAt <= Date.now()) {
      this.codes.delete(code);
      return undefined;
    }
    return c;
  }

  issueAccessToken(grant: Grant, ttlSeconds: number): AccessToken {
    if (this.access.size > 20_000) {
      const now = Date.now();
      for (const [k, t] of this.access) if (t.expiresAt <= now) this.access.delete(k);
    }
    const t: AccessToken = { token: `ya29.emu-${randomToken(32)}`, grantId: grant.id, expiresAt: Date.now() + ttlSeconds * 1000 };
    this.access.set(t.token, t);
    return t;
  }

  /** The live grant behind an access token, or undefined for unknown, expired or revoked tokens. */
  resolveAccessToken(token: string): { grant: Grant; token: AccessToken } | undefined {
    const t = this.access.get(token);
    if (!t || t.expiresAt <= Date.now()) return undefined;
    const grant = this.grants.get(t.grantId);
    if (!grant || grant.revoked) return undefined;
    return { grant, token: t };
  }

  /**
   * Revokes the grant behind an access or refresh token. Google: "If the token is an access token and it has a
   * corresponding refresh token, the refresh token will also be revoked."
   */
  revokeToken(token: string): boolean {
    const grant = this.byRefresh.get(token) ?? this.grants.get(this.access.get(token)?.grantId ?? '');
    if (!grant || grant.revoked) return false;
    grant.revoked = true;
    return true;
  }

  /** Revokes every grant of a user (the user removing the app's access in their Google account). */
  revokeUser(email: string): number {
    let n = 0;
    for (const g of this.grants.values()) {
      if (g.email === email && !g.revoked) {
        g.revoked = true;
        n++;
      }
    }
    return n;
  }

  /** Makes every current access token expired, so that clients must refresh. */
  expireAccessTokens(email?: string): number {
    let n = 0;
    for (const t of this.access.values()) {
      if (email && this.grants.get(t.grantId)?.email !== email) continue;
      if (t.expiresAt > Date.now()) {
        t.expiresAt = Date.now();
        n++;
      }
    }
    return n;
  }
}
