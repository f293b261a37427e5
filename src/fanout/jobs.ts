// The jobs of fan-out: one `fanout.deliver` per delivery (ordered per subscription and calendar by
// the key_strict_fifo policy), and a daily prune of old deliveries.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { DELIVER_JOB } from './publish.ts';

export const deliverJob = defineJob({
  name: DELIVER_JOB,
  schema: z.object({ deliveryId: z.uuid() }),
  policy: 'key_strict_fifo',
  handler: async () => {
    // filled in by deliver.ts
  },
});

export const fanoutJobs = [deliverJob];
