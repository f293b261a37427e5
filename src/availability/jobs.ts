// Jobs of availability: the daily move of the rolling horizon; rebuild runs (rules changed, or asked).
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

export const extendHorizonJob = defineJob({
  name: 'availability.extendHorizon',
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
  handler: () => import('./extend-horizon.ts').then((m) => m.extendHorizon),
});

export const rebuildJob = defineJob({
  name: 'availability.rebuild',
  schema: z.object({ rebuildId: z.uuid() }),
  // Per run (singletonKey): one slice running, its continuation queued.
  policy: 'stately',
  retryLimit: 10,
  retryDelay: 30,
  retryBackoff: true,
  expireInSeconds: 900,
  concurrency: 1,
  handler: () => import('./rebuild-owners.ts').then((m) => m.runRebuildJob),
});

export const availabilityJobs = [extendHorizonJob, rebuildJob];
