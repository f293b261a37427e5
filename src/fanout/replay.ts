// `subscriptions.replay`: a receiver that lost what it processed (a restore from backup, a bug in
// its handler) asks for everything since an instant again. What the outbox still keeps (delivered
// ones for a week, dead ones for a month: prune.ts) is sent again as new attempts of the same
// deliveries: same webhook-id, same body, so a receiver that deduplicates sees nothing twice.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { monotonicUuid } from './ids.ts';
import { deliverJob } from './jobs.ts';
import { getSubscription } from './subscriptions.ts';

/** Deliveries replayed by one call at most; `nextFrom` says where the next call goes on. */
export const REPLAY_MAX = 10_000;

export interface ReplayResult {
  /** Deliveries queued again. */
  replayed: number;
  /** Still pending ones since `from`: they will be delivered anyway, and are left as they are. */
  pending: number;
  /** The oldest delivery the outbox still keeps for this subscription (null: none). */
  oldestKept: Date | null;
  /** Set when more than REPLAY_MAX were due: call again with it (the instant of the first left out). */
  nextFrom: Date | null;
}

/**
 * Every settled (delivered or dead) delivery of the subscription made at or after `from` (the
 * instant its change committed: `created_at`), queued again in each stream's order (positions),
 * behind what is pending in that stream, like `replayDelivery`. Pings are not replayed.
 */
export async function replaySubscription(ctx: Ctx, id: string, from: Date): Promise<ReplayResult> {
  const sub = await getSubscription(ctx, id);
  if (sub.status !== 'active') throw new AppError('CONFLICT', `the subscription is disabled (${sub.disabledReason ?? 'no reason'}): enable it first`);
  return ctx.db.transaction(async (tx) => {
    const picked = await tx.execute<{ id: string; stream_key: string; created_at: Date | string }>(sql`
      select id, stream_key, created_at from deliveries
       where subscription_id = ${id}::uuid and status in ('delivered', 'dead') and type <> 'ping' and created_at >= ${from.toISOString()}::timestamptz
       order by created_at, id
       limit ${REPLAY_MAX + 1}
       for update`);
    const nextFrom = picked.length > REPLAY_MAX ? new Date(picked[REPLAY_MAX]!.created_at) : null;
    // Ties on the cut's instant go to the next call whole, so that none is replayed twice.
    const rows = nextFrom ? picked.slice(0, REPLAY_MAX).filter((r) => new Date(r.created_at).getTime() < nextFrom.getTime()) : picked;
    const [counts] = await tx.execute<{ pending: number; oldest: Date | string | null }>(sql`
      select count(*) filter (where status = 'pending' and created_at >= ${from.toISOString()}::timestamptz)::int as pending, min(created_at) as oldest
        from deliveries where subscription_id = ${id}::uuid and type <> 'ping'`);
    if (rows.length > 0) {
      // Jobs of one transaction tie on created_on: their monotonic ids, given in each stream's
      // order, keep it.
      const ordered = await tx.execute<{ id: string; stream_key: string }>(sql`
        select id, stream_key from deliveries where id = any(${`{${rows.map((r) => r.id).join(',')}}`}::uuid[])
         order by stream_key, position, created_at, id`);
      const jobs = ordered.map((r) => ({ deliveryId: r.id, streamKey: r.stream_key, jobId: monotonicUuid() }));
      await tx.execute(sql`
        update deliveries d
           set status = 'pending', attempts = 0, next_attempt_at = null, delivered_at = null, dead_at = null,
               job_id = u.job_id, replays = d.replays + 1
          from unnest(${`{${jobs.map((j) => j.deliveryId).join(',')}}`}::uuid[], ${`{${jobs.map((j) => j.jobId).join(',')}}`}::uuid[]) as u(id, job_id)
         where d.id = u.id`);
      for (let i = 0; i < jobs.length; i += 500) {
        const chunk = jobs.slice(i, i + 500);
        await deliverJob.sendMany(
          ctx,
          chunk.map((j) => ({ data: { deliveryId: j.deliveryId }, singletonKey: j.streamKey, id: j.jobId, group: { id } })),
          { tx, wake: new Set(chunk.map((j) => j.streamKey)).size },
        );
      }
    }
    ctx.log.info({ subscriptionId: id, from: from.toISOString(), replayed: rows.length }, 'subscription replayed');
    return {
      replayed: rows.length,
      pending: counts?.pending ?? 0,
      oldestKept: counts?.oldest ? new Date(counts.oldest) : null,
      nextFrom,
    };
  });
}
