// The job of the changes feed: a daily prune.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

export const pruneChangesJob = defineJob({
  name: 'changes.prune',
  schema: z.object({}),
  cron: '41 3 * * *',
  cronData: {},
  retryLimit: 2,
  handler: () => import('./prune.ts').then((m) => m.pruneChanges),
});

export const changesJobs = [pruneChangesJob];
