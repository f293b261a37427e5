// What fan-out delivers: the closed set of event types and the body every delivery carries.
import { z } from 'zod';

export const MIRROR_EVENT_TYPES = [
  'event.created',
  'event.updated',
  'event.cancelled',
  'calendar.added',
  'calendar.removed',
  'owner.revoked',
] as const;

/** Published by other modules through `publishDomainEvent`. */
export const DOMAIN_EVENT_TYPES = ['shift.declined', 'shift.swapped', 'booking.changed'] as const;

export const WEBHOOK_TYPES = [...MIRROR_EVENT_TYPES, ...DOMAIN_EVENT_TYPES] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];
export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

/** `subscriptions.test` sends this one; it is not subscribable. */
export const PING_TYPE = 'ping';

/**
 * What a thin subscription (`payload: 'thin'`) receives instead of the mirror's changes: a pointer
 * into the changes feed, one per change set and subscription. Domain events, not in the feed, stay full.
 */
export const THIN_TYPE = 'changes.available';
export const PAYLOADS = ['full', 'thin'] as const;
export type Payload = (typeof PAYLOADS)[number];

export const WebhookTypeSchema = z.enum(WEBHOOK_TYPES);

export interface DomainEvent {
  type: DomainEventType;
  ownerId: string;
  externalOwnerId: string;
  /** Google's calendar id, when the event is about one calendar (it orders the deliveries). */
  calendarId?: string;
  data: Record<string, unknown>;
}

/** One thing that happened, before it is matched against subscriptions. */
export interface Message {
  type: WebhookType | typeof THIN_TYPE;
  /** THIN_TYPE: the types of the changes it announces (matched against a subscription's types). */
  covers?: WebhookType[];
  /** THIN_TYPE: where the changes feed has them (the cursor of the last one). */
  cursor?: string;
  ownerId: string;
  externalOwnerId: string;
  calendarId: string | null;
  data: Record<string, unknown>;
  /** For updates: the fields of `data` that changed. */
  changed?: string[];
  occurredAt: Date;
}

/** The JSON body of a delivery (signed per Standard Webhooks). */
export interface DeliveryBody {
  type: WebhookType | typeof PING_TYPE | typeof THIN_TYPE;
  ownerId: string | null;
  externalOwnerId: string | null;
  calendarId: string | null;
  data: Record<string, unknown>;
  changed?: string[];
  occurredAt: string;
}
