// The outbox side of fan-out: inside the caller's transaction (a sync, a links event, a domain
// verb), each message becomes one delivery row and one job per matching subscription. Nothing is
// sent here; the rows and jobs commit with the change, or not at all.
import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { findCalendar } from '../sync/index.ts';
import type { Executor } from '../db/index.ts';
import { deliveries, deliveryPositions, subscriptions, type Subscription } from '../../schema/fanout.ts';
import { monotonicUuid } from './ids.ts';
import { DOMAIN_EVENT_TYPES, THIN_TYPE, type DeliveryBody, type Message, type WebhookType } from './types.ts';
import { deliverJob } from './jobs.ts';

/**
 * For a thin subscription: the changes feed has new changes of this calendar, up to `cursor`. Sent
 * by the changes module after it wrote them, in the same transaction.
 */
export function changesAvailableMessage(n: { ownerId: string; externalOwnerId: string; calendarId: string | null; cursor: string; covers: WebhookType[]; occurredAt: Date }): Message {
  return { type: THIN_TYPE, ownerId: n.ownerId, externalOwnerId: n.externalOwnerId, calendarId: n.calendarId, data: {}, covers: n.covers, cursor: n.cursor, occurredAt: n.occurredAt };
}

/** Deliveries of one subscription about one calendar (or one owner) keep their order. */
export const streamKey = (subscriptionId: string, ownerId: string | null, calendarId: string | null) =>
  `${subscriptionId}:${ownerId ?? '-'}:${calendarId ?? '-'}`;

/** `primaryCalendarId`: the owner's primary calendar, for subscriptions to 'primary'. */
export function matches(sub: Pick<Subscription, 'ownerId' | 'calendarId' | 'types'> & { payload?: string }, m: Message, primaryCalendarId?: string): boolean {
  // A thin subscription gets the feed's notices instead of its changes; domain events (not in the feed) in full.
  if (m.type === THIN_TYPE ? sub.payload !== 'thin' : sub.payload === 'thin' && !(DOMAIN_EVENT_TYPES as readonly string[]).includes(m.type)) return false;
  if (sub.ownerId && sub.ownerId !== m.ownerId) return false;
  if (sub.calendarId === 'primary') {
    if (!primaryCalendarId || primaryCalendarId !== m.calendarId) return false;
  } else if (sub.calendarId && sub.calendarId !== m.calendarId) return false;
  const types: string[] = m.covers ?? [m.type];
  if (sub.types && sub.types.length > 0 && !types.some((t) => sub.types!.includes(t))) return false;
  return true;
}

export function bodyOf(m: Message): DeliveryBody | Record<string, unknown> {
  if (m.type === THIN_TYPE) return { type: m.type, externalOwnerId: m.externalOwnerId, calendarId: m.calendarId, cursor: m.cursor, occurredAt: m.occurredAt.toISOString() };
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

const positionKey = (m: Pick<Message, 'ownerId' | 'calendarId'>) => `${m.ownerId}\u0000${m.calendarId ?? ''}`;

/**
 * Numbers these messages within their calendar (an owner's calendar-less ones within the owner), in
 * this order. The counter rows stay locked until `tx` commits, so a transaction that publishes to the
 * same calendar later waits and takes higher numbers: numbers follow commit order, where pg-boss's
 * order of two transactions' jobs follows their start (created_on), and the deliver job goes by
 * numbers (deliver.ts). Rows are locked in one order (owner, calendar) against deadlocks.
 */
async function takePositions(tx: Executor, messages: Message[]): Promise<Map<Message, number>> {
  const counts = new Map<string, { ownerId: string; calendarId: string; n: number }>();
  for (const m of messages) {
    const k = positionKey(m);
    const c = counts.get(k);
    if (c) c.n += 1;
    else counts.set(k, { ownerId: m.ownerId, calendarId: m.calendarId ?? '', n: 1 });
  }
  const out = new Map<Message, number>();
  if (counts.size === 0) return out;
  const keys = [...counts.values()].sort((a, b) => (a.ownerId + a.calendarId < b.ownerId + b.calendarId ? -1 : 1));
  const taken = await tx
    .insert(deliveryPositions)
    .values(keys.map((k) => ({ ownerId: k.ownerId, calendarId: k.calendarId, position: k.n })))
    .onConflictDoUpdate({
      target: [deliveryPositions.ownerId, deliveryPositions.calendarId],
      set: { position: sql`${deliveryPositions.position} + excluded.position` },
    })
    .returning();
  // The numbers a calendar's messages take end at what the counter holds now.
  const next = new Map(taken.map((r) => [`${r.ownerId}\u0000${r.calendarId}`, r.position - counts.get(`${r.ownerId}\u0000${r.calendarId}`)!.n + 1]));
  for (const m of messages) {
    const k = positionKey(m);
    const p = next.get(k)!;
    out.set(m, p);
    next.set(k, p + 1);
  }
  return out;
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
    .select({ id: subscriptions.id, ownerId: subscriptions.ownerId, calendarId: subscriptions.calendarId, types: subscriptions.types, payload: subscriptions.payload })
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

  const wanted = messages.map((m) => subs.filter((sub) => matches(sub, m, primaryOf.get(m.ownerId))));
  const positions = await takePositions(tx, messages.filter((_m, i) => wanted[i]!.length > 0));
  const rows: Array<typeof deliveries.$inferInsert> = [];
  for (const [i, m] of messages.entries()) {
    if (wanted[i]!.length === 0) continue;
    const body = JSON.stringify(bodyOf(m));
    const position = positions.get(m)!;
    for (const sub of wanted[i]!) {
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
        position,
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
