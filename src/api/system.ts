// The plumbing check: version, database kind and queues, over tRPC and GraphQL alike.
import { builder } from './graphql-builder.ts';
import { router, serviceProcedure } from './trpc.ts';
import type { Ctx } from '../context/index.ts';

export const systemInfo = async (ctx: Ctx) => {
  const quota = await ctx.quota.status();
  const pausedUntil = quota.project?.pausedUntil && quota.project.pausedUntil > new Date() ? quota.project.pausedUntil : null;
  return {
    version: ctx.runtime.version,
    database: ctx.runtime.dbKind,
    queues: ctx.jobs.queueNames,
    quota: {
      projectPerMinute: quota.projectPerMinute,
      userPerMinute: quota.userPerMinute,
      /** Set while Google's daily limit (quotaExceeded) holds the project's budget. */
      pausedUntil: pausedUntil?.toISOString() ?? null,
      pausedReason: pausedUntil ? quota.project?.pausedReason ?? null : null,
      pausedUsers: quota.pausedUsers.length,
    },
  };
};

type SystemInfo = Awaited<ReturnType<typeof systemInfo>>;

export const systemRouter = router({
  info: serviceProcedure.query(({ ctx }) => systemInfo(ctx.app)),
});

const GoogleQuotaRef = builder.objectRef<SystemInfo['quota']>('GoogleQuota').implement({
  description: "Google's per-minute budgets as calwatch keeps them (GOOGLE_QUOTA_PER_MINUTE, GOOGLE_USER_QUOTA_PER_MINUTE)",
  fields: (t) => ({
    projectPerMinute: t.exposeInt('projectPerMinute'),
    userPerMinute: t.exposeInt('userPerMinute'),
    pausedUntil: t.exposeString('pausedUntil', { nullable: true, description: 'Set while a daily limit (quotaExceeded) pauses the project budget' }),
    pausedReason: t.exposeString('pausedReason', { nullable: true }),
    pausedUsers: t.exposeInt('pausedUsers', { description: 'User budgets paused by a daily limit' }),
  }),
});

const SystemInfoRef = builder.objectRef<SystemInfo>('SystemInfo').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    database: t.exposeString('database', { description: 'postgres or embedded' }),
    queues: t.exposeStringList('queues'),
    quota: t.field({ type: GoogleQuotaRef, resolve: (s) => s.quota }),
  }),
});

builder.queryField('system', (t) => t.field({ type: SystemInfoRef, resolve: (_root, _args, ctx) => systemInfo(ctx.app) }));
