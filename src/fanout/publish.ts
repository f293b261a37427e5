// The outbox side of fan-out: inside the caller's transaction (a sync, a links event, a domain
// verb), each message becomes one delivery row and one job per matching subscription. Nothing is
// sent here; the rows and jobs commit with the change, or not at all.
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { findCalendar } from '../sync/index.ts';
import type { Executor } from '../db/index.ts';
import { deliveries, subscriptions, type Subscription } from '../../schema/fanout.ts';
import { monotonicUuid } from './ids.ts';
import { deliverJob } from './jobs.ts';
import type { DeliveryBody, Message } from './types.ts';

/** Deliveries of one subscription about one calendar (or one owner) keep their order. */
export const streamKey = (subscriptionId: string, ownerId: string | null, calendarId: string | null) =>
  `${subscriptionId}:${ownerId ?? '-'}:${calendarId ?? '-'}`;

/** `primaryCalendarId`: the owner's primary calendar, for subscriptions to 'primary'. */
export function matches(sub: Pick<Subscription, 'ownerId' | 'calendarId' | 'types'>, m: Message, primaryCalendarId?: string): boolean {
  if (sub.ownerId && sub.ownerId !== m.ownerId) return false;
  if (sub.calendarId === 'primary') {
    if (!primaryCalendarId || primaryCalendarId !== m.calendarId) return false;
  } else if (sub.calendarId && sub.calendarId !== m.calendarId) return false;
  if (sub.types && sub.types.length > 0 && !sub.types.includes(m.type)) return false;
  return true;
}

export function bodyOf(m: Message): DeliveryBody {
  return {
    type: m.type,
    ownerId: m.ownerId,
    externalOwnerId: m.externalOwnerId,
    calendarId: m.calendarId,
    data: m.data,
    ...(m.changed ? { changed: m.changed } : {}),
    occurredAt: m.occurredAt.toISOString(),
  };
}

/**
 * Enqueues the deliveries of these messages, in this order, in `tx`. Returns how many. Messages
 * may be given as a function of their owners (`ownerIds`): they are then built only when some
 * subscription may want them (a sync page's change set with nobody subscribed costs one query).
 */
export async function enqueueMessages(tx: Executor, ctx: Ctx, given: Message[] | { ownerIds: string[]; build: () => Message[] }): Promise<number> {
  const lazy = !Array.isArray(given);
  if (lazy ? given.ownerIds.length === 0 : given.length === 0) return 0;
  const ownerIds = lazy ? [...new Set(given.ownerIds)] : [...new Set(given.map((m) => m.ownerId))];
  const subs = await tx
    .select({ id: subscriptions.id, ownerId: subscriptions.ownerId, calendarId: subscriptions.calendarId, types: subscriptions.types })
    .from(subscriptions)
    .where(and(eq(subscriptions.status, 'active'), or(isNull(subscriptions.ownerId), inArray(subscriptions.ownerId, ownerIds))));
  if (subs.length === 0) return 0;
  const messages = lazy ? given.build() : given;
  if (messages.length === 0) return 0;

  // Subscriptions to 'primary' are owner-scoped: look the owner's primary calendar up once.
  const primaryOf = new Map<string, string | undefined>();
  for (const sub of subs) {
    if (sub.calendarId === 'primary' && sub.ownerId && !primaryOf.has(sub.ownerId)) {
      primaryOf.set(sub.ownerId, (await findCalendar(ctx, sub.ownerId, 'primary', { tx }))?.calendarId);
    }
  }

  const rows: Array<typeof deliveries.$inferInsert> = [];
  for (const m of messages) {
    const body = JSON.stringify(bodyOf(m));
    for (const sub of subs) {
      if (!matches(sub, m, primaryOf.get(m.ownerId))) continue;
      const id = monotonicUuid();
      rows.push({
        id,
        subscriptionId: sub.id,
        ownerId: m.ownerId,
        type: m.type,
        calendarId: m.calendarId,
        streamKey: streamKey(sub.id, m.ownerId, m.calendarId),
        body,
        jobId: id,
        occurredAt: m.occurredAt,
      });
    }
  }
  if (rows.length === 0) return 0;
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await tx.insert(deliveries).values(chunk);
    // The jobs of one transaction share created_on: their monotonic ids keep each key in order.
    await deliverJob.sendMany(
      ctx,
      chunk.map((row) => ({ data: { deliveryId: row.id }, singletonKey: row.streamKey, id: row.id, group: { id: row.subscriptionId } })),
      // One worker per stream fed is enough: the drain takes a stream's following deliveries.
      { tx, wake: new Set(chunk.map((row) => row.streamKey)).size },
    );
  }
  return rows.length;
}
