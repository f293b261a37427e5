// Jobs of availability: the daily move of the rolling horizon; rebuild runs (rules changed, or asked).
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { extendHorizon } from './extend-horizon.ts';
import { enqueueRebuild, processRebuild, REBUILD_JOB } from './rebuild-owners.ts';

/** A rebuild job works this long, then queues its own continuation (no job outlives its expiry). */
const REBUILD_SLICE_MS = 60_000;

export const EXTEND_HORIZON_JOB = 'availability.extendHorizon';

export const availabilityJobs = [
  defineJob({
    name: EXTEND_HORIZON_JOB,
    schema: z.object({}),
    // One queued and one running at most: a cron tick while a run is queued adds nothing.
    policy: 'stately',
    // Every day at 00:07 UTC: the new day enters the horizon soon after it starts.
    cron: '7 0 * * *',
    cronData: {},
    retryLimit: 5,
    retryDelay: 60,
    expireInSeconds: 3600,
    concurrency: 1,
    handler: (ctx) => extendHorizon(ctx),
  }),
  defineJob({
    name: REBUILD_JOB,
    schema: z.object({ rebuildId: z.uuid() }),
    // Per run (singletonKey): one slice running, its continuation queued.
    policy: 'stately',
    retryLimit: 10,
    retryDelay: 30,
    retryBackoff: true,
    expireInSeconds: 900,
    concurrency: 1,
    handler: async (ctx, data) => {
      const p = await processRebuild(ctx, data.rebuildId, { budgetMs: REBUILD_SLICE_MS });
      if (!p.finished) await enqueueRebuild(ctx, data.rebuildId);
      return p;
    },
  }),
];
