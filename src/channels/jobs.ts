// The channels module's queues. Creation and renewal are keyed (stately: one queued + one running
// per key), so repeated requests collapse; Google's transient errors are retried with backoff.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { createChannel } from './create.ts';
import { renewChannel, sweepChannels } from './renew.ts';
import { runStopJob } from './stop.ts';
import { backfillChannels } from './backfill.ts';
import { CREATE_JOB, DRAIN_JOB, ENSURE_OWNER_JOB, RECHECK_JOB, RENEW_JOB, SILENT_JOB, STOP_JOB, SWEEP_JOB } from './job-names.ts';
import { recheckAfterPush } from './push-recheck.ts';
import { syncSilentCalendars } from './silent-channels.ts';
import { drainAllSyncRequests } from './drain-sync-requests.ts';
import { runtimeFor } from './runtime.ts';

export const channelsJobs = [
  defineJob({
    name: CREATE_JOB,
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
    handler: async (ctx, data) => ({ outcome: (await createChannel(ctx, data)).outcome }),
  }),
  defineJob({
    name: RENEW_JOB,
    schema: z.object({ channelId: z.uuid() }),
    policy: 'stately',
    // Delayed (expiry minus margin): must start when due, not at the next 30 s notify-mode poll.
    pollDelayed: true,
    retryLimit: 6,
    retryDelay: 10,
    retryBackoff: true,
    retryDelayMax: 1800,
    concurrency: 4,
    handler: async (ctx, data) => ({ outcome: (await renewChannel(ctx, data.channelId)).outcome }),
  }),
  defineJob({
    name: STOP_JOB,
    schema: z.object({ channelId: z.uuid(), ownerId: z.uuid(), resourceId: z.string().min(1) }),
    retryLimit: 5,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 900,
    concurrency: 4,
    handler: async (ctx, data) => ({ result: await runStopJob(ctx, data) }),
  }),
  defineJob({
    name: ENSURE_OWNER_JOB,
    schema: z.object({ ownerId: z.uuid() }),
    policy: 'stately',
    retryLimit: 4,
    retryDelay: 10,
    handler: async (ctx, data) => {
      const r = await backfillChannels(ctx, { ownerId: data.ownerId, concurrency: 2 });
      return { created: r.created, skipped: r.skipped, failed: r.failed };
    },
  }),
  defineJob({
    name: SWEEP_JOB,
    schema: z.object({}).passthrough(),
    policy: 'stately',
    retryLimit: 1,
    cron: '* * * * *',
    cronData: {},
    handler: async (ctx) => sweepChannels(ctx),
  }),
  defineJob({
    // The webhook drains its outbox itself right after each note; this catches what a process that
    // died in between left behind.
    name: DRAIN_JOB,
    schema: z.object({}).passthrough(),
    policy: 'stately',
    retryLimit: 1,
    cron: '* * * * *',
    cronData: {},
    handler: async (ctx) => ({ drained: await drainAllSyncRequests(ctx, runtimeFor(ctx).holds) }),
  }),
  defineJob({
    // A notification whose sync found nothing: one more sync later (push-recheck.ts). Deferred, so
    // polled on time in any process; one waiting per calendar.
    name: RECHECK_JOB,
    schema: z.object({ calendarRowId: z.uuid() }),
    policy: 'short',
    pollDelayed: true,
    retryLimit: 3,
    retryDelay: 5,
    concurrency: 4,
    handler: async (ctx, data) => ({ outcome: await recheckAfterPush(ctx, data.calendarRowId) }),
  }),
  defineJob({
    name: SILENT_JOB,
    schema: z.object({}).passthrough(),
    policy: 'stately',
    retryLimit: 1,
    cron: '*/5 * * * *',
    cronData: {},
    handler: async (ctx) => syncSilentCalendars(ctx),
  }),
];
