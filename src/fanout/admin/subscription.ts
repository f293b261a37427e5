// The WebhookSubscription type (and WebhookSubscriptionStatus) with its recent and dead deliveries,
// the subscriptions list (newest first, paged in SQL) and the enableSubscription mutation.
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { builder, groupBy, loaderFor, loaderName, type AdminContext } from '../../api/index.ts';
import { listDeliveriesOfSubscriptions, type DeliveryStatus, type DeliveryView } from '../deliveries.ts';
import { enableSubscription, listSubscriptions, type SubscriptionView } from '../subscriptions.ts';
import { DeliveryRef } from './delivery.ts';
import { uuidArg } from './uuid-arg.ts';

const SubscriptionStatusEnum = builder.enumType('WebhookSubscriptionStatus', {
  values: { ACTIVE: { value: 'active' }, DISABLED: { value: 'disabled' } } as const,
});

const clamp = (n: number | null | undefined) => Math.min(Math.max(n ?? 20, 1), 200);

/** The newest deliveries of a subscription, batched with the other subscriptions of the page. */
function loadDeliveries(ctx: AdminContext, subscriptionId: string, input: { status?: DeliveryStatus; perSubscription: number }) {
  return loaderFor<string, DeliveryView[]>(ctx, loaderName('fanout.deliveriesOfSubscription', input), async (ids) =>
    groupBy(ids, await listDeliveriesOfSubscriptions(ctx.app, { subscriptionIds: ids, ...input }), (d) => d.subscriptionId),
  ).load(subscriptionId);
}

const SubscriptionRef = builder.objectRef<SubscriptionView>('WebhookSubscription').implement({
  description: 'An application subscribed to changes (its secret is never shown again)',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    externalOwnerId: t.exposeString('externalOwnerId', { nullable: true }),
    calendarId: t.exposeString('calendarId', { nullable: true }),
    types: t.exposeStringList('types', { nullable: true, description: 'null: every type' }),
    status: t.field({ type: SubscriptionStatusEnum, resolve: (s) => s.status }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true }),
    lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
    lastFailureAt: t.expose('lastFailureAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    recentDeliveries: t.field({
      type: [DeliveryRef],
      args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
      resolve: (s, args, ctx) => loadDeliveries(ctx, s.id, { perSubscription: clamp(args.first) }),
    }),
    deadDeliveries: t.field({
      type: [DeliveryRef],
      args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
      resolve: (s, args, ctx) => loadDeliveries(ctx, s.id, { status: 'dead', perSubscription: clamp(args.first) }),
    }),
  }),
});

builder.queryField('subscriptions', (t) =>
  t.connection({
    type: SubscriptionRef,
    args: {
      status: t.arg({ type: SubscriptionStatusEnum, required: false }),
      externalOwnerId: t.arg.string({ required: false }),
    },
    resolve: (_root, args, ctx) =>
      resolveOffsetConnection({ args, defaultSize: 50, maxSize: 200 }, ({ limit, offset }) =>
        listSubscriptions(ctx.app, {
          ...(args.status ? { status: args.status } : {}),
          ...(args.externalOwnerId ? { externalOwnerId: args.externalOwnerId } : {}),
          limit,
          offset,
        }),
      ),
  }, { name: 'WebhookSubscriptionConnection' }, { name: 'WebhookSubscriptionEdge' }),
);

builder.mutationField('enableSubscription', (t) =>
  t.field({
    type: SubscriptionRef,
    description: 'Re-enables a subscription disabled after a day of failures',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => enableSubscription(ctx.app, uuidArg(args.id)),
  }),
);
