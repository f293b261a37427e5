// The Owner type (and OwnerStatus), the owners / owner queries and the resyncOwner mutation. Other
// modules add fields to Owner through `OwnerRef` (e.g. sync's calendars) and reach an owner by id
// through `loadOwner`, both from links' face.
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { builder, loaderFor, oneBy, type AdminContext } from '../../api/index.ts';
import { findOwnerByExternalId, getOwners, listOwners, type Owner, type OwnerStatus } from '../owners.ts';
import { resyncOwner } from '../link-owner.ts';
import { AppError } from '../../errors/index.ts';

export const OwnerStatusEnum = builder.enumType('OwnerStatus', {
  values: { ACTIVE: { value: 'active' }, REVOKED: { value: 'revoked' }, UNLINKED: { value: 'unlinked' } } as const,
});

export const OwnerRef = builder.objectRef<Owner>('Owner').implement({
  description: 'A linked Google account of one external owner (never its tokens)',
  fields: (t) => ({
    id: t.exposeID('id', { description: "calwatch's owner id (a tombstone keeps the former id)" }),
    externalOwnerId: t.exposeString('externalOwnerId'),
    status: t.field({ type: OwnerStatusEnum, resolve: (o) => o.status }),
    googleEmail: t.exposeString('googleEmail', { nullable: true }),
    scopes: t.exposeString('scopes', { nullable: true }),
    linkedAt: t.expose('linkedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    unlinkedAt: t.expose('unlinkedAt', { type: 'DateTime', nullable: true }),
    lastSyncAt: t.expose('lastSyncAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'e.g. invalid_grant when Google revoked the grant' }),
    lastErrorAt: t.expose('lastErrorAt', { type: 'DateTime', nullable: true }),
  }),
});

/** The owner (or its tombstone) of this id, loaded with every other asked for in the same tick. */
export function loadOwner(ctx: AdminContext, ownerId: string): Promise<Owner | null> {
  return loaderFor<string, Owner | null>(ctx, 'links.owner', async (ids) => oneBy(ids, await getOwners(ctx.app, ids), (o) => o.id)).load(ownerId);
}

builder.queryField('owners', (t) =>
  t.connection({
    type: OwnerRef,
    args: { status: t.arg({ type: OwnerStatusEnum, required: false, description: 'UNLINKED lists tombstones; none: live owners' }) },
    resolve: (_root, args, ctx) =>
      resolveOffsetConnection({ args, defaultSize: 50, maxSize: 200 }, ({ limit, offset }) =>
        listOwners(ctx.app, { ...(args.status ? { status: args.status as OwnerStatus } : {}), limit, offset }),
      ),
  }, { name: 'OwnerConnection' }, { name: 'OwnerEdge' }),
);

builder.queryField('owner', (t) =>
  t.field({
    type: OwnerRef,
    nullable: true,
    args: { externalOwnerId: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => findOwnerByExternalId(ctx.app, args.externalOwnerId).then((o) => o ?? null),
  }),
);

builder.mutationField('resyncOwner', (t) =>
  t.field({
    type: OwnerRef,
    description: "Forget the owner's sync tokens and fully resync its calendar list and selected calendars",
    args: { externalOwnerId: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await resyncOwner(ctx.app, { externalOwnerId: args.externalOwnerId });
      const owner = await findOwnerByExternalId(ctx.app, args.externalOwnerId);
      if (!owner) throw new AppError('NOT_FOUND', `no owner ${args.externalOwnerId}`);
      return owner;
    },
  }),
);
