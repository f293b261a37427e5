// The owner behind an externalOwnerId, for the procedures (through links' face).
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { findOwnerByExternalId } from '../links/index.ts';

/** A linked owner (active or revoked: a revoked owner's mirror stays readable); NOT_FOUND otherwise. */
export async function requireOwnerId(ctx: Ctx, externalOwnerId: string): Promise<string> {
  const owner = await findOwnerByExternalId(ctx, externalOwnerId);
  if (!owner || owner.status === 'unlinked') throw new AppError('NOT_FOUND', `no linked owner ${externalOwnerId}`);
  return owner.id;
}
