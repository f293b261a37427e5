// The owner a booking procedure names, through links' face.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { findOwnerByExternalId, type Owner } from '../links/index.ts';

/** An owner that exists and is not unlinked (NOT_FOUND otherwise). */
export async function knownOwner(ctx: Ctx, externalOwnerId: string): Promise<Owner> {
  const owner = await findOwnerByExternalId(ctx, externalOwnerId);
  if (!owner) throw new AppError('NOT_FOUND', `no owner ${externalOwnerId}`);
  if (owner.status === 'unlinked') throw new AppError('NOT_FOUND', `owner ${externalOwnerId} is unlinked`);
  return owner;
}

/** An owner whose calendar can be written to now: a revoked grant is a CONFLICT naming the state. */
export async function activeOwner(ctx: Ctx, externalOwnerId: string): Promise<Owner> {
  const owner = await knownOwner(ctx, externalOwnerId);
  if (owner.status !== 'active') {
    throw new AppError('CONFLICT', `owner ${externalOwnerId} is ${owner.status}: Google access must be granted again (LINKED or REFRESHED) before booking`);
  }
  return owner;
}
