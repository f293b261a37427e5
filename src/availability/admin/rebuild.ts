// The AvailabilityRebuild type: rebuild runs (progress of re-deriving owners' blocked times
// after a rules change, or when asked) and the mutation starting one in the background.
import { builder } from '../../api/index.ts';
import { loadOwner } from '../../links/index.ts';
import { listRebuilds, startRebuild, type RebuildRun } from '../rebuild-owners.ts';

const AvailabilityRebuildRef = builder.objectRef<RebuildRun>('AvailabilityRebuild').implement({
  description: "A run re-deriving owners' blocked times from their stored sources (owners in id order, one at a time)",
  fields: (t) => ({
    id: t.exposeID('id'),
    reason: t.exposeString('reason', { description: 'rules (a new rules version, started at boot) | manual (CLI or rebuildAvailability)' }),
    rulesVersion: t.exposeInt('rulesVersion'),
    externalOwnerId: t.string({
      nullable: true,
      description: 'The one owner rebuilt; null: every owner with blocked-time sources',
      resolve: async (run, _args, ctx) => (run.ownerId ? ((await loadOwner(ctx, run.ownerId))?.externalOwnerId ?? null) : null),
    }),
    total: t.exposeInt('total', { description: 'Owners to rebuild (owners unlinked meanwhile drop out when it finishes)' }),
    done: t.exposeInt('done'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'The last failure (the job retries from the owner it failed on)' }),
  }),
});

builder.queryField('availabilityRebuilds', (t) =>
  t.field({
    type: [AvailabilityRebuildRef],
    description: 'Rebuild runs of blocked times, newest first',
    args: { limit: t.arg.int({ required: false, defaultValue: 10 }) },
    resolve: (_root, args, ctx) => listRebuilds(ctx.app, { limit: Math.min(Math.max(args.limit ?? 10, 1), 100) }),
  }),
);

builder.mutationField('rebuildAvailability', (t) =>
  t.field({
    type: AvailabilityRebuildRef,
    description: "Re-derive the blocked times of every owner (or one) in the background; follow it in availabilityRebuilds",
    args: { externalOwnerId: t.arg.string({ required: false }) },
    resolve: (_root, args, ctx) =>
      startRebuild(ctx.app, { background: true, ...(args.externalOwnerId ? { externalOwnerId: args.externalOwnerId } : {}) }),
  }),
);
