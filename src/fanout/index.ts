// The `fanout` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import type { Ctx } from '../context/index.ts';
import { router } from '../api/index.ts';
import { fanoutJobs } from './jobs.ts';
import { enqueueMessages } from './publish.ts';
import { messageFromDomainEvent } from './messages.ts';
import type { DomainEvent } from './types.ts';

export { WEBHOOK_TYPES, DOMAIN_EVENT_TYPES, type WebhookType, type DomainEventType, type DomainEvent } from './types.ts';

/**
 * Publishes a domain event (shift.declined, shift.swapped, booking.changed) to the matching
 * subscriptions: the deliveries are enqueued in `tx` and commit with it. Returns how many.
 */
export function publishDomainEvent(tx: Executor, ctx: Ctx, event: DomainEvent): Promise<number> {
  return enqueueMessages(tx, ctx, [messageFromDomainEvent(event, ctx.clock.now())]);
}

export const fanoutRouter = router({});

export const fanoutModule: CalwatchModule = { name: 'fanout', jobs: fanoutJobs };
