// Deliveries are kept for the admin API (recent, dead, replay), not forever: delivered ones for a
// week, dead ones for a month.
import { and, eq, lt } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { deliveries } from '../../schema/fanout.ts';

export const DELIVERED_RETENTION_DAYS = 7;
export const DEAD_RETENTION_DAYS = 30;

export async function pruneDeliveries(ctx: Ctx): Promise<{ delivered: number; dead: number }> {
  const now = ctx.clock.now().getTime();
  const day = 86400_000;
  const delivered = await ctx.db
    .delete(deliveries)
    .where(and(eq(deliveries.status, 'delivered'), lt(deliveries.createdAt, new Date(now - DELIVERED_RETENTION_DAYS * day))))
    .returning({ id: deliveries.id });
  const dead = await ctx.db
    .delete(deliveries)
    .where(and(eq(deliveries.status, 'dead'), lt(deliveries.createdAt, new Date(now - DEAD_RETENTION_DAYS * day))))
    .returning({ id: deliveries.id });
  return { delivered: delivered.length, dead: dead.length };
}
