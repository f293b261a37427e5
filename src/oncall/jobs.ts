// The oncall module's jobs: record a decline, run a group's swaps (one at a time per group), post
// a Slack message, and a cron that repairs what a crash or exhausted retries left behind.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

export const declinedJob = defineJob({
  name: 'oncall.declined',
  schema: z.object({ shiftId: z.uuid(), assigneeEmail: z.string().min(3) }),
  // Duplicate notifications collapse while one is queued; the handler is idempotent anyway.
  policy: 'short',
  retryLimit: 10,
  retryDelay: 2,
  pollDelayed: true,
  handler: async () => {
    const { markShiftDeclined } = await import('./decline.ts');
    return (ctx, data, job) => markShiftDeclined(ctx, data, job.log);
  },
});

export const swapJob = defineJob({
  name: 'oncall.swap',
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
  handler: async () => {
    const { processGroupSwaps } = await import('./swap.ts');
    return async (ctx, data, job) => ({ swaps: await processGroupSwaps(ctx, data.groupId, job.log) });
  },
});

export const notifyJob = defineJob({
  name: 'oncall.notify',
  schema: z.object({ messageId: z.uuid() }),
  policy: 'short',
  retryLimit: 10,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 900,
  // A 429's retry starts Retry-After seconds later: poll so that it does.
  pollDelayed: true,
  handler: async () => {
    const { postOncallMessage } = await import('./notify.ts');
    return async (ctx, data, job) => ({ result: await postOncallMessage(ctx, data.messageId, job) });
  },
});

export const repairJob = defineJob({
  name: 'oncall.repair',
  schema: z.object({}),
  policy: 'short',
  retryLimit: 0,
  cron: '* * * * *',
  cronData: {},
  handler: () => import('./repair.ts').then((m) => m.repairOncall),
});

export const oncallJobs = [declinedJob, swapJob, notifyJob, repairJob];
