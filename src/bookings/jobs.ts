// bookings.reconcile: brings Google in line with one booking (insert, patch or delete its event).
// Enqueued in the transaction of every change that owes Google a write: at once for reactions to
// Google (a bookee's decline), as a delayed safety net for procedures that make the call themselves.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

export const reconcileJob = defineJob({
  name: 'bookings.reconcile',
  schema: z.object({ bookingId: z.uuid() }),
  retryLimit: 10,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 1800,
  expireInSeconds: 300,
  concurrency: 4,
  handler: () => import('./reconcile-job.ts').then((m) => m.runReconcileJob),
});

export const bookingsJobs = [reconcileJob];
