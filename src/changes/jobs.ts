// The job of the changes feed: a daily prune.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { pruneChanges } from './prune.ts';

export const pruneChangesJob = defineJob({
  name: 'changes.prune',
  schema: z.object({}),
  cron: '41 3 * * *',
  cronData: {},
  retryLimit: 2,
  handler: (ctx) => pruneChanges(ctx),
});

export const changesJobs = [pruneChangesJob];
