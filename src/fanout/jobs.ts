// The jobs of fan-out: one `fanout.deliver` per delivery, ordered per subscription and calendar by
// the key_strict_fifo policy (singletonKey = the delivery's stream key), and a daily prune.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

/** pg-boss retries a deliver job at most this often; the handler gives up first (maxAttempts). */
export const DELIVER_RETRY_LIMIT = 100;
/**
 * pg-boss expires (and retries) a job active longer than this: the key would then have two jobs at
 * work. Every attempt is bounded well below it (deliver.ts's MAX_TIMEOUT_MS), and the drain stops in time.
 */
export const DELIVER_EXPIRE_SECONDS = 300;
/** Worker slots of `fanout.deliver` per process. */
export const DELIVER_SLOTS = 16;
/** At most this many of them (all processes together) work for one subscription at a time. */
export const SUBSCRIPTION_SLOTS = 8;

export const deliverJob = defineJob({
  name: 'fanout.deliver',
  schema: z.object({ deliveryId: z.uuid() }),
  policy: 'key_strict_fifo',
  // The handler decides when to give up (FANOUT_MAX_ATTEMPTS) and sets each retry's delay itself;
  // this limit only bounds a handler that keeps crashing.
  retryLimit: DELIVER_RETRY_LIMIT,
  // pg-boss's own backoff only applies to a crashed handler: every failure the handler reports
  // sets its retry's delay itself (Jobs.setRetryDelay).
  retryDelay: 15,
  retryBackoff: true,
  // Far above one attempt (DNS 5 s + at most 120 s) and the drain's bound; a job of a process that
  // died is retried after it, its key held till then.
  expireInSeconds: DELIVER_EXPIRE_SECONDS,
  concurrency: DELIVER_SLOTS,
  // A subscription's jobs carry its id as their pg-boss group: one subscription holds at most this
  // many slots at once (all processes together), so a slow receiver, however many streams it has,
  // leaves the other slots to the others. pg-boss counts the group's active jobs in each fetch:
  // slots fetching at the same instant can each see room and overshoot it by a few. (Its exact
  // per-process count, localGroupConcurrency, needs one worker with that many local slots.)
  groupConcurrency: SUBSCRIPTION_SLOTS,
  // A successor becomes fetchable only when its predecessor completes, and retries come due without
  // any NOTIFY: workers fetch again right after each job (every queue drains) and poll at
  // JOBS_POLL_SECONDS meanwhile.
  pollDelayed: true,
  // Every change set enqueues here: a NOTIFY per transaction woke all 16 slots of every process,
  // each running pg-boss's key_strict_fifo fetch (it reads every queued job: 58 ms at 10,000), for
  // the one or two streams the transaction fed. The enqueuing process wakes as many of its own
  // workers as it fed streams (publish.ts); other processes find the jobs at their poll.
  notify: false,
  handler: async () => {
    const { deliverOnce } = await import('./deliver.ts');
    return (ctx, data, job) => deliverOnce(ctx, data.deliveryId, job);
  },
});

export const pruneJob = defineJob({
  name: 'fanout.prune',
  schema: z.object({}),
  cron: '17 3 * * *',
  cronData: {},
  retryLimit: 2,
  handler: () => import('./prune.ts').then((m) => m.pruneDeliveries),
});

export const unblockJob = defineJob({
  name: 'fanout.unblock',
  schema: z.object({}),
  cron: '*/10 * * * *',
  cronData: {},
  retryLimit: 2,
  handler: () => import('./unblock.ts').then((m) => m.unblockStreams),
});

export const fanoutJobs = [deliverJob, pruneJob, unblockJob];
