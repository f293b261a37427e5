// Whose grant is this? Before a refresh token is stored, calwatch asks Google once: a token refresh
// (which reports the scopes actually granted: with granular consent a user may grant only some)
// and calendarList.get('primary'), whose id is the account's email (no extra scope needed). One
// Google account per owner: a grant for another account than the owner's is refused unless forced.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { callGoogle, classifyGoogleError, createCalendarClient, createOAuthClient, scopesFor } from '../google/index.ts';
import { expiryFrom } from './access-token.ts';

export interface GrantIdentity {
  /** The account's email (its primary calendar's id); null when Google could not be asked. */
  email: string | null;
  /** Granted scopes, space-separated, as Google reported them. */
  scopes: string | null;
  accessToken?: string;
  accessTokenExpiresAt?: Date;
  /** Why the identity is unknown (Google unreachable, the grant refused). */
  error?: AppError;
}

const AUTH = 'https://www.googleapis.com/auth/';

/**
 * What each scope calwatch asks (scopesFor) may be satisfied by: the scope itself or a broader one
 * that covers the same methods (discovery's per-method scope lists).
 */
const SATISFIED_BY: Record<string, string[]> = {
  [`${AUTH}calendar.events`]: [`${AUTH}calendar`],
  [`${AUTH}calendar.events.readonly`]: [`${AUTH}calendar`, `${AUTH}calendar.readonly`, `${AUTH}calendar.events`],
  [`${AUTH}calendar.calendarlist.readonly`]: [`${AUTH}calendar`, `${AUTH}calendar.readonly`, `${AUTH}calendar.calendarlist`],
};

/** Scopes asked but not granted (with granular consent a user may untick some). */
export function missingScopes(access: 'read' | 'write', granted: string | null): string[] {
  if (granted === null) return [];
  const have = new Set(granted.split(/\s+/).filter(Boolean));
  return scopesFor(access).filter((s) => !have.has(s) && !(SATISFIED_BY[s] ?? []).some((alt) => have.has(alt)));
}

export async function identifyGrant(ctx: Ctx, refreshToken: string, known: { accessToken?: string; scopes?: string; quotaKey: string }): Promise<GrantIdentity> {
  let accessToken = known.accessToken;
  let scopes = known.scopes ?? null;
  let accessTokenExpiresAt: Date | undefined;
  try {
    if (!accessToken) {
      const client = createOAuthClient(ctx.config);
      client.setCredentials({ refresh_token: refreshToken });
      const { token, res } = await client.getAccessToken();
      if (!token) throw new AppError('UPSTREAM_ERROR', 'Google returned no access token');
      accessToken = token;
      const data = res?.data as { expires_in?: number; scope?: string } | undefined;
      scopes = data?.scope ?? (client.credentials.scope as string | undefined) ?? scopes;
      accessTokenExpiresAt = expiryFrom(ctx, data?.expires_in, client.credentials.expiry_date);
    }
    const cal = createCalendarClient(ctx.config, accessToken, () => ctx.quota.take(known.quotaKey, 'interactive'));
    const entry = await callGoogle(() => cal.calendarList.get({ calendarId: 'primary' }));
    return { email: entry.data.id?.toLowerCase() ?? null, scopes, accessToken, ...(accessTokenExpiresAt ? { accessTokenExpiresAt } : {}) };
  } catch (raw) {
    const error = classifyGoogleError(raw);
    return { email: null, scopes, ...(accessToken ? { accessToken } : {}), ...(accessTokenExpiresAt ? { accessTokenExpiresAt } : {}), error: new AppError(error.code, error.message, { ...(error.details?.reason ? { reason: error.details.reason } : {}) }) };
  }
}
