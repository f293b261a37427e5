// The oncall module's jobs: record a decline, run a group's swaps (one at a time per group), post
// a Slack message, and a cron that repairs what a crash or exhausted retries left behind.
import { and, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../context/index.ts';
import { defineJob } from '../jobs/index.ts';
import { oncallMessages } from '../../schema/oncall.ts';
import { DECLINED_JOB, markShiftDeclined } from './decline.ts';
import { NOTIFY_JOB, postOncallMessage } from './notify.ts';
import { groupsWithDeclinedShifts, groupsWithStaleSwaps } from './queries.ts';
import { enqueueGroupSwaps, processGroupSwaps, SWAP_JOB } from './swap.ts';

export const REPAIR_JOB = 'oncall.repair';
/** A pending message this old has lost its job (retries exhausted): it is queued again. */
const STUCK_MESSAGE_MS = 10 * 60_000;

/** Finds swaps nobody holds, declines nobody handles and messages nobody posts, and queues them. */
export async function repairOncall(ctx: Ctx): Promise<{ groups: number; messages: number }> {
  const now = ctx.clock.now();
  const groups = new Set([...(await groupsWithStaleSwaps(ctx.db, now)), ...(await groupsWithDeclinedShifts(ctx.db, now))]);
  for (const groupId of groups) await enqueueGroupSwaps(ctx, groupId);
  const stuck = await ctx.db
    .select({ id: oncallMessages.id })
    .from(oncallMessages)
    .where(and(eq(oncallMessages.state, 'pending'), lt(oncallMessages.updatedAt, new Date(now.getTime() - STUCK_MESSAGE_MS))));
  for (const m of stuck) await ctx.jobs.send(NOTIFY_JOB, { messageId: m.id }, { singletonKey: m.id });
  if (groups.size || stuck.length) ctx.log.info({ groups: groups.size, messages: stuck.length }, 'oncall repair queued work');
  return { groups: groups.size, messages: stuck.length };
}

export const oncallJobs = [
  defineJob({
    name: DECLINED_JOB,
    schema: z.object({ shiftId: z.uuid(), assigneeEmail: z.string().min(3) }),
    // Duplicate notifications collapse while one is queued; the handler is idempotent anyway.
    policy: 'short',
    retryLimit: 10,
    retryDelay: 2,
    pollDelayed: true,
    handler: (ctx, data, job) => markShiftDeclined(ctx, data, job.log),
  }),
  defineJob({
    name: SWAP_JOB,
    schema: z.object({ groupId: z.uuid() }),
    // One active per group (singletonKey = group id), one more queued: two declines in a group are
    // never decided at the same time (the decision also re-checks under the group's row lock).
    policy: 'stately',
    retryLimit: 12,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 600,
    expireInSeconds: 600,
    concurrency: 4,
    // Retries and "busy, look again in a few seconds" are deferred jobs: poll for them.
    pollDelayed: true,
    handler: async (ctx, data, job) => ({ swaps: await processGroupSwaps(ctx, data.groupId, job.log) }),
  }),
  defineJob({
    name: NOTIFY_JOB,
    schema: z.object({ messageId: z.uuid() }),
    policy: 'short',
    retryLimit: 10,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 900,
    // A 429's retry starts Retry-After seconds later: poll so that it does.
    pollDelayed: true,
    handler: async (ctx, data, job) => ({ result: await postOncallMessage(ctx, data.messageId, job) }),
  }),
  defineJob({
    name: REPAIR_JOB,
    schema: z.object({}),
    policy: 'short',
    retryLimit: 0,
    cron: '* * * * *',
    cronData: {},
    handler: (ctx) => repairOncall(ctx),
  }),
];
