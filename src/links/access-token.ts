// Access tokens: cached sealed in `owners` with their expiry, refreshed shortly before expiry, one
// refresh at a time per owner across processes. The lock is a lease on the owner's row, taken and
// released by single statements: no transaction and no connection is held while Google answers.
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { AppError } from '../errors/index.ts';
import { decrypt, encrypt, randomToken } from '../crypto/index.ts';
import { classifyGoogleError, createOAuthClient } from '../google/index.ts';
import { owners, type Owner as OwnerRow } from '../../schema/links.ts';
import { linksTransaction } from './transaction.ts';
import { dispatchOwnerEvent, inTransaction, type Ctx } from '../context/index.ts';
import { ownerRowById } from './owners.ts';

/** Refresh when less than this remains, so that a call started now does not outlive its token. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** A lease outlives the token request's timeout (15 s): a crashed holder frees it after this. */
const LEASE_MS = 30_000;
/** How long a caller waits for another process's refresh before giving up (retryable). */
const WAIT_MS = 40_000;
/**
 * After a transient refresh failure (5xx, network) the lease is kept this long, marked as a
 * cooldown: callers get a retryable error at once instead of each asking Google in turn.
 */
const COOLDOWN_MS = 5_000;
const COOLDOWN = 'cooldown';
/** Set by UNLINKED just before it revokes the grant: no refresh (and no 'revoked') from then on. */
export const UNLINKING = 'unlinking';
export const UNLINKING_MS = 5 * 60_000;

/** Google's error without the raw HTTP exchange (its request carried the refresh token). */
const bare = (e: AppError) =>
  new AppError(e.code, e.message, {
    ...(e.details?.reason ? { reason: e.details.reason } : {}),
    ...(e.details?.status ? { status: e.details.status } : {}),
    ...(e.details?.retryAfterSeconds ? { retryAfterSeconds: e.details.retryAfterSeconds } : {}),
  });

function cachedToken(ctx: Ctx, row: OwnerRow, rejected?: string): string | undefined {
  if (!row.accessTokenEnc || !row.accessTokenExpiresAt) return undefined;
  if (row.accessTokenExpiresAt.getTime() - ctx.clock.now().getTime() <= REFRESH_MARGIN_MS) return undefined;
  let token: string;
  try {
    token = decrypt(ctx.keyring, row.accessTokenEnc, `owners.access_token_enc:${row.id}`);
  } catch (err) {
    // e.g. sealed under a key no longer configured: a refresh replaces it
    ctx.log.warn({ ownerId: row.id, err: (err as Error).message }, 'cached access token unreadable; refreshing');
    return undefined;
  }
  return token === rejected ? undefined : token;
}

function usable(ctx: Ctx, row: OwnerRow | undefined, ownerId: string): OwnerRow {
  if (!row) throw new AppError('NOT_FOUND', `owner ${ownerId} is not linked`);
  if (row.status === 'revoked') {
    throw new AppError('UPSTREAM_AUTH', `owner ${row.externalOwnerId}: Google grant revoked (${row.lastError ?? 'invalid_grant'})`, { reason: 'invalid_grant' });
  }
  if (!row.refreshTokenEnc) throw new AppError('UPSTREAM_AUTH', `owner ${row.externalOwnerId} has no refresh token`);
  return row;
}

/**
 * A valid access token for the owner. `rejected`: a token Google just answered 401 to; it is not
 * reused, and if another caller already replaced it, that newer token is used without a new refresh.
 */
export async function accessTokenFor(ctx: Ctx, ownerId: string, opts: { rejected?: string } = {}): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    const row = usable(ctx, await ownerRowById(ctx.db, ownerId), ownerId);
    if (row.refreshLeaseId === UNLINKING && row.refreshLeaseUntil && row.refreshLeaseUntil > ctx.clock.now()) {
      throw new AppError('NOT_FOUND', `owner ${row.externalOwnerId} is being unlinked`);
    }
    const cached = cachedToken(ctx, row, opts.rejected);
    if (cached) return cached;

    if (row.refreshLeaseId === COOLDOWN && row.refreshLeaseUntil && row.refreshLeaseUntil > ctx.clock.now()) {
      throw new AppError('UPSTREAM_ERROR', `token refresh of owner ${row.externalOwnerId} failed moments ago; retry later`, { retryAfterSeconds: COOLDOWN_MS / 1000 });
    }
    const lease = await takeLease(ctx, ownerId);
    if (lease) {
      // Re-read under the lease: another process may have refreshed between our read and the lease.
      let again: string | undefined;
      try {
        again = cachedToken(ctx, usable(ctx, lease.row, ownerId), opts.rejected);
      } catch (err) {
        await releaseLease(ctx, ownerId, lease.id);
        throw err;
      }
      if (again) {
        await releaseLease(ctx, ownerId, lease.id);
        return again;
      }
      return refreshUnderLease(ctx, lease.row, lease.id);
    }
    if (Date.now() > deadline) throw new AppError('UPSTREAM_ERROR', `timed out waiting for the token refresh of owner ${ownerId}`);
    // Another caller holds the lease: wait for its result rather than asking Google again.
    await Bun.sleep(Math.min(250, 20 * 2 ** Math.min(attempt, 4)) * (0.75 + Math.random() / 2));
  }
}

async function takeLease(ctx: Ctx, ownerId: string): Promise<{ id: string; row: OwnerRow } | undefined> {
  const id = randomToken(12);
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .update(owners)
    .set({ refreshLeaseId: id, refreshLeaseUntil: new Date(now.getTime() + LEASE_MS) })
    .where(and(eq(owners.id, ownerId), or(isNull(owners.refreshLeaseUntil), lt(owners.refreshLeaseUntil, now))))
    .returning();
  return row ? { id, row } : undefined;
}

async function releaseLease(ctx: Ctx, ownerId: string, leaseId: string): Promise<void> {
  await ctx.db
    .update(owners)
    .set({ refreshLeaseId: null, refreshLeaseUntil: null })
    .where(and(eq(owners.id, ownerId), eq(owners.refreshLeaseId, leaseId)));
}

async function startCooldown(ctx: Ctx, ownerId: string, leaseId: string): Promise<void> {
  await ctx.db
    .update(owners)
    .set({ refreshLeaseId: COOLDOWN, refreshLeaseUntil: new Date(ctx.clock.now().getTime() + COOLDOWN_MS) })
    .where(and(eq(owners.id, ownerId), eq(owners.refreshLeaseId, leaseId)));
}

async function refreshUnderLease(ctx: Ctx, row: OwnerRow, leaseId: string): Promise<string> {
  let refreshToken: string;
  try {
    refreshToken = decrypt(ctx.keyring, row.refreshTokenEnc!, `owners.refresh_token_enc:${row.id}`);
  } catch (err) {
    // Our configuration, not Google: no cooldown, no revocation.
    await releaseLease(ctx, row.id, leaseId);
    throw new AppError('INTERNAL', `refresh token of owner ${row.externalOwnerId} cannot be opened: ${(err as Error).message}`);
  }
  let token: string;
  let expiresAt: Date;
  try {
    const client = createOAuthClient(ctx.config);
    client.setCredentials({ refresh_token: refreshToken });
    const { token: t, res } = await client.getAccessToken();
    if (!t) throw new AppError('UPSTREAM_ERROR', 'Google returned no access token');
    token = t;
    expiresAt = expiryFrom(ctx, (res?.data as { expires_in?: number } | undefined)?.expires_in, client.credentials.expiry_date);
  } catch (raw) {
    const err = classifyGoogleError(raw);
    if (err.details?.reason === 'invalid_grant') {
      if (await markRevoked(ctx, row, leaseId, raw)) {
        throw new AppError('UPSTREAM_AUTH', `owner ${row.externalOwnerId}: Google grant revoked (invalid_grant)`, { reason: 'invalid_grant', status: err.details.status });
      }
      // LINKED / REFRESHED replaced the grant while we asked Google: the new one deserves a try.
      throw new AppError('UPSTREAM_ERROR', `owner ${row.externalOwnerId}: grant replaced during a refresh; retry`);
    }
    ctx.log.warn({ ownerId: row.id, code: err.code, reason: err.details?.reason, status: err.details?.status }, 'access token refresh failed');
    if (err.retryable) await startCooldown(ctx, row.id, leaseId);
    else await releaseLease(ctx, row.id, leaseId);
    throw bare(err);
  }
  await ctx.db
    .update(owners)
    .set({ accessTokenEnc: encrypt(ctx.keyring, token, `owners.access_token_enc:${row.id}`), accessTokenExpiresAt: expiresAt, refreshLeaseId: null, refreshLeaseUntil: null })
    .where(and(eq(owners.id, row.id), eq(owners.refreshLeaseId, leaseId)));
  ctx.log.debug({ ownerId: row.id, expiresAt }, 'access token refreshed');
  return token;
}

/** Expiry on our clock (tests move it): Google's expires_in from now, else the library's estimate. */
export function expiryFrom(ctx: Ctx, expiresIn: number | undefined, expiryDate: number | null | undefined): Date {
  const now = ctx.clock.now().getTime();
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn)) return new Date(now + expiresIn * 1000);
  if (typeof expiryDate === 'number') return new Date(now + (expiryDate - Date.now()));
  return new Date(now + 3_000_000);
}

/** invalid_grant: the grant is gone (revoked, expired, password change). Stop using it until LINKED/REFRESHED. */
async function markRevoked(ctx: Ctx, row: OwnerRow, leaseId: string, raw: unknown): Promise<boolean> {
  const description = (raw as { response?: { data?: { error_description?: string } } })?.response?.data?.error_description;
  const message = `invalid_grant${description ? `: ${description}` : ''}`.slice(0, 500);
  const revoked = await linksTransaction(ctx, async (tx) => {
    const [updated] = await tx
      .update(owners)
      .set({
        status: 'revoked',
        revokedAt: ctx.clock.now(),
        lastError: message,
        lastErrorAt: ctx.clock.now(),
        accessTokenEnc: null,
        accessTokenExpiresAt: null,
        refreshLeaseId: null,
        refreshLeaseUntil: null,
        updatedAt: ctx.clock.now(),
      })
      // Only the grant we tried: a LINKED/REFRESHED that replaced it meanwhile wins.
      .where(and(eq(owners.id, row.id), eq(owners.refreshLeaseId, leaseId), eq(owners.refreshTokenEnc, row.refreshTokenEnc!)))
      .returning({ id: owners.id });
    if (!updated) return false;
    await dispatchOwnerEvent(inTransaction(ctx, tx), { type: 'revoked', ownerId: row.id, externalOwnerId: row.externalOwnerId });
    return true;
  });
  if (revoked) ctx.log.warn({ ownerId: row.id, externalOwnerId: row.externalOwnerId }, 'Google grant revoked (invalid_grant): owner marked revoked');
  return revoked;
}
