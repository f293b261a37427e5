// Deliveries as the admin API sees them, and replay: a settled (dead or delivered) delivery is
// sent again with the same webhook-id, through the same ordered queue, at the tail of its stream.
import { and, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { deliveries, subscriptions, type Delivery } from '../../schema/fanout.ts';
import { monotonicUuid } from './ids.ts';
import { deliverJob } from './jobs.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface DeliveryView {
  id: string;
  subscriptionId: string;
  type: string;
  calendarId: string | null;
  status: DeliveryStatus;
  attempts: number;
  replays: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  deadAt: Date | null;
  occurredAt: Date;
  createdAt: Date;
  body: string;
}

export const deliveryView = (d: Delivery): DeliveryView => ({
  id: d.id,
  subscriptionId: d.subscriptionId,
  type: d.type,
  calendarId: d.calendarId,
  status: d.status as DeliveryStatus,
  attempts: d.attempts,
  replays: d.replays,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  lastAttemptAt: d.lastAttemptAt,
  nextAttemptAt: d.nextAttemptAt,
  deliveredAt: d.deliveredAt,
  deadAt: d.deadAt,
  occurredAt: d.occurredAt,
  createdAt: d.createdAt,
  body: d.body,
});

/** Newest first. */
export async function listDeliveries(
  ctx: Ctx,
  input: { subscriptionIds?: string[]; status?: DeliveryStatus; limit: number; offset?: number },
): Promise<DeliveryView[]> {
  const rows = await ctx.db
    .select()
    .from(deliveries)
    .where(
      and(
        input.subscriptionIds ? inArray(deliveries.subscriptionId, input.subscriptionIds) : undefined,
        input.status ? eq(deliveries.status, input.status) : undefined,
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(input.limit)
    .offset(input.offset ?? 0);
  return rows.map(deliveryView);
}

/** Of each of these subscriptions, its newest `perSubscription` deliveries (of this status), newest first. */
export async function listDeliveriesOfSubscriptions(
  ctx: Ctx,
  input: { subscriptionIds: readonly string[]; status?: DeliveryStatus; perSubscription: number },
): Promise<DeliveryView[]> {
  if (input.subscriptionIds.length === 0) return [];
  const ranked = ctx.db
    .select({
      id: deliveries.id,
      rank: sql<number>`row_number() over (partition by ${deliveries.subscriptionId} order by ${deliveries.createdAt} desc, ${deliveries.id} desc)`.as('rank'),
    })
    .from(deliveries)
    .where(and(inArray(deliveries.subscriptionId, [...input.subscriptionIds]), input.status ? eq(deliveries.status, input.status) : undefined))
    .as('ranked');
  const rows = await ctx.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(ranked, eq(ranked.id, deliveries.id))
    .where(lte(ranked.rank, input.perSubscription))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id));
  return rows.map((r) => deliveryView(r.delivery));
}

export async function getDelivery(ctx: Ctx, id: string): Promise<DeliveryView | undefined> {
  const [row] = await ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
  return row && deliveryView(row);
}

export async function replayDelivery(ctx: Ctx, id: string): Promise<DeliveryView> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ delivery: deliveries, subStatus: subscriptions.status, disabledReason: subscriptions.disabledReason })
      .from(deliveries)
      .innerJoin(subscriptions, eq(subscriptions.id, deliveries.subscriptionId))
      .where(eq(deliveries.id, id))
      .for('update', { of: deliveries });
    if (!row) throw new AppError('NOT_FOUND', `no delivery ${id}`);
    if (row.delivery.status === 'pending') throw new AppError('CONFLICT', 'this delivery is still pending: it will be attempted again by itself');
    if (row.subStatus !== 'active') {
      throw new AppError('CONFLICT', `the subscription is disabled (${row.disabledReason ?? 'no reason'}): enable it first`);
    }
    const jobId = monotonicUuid();
    const [updated] = await tx
      .update(deliveries)
      .set({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: null,
        deliveredAt: null,
        deadAt: null,
        jobId,
        replays: sql`${deliveries.replays} + 1`,
      })
      .where(eq(deliveries.id, id))
      .returning();
    await deliverJob.send(ctx, { deliveryId: id }, { tx, singletonKey: row.delivery.streamKey, id: jobId, group: { id: row.delivery.subscriptionId } });
    ctx.log.info({ deliveryId: id, jobId }, 'delivery replayed');
    return deliveryView(updated!);
  });
}
