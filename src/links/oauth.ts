// OAuth for frontends: a ticket (service token) that one browser may use once to start; start (a
// consent URL with a random state, stored hashed, single use, 10 minutes, and a PKCE S256 challenge
// whose verifier is stored sealed with the state) and finish (state check, code exchange with the
// verifier, then exactly what LINKED does).
import { randomUUID } from 'node:crypto';
import { and, count, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { decrypt, encrypt, hashSecret, randomToken, sealedAt } from '../crypto/index.ts';
import { classifyGoogleError, createOAuthClient, scopesFor } from '../google/index.ts';
import { oauthStates, oauthTickets } from '../../schema/links.ts';
import { expiryFrom } from './access-token.ts';
import { linkOwner } from './link-owner.ts';

export const STATE_TTL_MS = 10 * 60_000;
export const TICKET_TTL_MS = 10 * 60_000;
/**
 * At most this many live (unexpired, unused) states or tickets: starts need a ticket, so only the
 * service token can make them, but nothing may grow without bound. Expired ones are swept.
 */
export const MAX_PENDING = 10_000;

/** Where browsers reach this service: PUBLIC_URL, else the origin of GOOGLE_REDIRECT_URI. */
function publicBase(config: Config): string {
  return (config.publicUrl ?? new URL(config.google.redirectUri).origin).replace(/\/+$/, '');
}

export interface TicketInput {
  externalOwnerId: string;
  returnTo?: string;
  loginHint?: string;
}

/**
 * `oauth.ticket`: a single-use link, valid 10 minutes, that starts OAuth for this owner in whichever
 * browser follows it. The service that asks (with the service token) decides whose link it is:
 * GET /oauth/google/start takes nothing else.
 */
export async function createTicket(ctx: Ctx, input: TicketInput): Promise<{ url: string; expiresAt: Date }> {
  checkReturnTo(ctx.config, input.returnTo);
  const now = ctx.clock.now();
  await ctx.db.delete(oauthTickets).where(lt(oauthTickets.expiresAt, new Date(now.getTime() - 24 * 3600_000)));
  const [live] = await ctx.db.select({ n: count() }).from(oauthTickets).where(and(gt(oauthTickets.expiresAt, now), isNull(oauthTickets.usedAt)));
  if ((live?.n ?? 0) >= MAX_PENDING) throw new AppError('CONFLICT', `more than ${MAX_PENDING} OAuth tickets pending: try again later`);
  const ticket = randomToken(32);
  const expiresAt = new Date(now.getTime() + TICKET_TTL_MS);
  await ctx.db.insert(oauthTickets).values({
    ticketHash: hashSecret(ticket),
    externalOwnerId: input.externalOwnerId,
    returnTo: input.returnTo ?? null,
    loginHint: input.loginHint ?? null,
    expiresAt,
    createdAt: now,
  });
  return { url: `${publicBase(ctx.config)}/oauth/google/start?ticket=${encodeURIComponent(ticket)}`, expiresAt };
}

/** Spends a ticket (single use). Anything but a live ticket is UNAUTHENTICATED. */
export async function consumeTicket(ctx: Ctx, ticket: string): Promise<TicketInput> {
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .update(oauthTickets)
    .set({ usedAt: now })
    .where(and(eq(oauthTickets.ticketHash, hashSecret(ticket)), isNull(oauthTickets.usedAt), gt(oauthTickets.expiresAt, now)))
    .returning();
  if (!row) throw new AppError('UNAUTHENTICATED', 'a valid OAuth ticket is required (oauth.ticket): unknown, used or expired');
  return { externalOwnerId: row.externalOwnerId, ...(row.returnTo ? { returnTo: row.returnTo } : {}), ...(row.loginHint ? { loginHint: row.loginHint } : {}) };
}

function checkReturnTo(config: Config, returnTo: string | undefined): void {
  if (returnTo !== undefined && !isAllowedReturnTo(config, returnTo)) {
    throw new AppError('VALIDATION', 'returnTo must be an absolute URL on an origin listed in OAUTH_RETURN_ORIGINS');
  }
}

/** An absolute http(s) URL whose origin is configured in OAUTH_RETURN_ORIGINS; anything else is refused. */
export function isAllowedReturnTo(config: Config, value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username || url.password) return false;
  return config.oauthReturnOrigins.some((o) => {
    try {
      return new URL(o).origin === url.origin;
    } catch {
      return false;
    }
  });
}

export interface StartOAuthInput {
  externalOwnerId: string;
  returnTo?: string;
  loginHint?: string;
  /** Frontends that take Google's redirect themselves; must be an allowed origin (and registered at Google). */
  redirectUri?: string;
}

export async function startOAuth(ctx: Ctx, input: StartOAuthInput): Promise<{ url: string; state: string; expiresAt: Date }> {
  checkReturnTo(ctx.config, input.returnTo);
  const redirectUri = input.redirectUri ?? ctx.config.google.redirectUri;
  if (redirectUri !== ctx.config.google.redirectUri && !isAllowedReturnTo(ctx.config, redirectUri)) {
    throw new AppError('VALIDATION', 'redirectUri must be GOOGLE_REDIRECT_URI or on an origin listed in OAUTH_RETURN_ORIGINS');
  }
  const state = randomToken(32);
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + STATE_TTL_MS);
  // Expired states are worthless: sweep them here rather than in a job (a day late, so that a late
  // callback still hears "expired" rather than "unknown").
  await ctx.db.delete(oauthStates).where(lt(oauthStates.expiresAt, new Date(now.getTime() - 24 * 3600_000)));
  const [live] = await ctx.db.select({ n: count() }).from(oauthStates).where(and(gt(oauthStates.expiresAt, now), isNull(oauthStates.usedAt)));
  if ((live?.n ?? 0) >= MAX_PENDING) throw new AppError('CONFLICT', `more than ${MAX_PENDING} OAuth flows pending: try again later`);
  const client = createOAuthClient(ctx.config);
  // PKCE (RFC 7636, S256) on every flow: a code intercepted on its way back is useless without the
  // verifier, which never leaves this service.
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const id = randomUUID();
  await ctx.db.insert(oauthStates).values({
    id,
    verifierEnc: encrypt(ctx.keyring, codeVerifier, sealedAt('oauth_states', 'verifier_enc', id)),
    stateHash: hashSecret(state),
    externalOwnerId: input.externalOwnerId,
    returnTo: input.returnTo ?? null,
    redirectUri,
    expiresAt,
    createdAt: now,
  });
  const url = client.generateAuthUrl({
    code_challenge_method: 'S256' as never,
    code_challenge: codeChallenge!,
    // offline: a refresh token; consent: a new one even if the user consented before (web-server guide).
    access_type: 'offline',
    prompt: 'consent',
    scope: scopesFor(ctx.config.google.access),
    state,
    redirect_uri: redirectUri,
    ...(input.loginHint ? { login_hint: input.loginHint } : {}),
  });
  return { url, state, expiresAt };
}

export interface ConsumedState {
  externalOwnerId: string;
  returnTo: string | null;
  redirectUri: string;
  codeVerifier: string | null;
}

/** Marks the state used (single use) and returns what start stored; a clear 400 for every bad state. */
export async function consumeOAuthState(ctx: Ctx, state: string): Promise<ConsumedState> {
  const now = ctx.clock.now();
  const hash = hashSecret(state);
  const [row] = await ctx.db
    .update(oauthStates)
    .set({ usedAt: now })
    .where(and(eq(oauthStates.stateHash, hash), isNull(oauthStates.usedAt), gt(oauthStates.expiresAt, now)))
    .returning();
  if (row) {
    const codeVerifier = row.verifierEnc ? decrypt(ctx.keyring, row.verifierEnc, sealedAt('oauth_states', 'verifier_enc', row.id)) : null;
    return { externalOwnerId: row.externalOwnerId, returnTo: row.returnTo, redirectUri: row.redirectUri, codeVerifier };
  }
  const [known] = await ctx.db.select().from(oauthStates).where(eq(oauthStates.stateHash, hash));
  if (!known) throw new AppError('VALIDATION', 'unknown OAuth state: start again');
  if (known.usedAt) throw new AppError('VALIDATION', 'OAuth state already used: start again');
  throw new AppError('VALIDATION', 'OAuth state expired (10 minutes): start again');
}

/** Exchanges the code and links the owner exactly as LINKED does (same verb, same 'linked' event). */
export async function finishOAuth(
  ctx: Ctx,
  input: { code: string; state: string; expectedExternalOwnerId?: string; force?: boolean },
): Promise<{ externalOwnerId: string; ownerId: string; returnTo: string | null }> {
  if (input.expectedExternalOwnerId !== undefined) {
    // Before anything is spent or exchanged: a frontend finishing another owner's flow (link CSRF).
    const [pending] = await ctx.db.select({ externalOwnerId: oauthStates.externalOwnerId }).from(oauthStates).where(eq(oauthStates.stateHash, hashSecret(input.state)));
    if (pending && pending.externalOwnerId !== input.expectedExternalOwnerId) {
      throw new AppError('CONFLICT', 'this OAuth flow was started for another owner than expectedExternalOwnerId');
    }
  }
  const consumed = await consumeOAuthState(ctx, input.state);
  const client = createOAuthClient(ctx.config);
  let tokens: { access_token?: string | null; refresh_token?: string | null; scope?: string; expiry_date?: number | null };
  let expiresIn: number | undefined;
  try {
    const r = await client.getToken({ code: input.code, redirect_uri: consumed.redirectUri, ...(consumed.codeVerifier ? { codeVerifier: consumed.codeVerifier } : {}) });
    tokens = r.tokens;
    expiresIn = (r.res?.data as { expires_in?: number } | undefined)?.expires_in;
  } catch (raw) {
    const err = classifyGoogleError(raw);
    if (err.details?.reason === 'invalid_grant') throw new AppError('VALIDATION', 'authorization code invalid, used or expired: start again');
    // without the raw exchange: its request carried the code and the client secret
    throw new AppError(err.code, err.message, { ...(err.details?.reason ? { reason: err.details.reason } : {}), ...(err.details?.status ? { status: err.details.status } : {}) });
  }
  if (!tokens.refresh_token) {
    throw new AppError('UPSTREAM_AUTH', 'Google returned no refresh token (consent without access_type=offline?)');
  }
  const linked = await linkOwner(ctx, {
    externalOwnerId: consumed.externalOwnerId,
    refreshToken: tokens.refresh_token,
    ...(tokens.access_token ? { accessToken: tokens.access_token, accessTokenExpiresAt: expiryFrom(ctx, expiresIn, tokens.expiry_date) } : {}),
    ...(tokens.scope ? { scopes: tokens.scope } : {}),
    ...(input.force ? { force: true } : {}),
  }).catch((err) => {
    // The browser goes back to returnTo with the reason (account_mismatch): carry it along.
    if (err instanceof AppError) throw new AppError(err.code, err.message, { ...(err.details ?? {}), returnTo: consumed.returnTo });
    throw err;
  });
  return { externalOwnerId: consumed.externalOwnerId, ownerId: linked.ownerId, returnTo: consumed.returnTo };
}

/** Google refused (error=access_denied...): the state is spent, nothing else is stored. */
export async function abandonOAuth(ctx: Ctx, state: string): Promise<ConsumedState> {
  return consumeOAuthState(ctx, state);
}
