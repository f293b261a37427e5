// Jobs of availability: the daily move of the rolling horizon.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { extendHorizon } from './extend-horizon.ts';

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
];
