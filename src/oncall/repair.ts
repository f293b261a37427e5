// The oncall.repair cron (jobs.ts): what a crash or exhausted retries left behind is queued again.
import { and, eq, lt } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { oncallMessages } from '../../schema/oncall.ts';
import { notifyJob } from './jobs.ts';
import { groupsWithDeclinedShifts, groupsWithStaleSwaps } from './queries.ts';
import { enqueueGroupSwaps } from './swap.ts';

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
  for (const m of stuck) await notifyJob.send(ctx, { messageId: m.id }, { singletonKey: m.id });
  if (groups.size || stuck.length) ctx.log.info({ groups: groups.size, messages: stuck.length }, 'oncall repair queued work');
  return { groups: groups.size, messages: stuck.length };
}
