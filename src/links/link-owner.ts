// The link verbs: LINKED, REFRESHED, RESYNC and UNLINKED. Each changes links' rows and dispatches
// the owner event in one transaction; Google is only called outside it (revocation on unlink).
import { eq } from 'drizzle-orm';
import { AppError } from '../errors/index.ts';
import { encrypt, decrypt } from '../crypto/index.ts';
import { createOAuthClient, classifyGoogleError } from '../google/index.ts';
import { owners, oauthStates, ownerTombstones, type Owner as OwnerRow } from '../../schema/links.ts';
import { linksTransaction } from './transaction.ts';
import { dispatchOwnerEvent, inTransaction, runBeforeUnlink, type Ctx } from '../context/index.ts';
import { UNLINKING, UNLINKING_MS } from './access-token.ts';
import { latestTombstone, ownerRowByExternalId, type OwnerStatus } from './owners.ts';
import { identifyGrant, missingScopes, type GrantIdentity } from './grant-identity.ts';

export interface LinkResult {
  ownerId: string;
  status: OwnerStatus;
}

export interface LinkOwnerInput {
  externalOwnerId: string;
  refreshToken: string;
  /** From an OAuth code exchange: the first access token, cached at once. */
  accessToken?: string;
  accessTokenExpiresAt?: Date;
  scopes?: string;
  googleEmail?: string;
  /** Replace the grant even when it is for another Google account than the owner's. */
  force?: boolean;
}

function sameSecret(ctx: Ctx, sealed: string | null, clear: string, aad: string): boolean {
  if (!sealed) return false;
  try {
    return decrypt(ctx.keyring, sealed, aad) === clear;
  } catch {
    return false;
  }
}

/**
 * LINKED: creates the owner or re-activates it with this refresh token and dispatches 'linked'
 * (sync enqueues the calendar-list sync on it). The same LINKED again changes nothing. A grant for
 * another Google account than the owner's is refused (CONFLICT, account_mismatch) unless `force`.
 */
export async function linkOwner(ctx: Ctx, input: LinkOwnerInput): Promise<LinkResult> {
  const current = await ownerRowByExternalId(ctx.db, input.externalOwnerId);
  if (current?.status === 'active' && sameSecret(ctx, current.refreshTokenEnc, input.refreshToken, `owners.refresh_token_enc:${current.id}`)) {
    return { ownerId: current.id, status: 'active' };
  }
  const asked = await identifyGrant(ctx, input.refreshToken, {
    ...(input.accessToken ? { accessToken: input.accessToken } : {}),
    ...(input.scopes ? { scopes: input.scopes } : {}),
    quotaKey: current?.id ?? `link:${input.externalOwnerId}`,
  });
  // A code exchange brought the first access token with its expiry: cached as it came.
  const identity = asked.accessTokenExpiresAt || !input.accessTokenExpiresAt ? asked : { ...asked, accessTokenExpiresAt: input.accessTokenExpiresAt };
  const done = await linksTransaction(ctx, async (tx) => {
    const now = ctx.clock.now();
    await tx
      .insert(owners)
      .values({ externalOwnerId: input.externalOwnerId, status: 'pending', createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: owners.externalOwnerId });
    const row = (await ownerRowByExternalId(tx, input.externalOwnerId, { forUpdate: true }))!;
    if (row.status === 'active' && sameSecret(ctx, row.refreshTokenEnc, input.refreshToken, `owners.refresh_token_enc:${row.id}`)) {
      return { result: { ownerId: row.id, status: 'active' as const } };
    }
    return storeGrant(ctx, tx, row, input, identity, 'linked');
  });
  await afterGrant(ctx, done);
  return done.result;
}

/** REFRESHED: replaces the refresh token (reviving a revoked owner); unknown owner -> NOT_FOUND. */
export async function refreshOwnerToken(ctx: Ctx, input: { externalOwnerId: string; refreshToken: string; force?: boolean }): Promise<LinkResult> {
  const current = await ownerRowByExternalId(ctx.db, input.externalOwnerId);
  if (current?.status === 'active' && sameSecret(ctx, current.refreshTokenEnc, input.refreshToken, `owners.refresh_token_enc:${current.id}`)) {
    return { ownerId: current.id, status: 'active' };
  }
  const identity = current && current.status !== 'pending' ? await identifyGrant(ctx, input.refreshToken, { quotaKey: current.id }) : undefined;
  const done = await linksTransaction(ctx, async (tx) => {
    const row = await liveOwnerOrThrow(tx, ctx, input.externalOwnerId);
    if (row.status === 'active' && sameSecret(ctx, row.refreshTokenEnc, input.refreshToken, `owners.refresh_token_enc:${row.id}`)) {
      return { result: { ownerId: row.id, status: 'active' as const } };
    }
    // (Google is never called inside the transaction: an owner that appeared meanwhile is checked on the next try.)
    return storeGrant(ctx, tx, row, input, identity ?? { email: null, scopes: null }, 'refreshed');
  });
  await afterGrant(ctx, done);
  return done.result;
}

interface Stored {
  result: LinkResult;
  /** The grant of another account this one replaced (force): revoked at Google after the commit. */
  replaced?: { ownerId: string; refreshToken: string };
}

/**
 * The grant checked, then stored: the account must be the owner's (unless forced), the scopes must
 * be those calwatch needs, and a refresh token Google refuses is not shown as an active link.
 */
async function storeGrant(
  ctx: Ctx,
  tx: Parameters<typeof ownerRowByExternalId>[0],
  row: OwnerRow,
  input: { refreshToken: string; force?: boolean; googleEmail?: string; scopes?: string },
  identity: GrantIdentity,
  event: 'linked' | 'refreshed',
): Promise<Stored> {
  const known = row.status !== 'pending' && row.googleEmail ? row.googleEmail.toLowerCase() : null;
  if (known && !input.force) {
    if (identity.email === null && identity.error?.details?.reason !== 'invalid_grant') {
      throw new AppError(identity.error?.code ?? 'UPSTREAM_ERROR', `could not check which Google account this grant is for: ${identity.error?.message ?? 'no answer'}; retry`);
    }
    if (identity.email !== null && identity.email !== known) {
      throw new AppError('CONFLICT', `account_mismatch: this grant is for another Google account than owner ${row.externalOwnerId}'s; send force: true to replace it`, {
        reason: 'account_mismatch',
      });
    }
  }
  const now = ctx.clock.now();
  const dead = identity.error?.details?.reason === 'invalid_grant';
  const missing = missingScopes(ctx.config.google.access, identity.scopes);
  const problem = dead
    ? 'Google refused this refresh token (invalid_grant): link again'
    : missing.length > 0
      ? `Google granted only some of the scopes calwatch needs: missing ${missing.join(' ')} (the user unticked them on the consent screen): link again granting them`
      : null;
  const fresh = !problem && identity.accessToken && identity.accessTokenExpiresAt;
  const replacedAccount = known !== null && identity.email !== null && identity.email !== known;
  let replaced: Stored['replaced'];
  if (replacedAccount && row.refreshTokenEnc) {
    try {
      replaced = { ownerId: row.id, refreshToken: decrypt(ctx.keyring, row.refreshTokenEnc, `owners.refresh_token_enc:${row.id}`) };
    } catch {
      replaced = undefined;
    }
  }
  await tx
    .update(owners)
    .set({
      status: problem ? 'revoked' : 'active',
      refreshTokenEnc: encrypt(ctx.keyring, input.refreshToken, `owners.refresh_token_enc:${row.id}`),
      // A cached access token belongs to the previous grant: forget it.
      accessTokenEnc: fresh ? encrypt(ctx.keyring, identity.accessToken!, `owners.access_token_enc:${row.id}`) : null,
      accessTokenExpiresAt: fresh ? identity.accessTokenExpiresAt! : null,
      refreshLeaseId: null,
      refreshLeaseUntil: null,
      ...(identity.scopes !== null ? { scopes: identity.scopes } : input.scopes !== undefined ? { scopes: input.scopes } : {}),
      ...(identity.email !== null ? { googleEmail: identity.email } : input.googleEmail !== undefined ? { googleEmail: input.googleEmail } : {}),
      ...(event === 'linked' ? { linkedAt: now } : {}),
      revokedAt: problem ? now : null,
      lastError: problem,
      lastErrorAt: problem ? now : null,
      updatedAt: now,
    })
    .where(eq(owners.id, row.id));
  if (problem) return { result: { ownerId: row.id, status: 'revoked' } };
  await dispatchOwnerEvent(inTransaction(ctx, tx), { type: event, ownerId: row.id, externalOwnerId: row.externalOwnerId });
  return { result: { ownerId: row.id, status: 'active' }, ...(replaced ? { replaced } : {}) };
}

/** After the commit: the grant of the account this owner no longer uses is revoked at Google. */
async function afterGrant(ctx: Ctx, done: Stored): Promise<void> {
  if (!done.replaced) return;
  try {
    await createOAuthClient(ctx.config).revokeToken(done.replaced.refreshToken);
    ctx.log.info({ ownerId: done.replaced.ownerId }, "the replaced account's grant was revoked at Google");
  } catch (err) {
    const e = classifyGoogleError(err);
    ctx.log.warn({ ownerId: done.replaced.ownerId, code: e.code, reason: e.details?.reason }, "could not revoke the replaced account's grant at Google");
  }
}

/** RESYNC: dispatches 'resync' (sync forgets its sync tokens and enqueues the full resync). */
export async function resyncOwner(ctx: Ctx, input: { externalOwnerId: string }): Promise<LinkResult> {
  return linksTransaction(ctx, async (tx) => {
    const row = await liveOwnerOrThrow(tx, ctx, input.externalOwnerId);
    if (row.status === 'revoked') {
      throw new AppError('CONFLICT', `owner ${input.externalOwnerId} has a revoked grant: send LINKED or REFRESHED first`);
    }
    await dispatchOwnerEvent(inTransaction(ctx, tx), { type: 'resync', ownerId: row.id, externalOwnerId: row.externalOwnerId });
    return { ownerId: row.id, status: 'active' as const };
  });
}

/**
 * UNLINKED: before-unlink hooks (channels stop at Google), revocation of the grant at Google (a
 * failure is logged, never blocking), then in one transaction the 'unlinked' event, the deletion of
 * the owner (every other module's rows cascade from owners.id) and a tombstone. Safe to repeat.
 */
export async function unlinkOwner(ctx: Ctx, input: { externalOwnerId: string; keepBlockedTimes?: boolean }): Promise<LinkResult> {
  const row = await ownerRowByExternalId(ctx.db, input.externalOwnerId);
  if (!row) return alreadyUnlinked(ctx, input.externalOwnerId);

  await runBeforeUnlink(ctx, { ownerId: row.id, externalOwnerId: row.externalOwnerId });
  // From here on no caller refreshes the token: a job meeting the revocation we are about to make
  // must not mark the owner revoked (nor dispatch 'revoked') on its way out.
  await ctx.db
    .update(owners)
    .set({ refreshLeaseId: UNLINKING, refreshLeaseUntil: new Date(ctx.clock.now().getTime() + UNLINKING_MS) })
    .where(eq(owners.id, row.id));
  await revokeGrant(ctx, row);

  return linksTransaction(ctx, async (tx) => {
    const locked = await ownerRowByExternalId(tx, input.externalOwnerId, { forUpdate: true });
    if (!locked || locked.id !== row.id) return alreadyUnlinked(ctx, input.externalOwnerId);
    await dispatchOwnerEvent(inTransaction(ctx, tx), {
      type: 'unlinked',
      ownerId: row.id,
      externalOwnerId: row.externalOwnerId,
      ...(input.keepBlockedTimes !== undefined ? { keepBlockedTimes: input.keepBlockedTimes } : {}),
    });
    await tx.delete(oauthStates).where(eq(oauthStates.externalOwnerId, row.externalOwnerId));
    await tx.delete(owners).where(eq(owners.id, row.id));
    await tx.insert(ownerTombstones).values({
      formerOwnerId: row.id,
      externalOwnerId: row.externalOwnerId,
      linkedAt: row.linkedAt,
      unlinkedAt: ctx.clock.now(),
    });
    return { ownerId: row.id, status: 'unlinked' as const };
  });
}

async function alreadyUnlinked(ctx: Ctx, externalOwnerId: string): Promise<LinkResult> {
  const t = await latestTombstone(ctx.db, { externalOwnerId });
  if (!t) throw new AppError('NOT_FOUND', `no owner ${externalOwnerId}`);
  return { ownerId: t.formerOwnerId, status: 'unlinked' };
}

/** Google: revoking a refresh token revokes the whole grant (and its access tokens). */
async function revokeGrant(ctx: Ctx, row: OwnerRow): Promise<void> {
  const sealed = row.refreshTokenEnc ?? row.accessTokenEnc;
  if (!sealed) return;
  try {
    await createOAuthClient(ctx.config).revokeToken(decrypt(ctx.keyring, sealed, `owners.${row.refreshTokenEnc ? 'refresh_token_enc' : 'access_token_enc'}:${row.id}`));
    ctx.log.info({ ownerId: row.id }, 'grant revoked at Google');
  } catch (err) {
    const e = classifyGoogleError(err);
    ctx.log.warn({ ownerId: row.id, code: e.code, reason: e.details?.reason, status: e.details?.status }, 'could not revoke the grant at Google; unlinking anyway');
  }
}

async function liveOwnerOrThrow(tx: Parameters<typeof ownerRowByExternalId>[0], ctx: Ctx, externalOwnerId: string): Promise<OwnerRow> {
  const row = await ownerRowByExternalId(tx, externalOwnerId, { forUpdate: true });
  if (row && row.status !== 'pending') return row;
  const t = await latestTombstone(tx, { externalOwnerId });
  throw new AppError('NOT_FOUND', t ? `owner ${externalOwnerId} is unlinked: send LINKED` : `no owner ${externalOwnerId}`);
}
