// The WebhookDelivery type (and WebhookDeliveryStatus), the global deliveries list (newest first,
// paged in SQL) and the replayDelivery mutation.
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { builder } from '../../api/index.ts';
import { listDeliveries, replayDelivery, type DeliveryStatus, type DeliveryView } from '../deliveries.ts';
import { uuidArg } from './uuid-arg.ts';

const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: { PENDING: { value: 'pending' }, DELIVERED: { value: 'delivered' }, DEAD: { value: 'dead' } } as const,
});

/**
 * What the admin API may say of a delivery's body: which event it was about and which of its fields
 * changed, never the contents. The body itself (event titles, descriptions, attendees' emails) is
 * not exposed: the receiver has it, and the mirror, for those allowed to read it.
 */
function bodyOutline(d: DeliveryView): { googleEventId: string | null; changed: string[] | null } {
  try {
    const body = JSON.parse(d.body) as { type?: unknown; data?: { googleEventId?: unknown }; changed?: unknown };
    const googleEventId = typeof body.type === 'string' && body.type.startsWith('event.') && typeof body.data?.googleEventId === 'string' ? body.data.googleEventId : null;
    const changed = Array.isArray(body.changed) ? body.changed.filter((f): f is string => typeof f === 'string') : null;
    return { googleEventId, changed };
  } catch {
    return { googleEventId: null, changed: null };
  }
}

export const DeliveryRef = builder.objectRef<DeliveryView>('WebhookDelivery').implement({
  description: "One message to one subscription; its id is the webhook-id header. Its body is not shown (it carries events' titles and attendees)",
  fields: (t) => ({
    id: t.exposeID('id'),
    subscriptionId: t.exposeID('subscriptionId'),
    type: t.exposeString('type'),
    calendarId: t.exposeString('calendarId', { nullable: true }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts', { description: 'attempts since it was created or last replayed' }),
    replays: t.exposeInt('replays'),
    lastStatus: t.exposeInt('lastStatus', { nullable: true, description: "the receiver's last HTTP status" }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    deadAt: t.expose('deadAt', { type: 'DateTime', nullable: true }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    googleEventId: t.string({
      nullable: true,
      description: "event.* deliveries: Google's id of the event (calendar_events.google_event_id)",
      resolve: (d) => bodyOutline(d).googleEventId,
    }),
    changed: t.stringList({
      nullable: true,
      description: 'event.updated deliveries: the names of the fields that changed (not their values)',
      resolve: (d) => bodyOutline(d).changed,
    }),
    bodyBytes: t.int({ description: 'size of the signed JSON body, in bytes', resolve: (d) => Buffer.byteLength(d.body) }),
  }),
});

builder.queryField('deliveries', (t) =>
  t.connection({
    type: DeliveryRef,
    description: 'Deliveries, newest first',
    args: {
      status: t.arg({ type: DeliveryStatusEnum, required: false }),
      subscriptionId: t.arg.id({ required: false }),
    },
    resolve: (_root, args, ctx) =>
      resolveOffsetConnection({ args, defaultSize: 50, maxSize: 200 }, ({ limit, offset }) =>
        listDeliveries(ctx.app, {
          ...(args.subscriptionId ? { subscriptionIds: [uuidArg(args.subscriptionId)] } : {}),
          ...(args.status ? { status: args.status as DeliveryStatus } : {}),
          limit,
          offset,
        }),
      ),
  }, { name: 'WebhookDeliveryConnection' }, { name: 'WebhookDeliveryEdge' }),
);

builder.mutationField('replayDelivery', (t) =>
  t.field({
    type: DeliveryRef,
    description: 'Sends a dead (or delivered) delivery again, same webhook-id, after the pending ones of its calendar',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => replayDelivery(ctx.app, uuidArg(args.id)),
  }),
);
