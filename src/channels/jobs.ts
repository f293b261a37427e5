// The channels module's queues. Creation and renewal are keyed (stately: one queued + one running
// per key), so repeated requests collapse; Google's transient errors are retried with backoff.
// Handlers load on first use: the verbs that send these jobs import this file.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

export const createChannelJob = defineJob({
  name: 'channels.create',
  // attempt: 403/404 refusals so far (the watch retry, create.ts).
  schema: z.object({ ownerId: z.uuid(), calendarRowId: z.uuid().nullable(), reason: z.string().optional(), attempt: z.number().int().min(0).max(100).optional() }),
  policy: 'stately',
  // A watch retry (create.ts) is deferred and may be sent by another process: started on time.
  pollDelayed: true,
  retryLimit: 6,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 1800,
  concurrency: 4,
  handler: async () => {
    const { createChannel } = await import('./create.ts');
    return async (ctx, data) => ({ outcome: (await createChannel(ctx, data)).outcome });
  },
});

export const renewChannelJob = defineJob({
  name: 'channels.renew',
  schema: z.object({ channelId: z.uuid() }),
  policy: 'stately',
  // Delayed (expiry minus margin): must start when due, not at the next 30 s notify-mode poll.
  pollDelayed: true,
  retryLimit: 6,
  retryDelay: 10,
  retryBackoff: true,
  retryDelayMax: 1800,
  concurrency: 4,
  handler: async () => {
    const { renewChannel } = await import('./renew.ts');
    return async (ctx, data) => ({ outcome: (await renewChannel(ctx, data.channelId)).outcome });
  },
});

export const stopChannelJob = defineJob({
  name: 'channels.stop',
  schema: z.object({ channelId: z.uuid(), ownerId: z.uuid(), resourceId: z.string().min(1) }),
  retryLimit: 5,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 900,
  concurrency: 4,
  handler: async () => {
    const { runStopJob } = await import('./stop.ts');
    return async (ctx, data) => ({ result: await runStopJob(ctx, data) });
  },
});

export const ensureOwnerChannelsJob = defineJob({
  name: 'channels.ensureOwner',
  schema: z.object({ ownerId: z.uuid() }),
  policy: 'stately',
  retryLimit: 4,
  retryDelay: 10,
  handler: async () => {
    const { backfillChannels } = await import('./backfill.ts');
    return async (ctx, data) => {
      const r = await backfillChannels(ctx, { ownerId: data.ownerId, concurrency: 2 });
      return { created: r.created, skipped: r.skipped, failed: r.failed };
    };
  },
});

export const sweepChannelsJob = defineJob({
  name: 'channels.sweep',
  schema: z.object({}).passthrough(),
  policy: 'stately',
  retryLimit: 1,
  cron: '* * * * *',
  cronData: {},
  handler: () => import('./renew.ts').then((m) => m.sweepChannels),
});

export const drainSyncRequestsJob = defineJob({
  // The webhook drains its outbox itself right after each note; this catches what a process that
  // died in between left behind.
  name: 'channels.drain',
  schema: z.object({}).passthrough(),
  policy: 'stately',
  retryLimit: 1,
  cron: '* * * * *',
  cronData: {},
  handler: async () => {
    const [{ drainAllSyncRequests }, { runtimeFor }] = await Promise.all([import('./drain-sync-requests.ts'), import('./runtime.ts')]);
    return async (ctx) => ({ drained: await drainAllSyncRequests(ctx, runtimeFor(ctx).holds) });
  },
});

export const pushRecheckJob = defineJob({
  // A notification whose sync found nothing: one more sync later (push-recheck.ts). Deferred, so
  // polled on time in any process; one waiting per calendar.
  name: 'channels.pushRecheck',
  schema: z.object({ calendarRowId: z.uuid() }),
  policy: 'short',
  pollDelayed: true,
  retryLimit: 3,
  retryDelay: 5,
  concurrency: 4,
  handler: async () => {
    const { recheckAfterPush } = await import('./push-recheck.ts');
    return async (ctx, data) => ({ outcome: await recheckAfterPush(ctx, data.calendarRowId) });
  },
});

export const silentSweepJob = defineJob({
  name: 'channels.silentSweep',
  schema: z.object({}).passthrough(),
  policy: 'stately',
  retryLimit: 1,
  cron: '*/5 * * * *',
  cronData: {},
  handler: () => import('./silent-channels.ts').then((m) => m.syncSilentCalendars),
});

export const channelsJobs = [
  createChannelJob,
  renewChannelJob,
  stopChannelJob,
  ensureOwnerChannelsJob,
  sweepChannelsJob,
  drainSyncRequestsJob,
  pushRecheckJob,
  silentSweepJob,
];
