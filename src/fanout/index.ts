// The `fanout` module's public face: other modules import only from here.
import type { CalwatchModule, Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { fanoutJobs } from './jobs.ts';
import { changesAvailableMessage, enqueueMessages } from './publish.ts';
import { messageFromDomainEvent } from './messages.ts';
import { fanoutReactions } from './reactors.ts';
import type { DomainEvent, WebhookType } from './types.ts';
import './admin/index.ts';

export { fanoutRouter } from './router.ts';
export { WEBHOOK_TYPES, DOMAIN_EVENT_TYPES, type WebhookType, type DomainEventType, type DomainEvent } from './types.ts';
/** `bun run calwatch rotate-key` calls this (with every other module's rotateKey). */
export { rotateKey, type RotateKeyResult } from './rotate-key.ts';

/**
 * Publishes a domain event (shift.declined, shift.swapped, booking.changed) to the matching
 * subscriptions: one delivery per subscription, enqueued in `tx` (it commits with the caller's
 * change, or not at all). Returns how many deliveries were enqueued.
 */
/**
 * Tells the thin subscriptions (`payload: 'thin'`) of this owner and calendar that the changes feed
 * has new changes, up to `cursor`, of these types; enqueued in `tx`. The changes module calls it.
 */
export function publishChangesAvailable(
  tx: Executor,
  ctx: Ctx,
  n: { ownerId: string; externalOwnerId: string; calendarId: string | null; cursor: string; covers: WebhookType[] },
): Promise<number> {
  return enqueueMessages(tx, ctx, [changesAvailableMessage({ ...n, occurredAt: ctx.clock.now() })]);
}

export function publishDomainEvent(tx: Executor, ctx: Ctx, event: DomainEvent): Promise<number> {
  return enqueueMessages(tx, ctx, [messageFromDomainEvent(event, ctx.clock.now())]);
}

// Fan-out follows sync's change sets and calendar changes, and links' revocations.
export const fanoutModule: CalwatchModule = { name: 'fanout', jobs: fanoutJobs, reactions: fanoutReactions };
