// The plumbing check: version, database kind and queues, over tRPC and GraphQL alike.
import { builder } from './graphql-builder.ts';
import { router, serviceProcedure } from './trpc.ts';
import type { Ctx } from '../context/index.ts';

export const systemInfo = (ctx: Ctx) => ({
  version: ctx.runtime.version,
  database: ctx.runtime.dbKind,
  queues: ctx.jobs.queueNames,
});

export const systemRouter = router({
  info: serviceProcedure.query(({ ctx }) => systemInfo(ctx.app)),
});

const SystemInfo = builder.objectRef<ReturnType<typeof systemInfo>>('SystemInfo').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    database: t.exposeString('database', { description: 'postgres or embedded' }),
    queues: t.exposeStringList('queues'),
  }),
});

builder.queryField('system', (t) => t.field({ type: SystemInfo, resolve: (_root, _args, ctx) => systemInfo(ctx.app) }));
