// A key_strict_fifo job that ends up `failed` in pg-boss holds back every later job of its key until
// it is deleted. The handler never lets that happen by itself (a dead delivery completes its job),
// but a handler crashing past the queue's retry limit, an expired job or a malformed payload can.
// This sweep marks such a job's delivery dead (replayable) and deletes the job, freeing the stream.
import { eq, and } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { deliveries } from '../../schema/fanout.ts';
import { deliverJob } from './jobs.ts';

export async function unblockStreams(ctx: Ctx): Promise<{ keys: number; jobs: number }> {
  const boss = ctx.jobs.boss;
  const keys = await boss.getBlockedKeys(deliverJob.name, { limit: 1000 });
  let jobs = 0;
  for (const key of keys) {
    const found = await boss.findJobs<{ deliveryId?: string }>(deliverJob.name, { key, limit: 1000 });
    for (const job of found.filter((j) => j.state === 'failed')) {
      const deliveryId = typeof job.data?.deliveryId === 'string' ? job.data.deliveryId : undefined;
      const why = (job.output as { error?: string } | null)?.error ?? 'no output';
      if (deliveryId && /^[0-9a-f-]{36}$/i.test(deliveryId)) {
        // The delivery the job carries (job_id): a take-over (deliver.ts) may have changed it.
        await ctx.db
          .update(deliveries)
          .set({ status: 'dead', lastError: `its job failed in the queue: ${why}`, nextAttemptAt: null, deadAt: ctx.clock.now() })
          .where(and(eq(deliveries.status, 'pending'), eq(deliveries.jobId, job.id)));
      }
      await boss.deleteJob(deliverJob.name, job.id);
      jobs++;
      ctx.log.warn({ key, jobId: job.id, deliveryId, why }, 'fanout: failed delivery job removed to unblock its stream');
    }
  }
  return { keys: keys.length, jobs };
}
