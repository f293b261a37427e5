// tRPC transports of fan-out: validate, call one verb, map the result.
import { z } from 'zod';
import { CalendarId, ExternalOwnerId, InstantDate, router, serviceProcedure, SubscriptionId, Url } from '../api/index.ts';
import { PAYLOADS, WebhookTypeSchema } from './types.ts';
import { createSubscription, deleteSubscription, listSubscriptions, testSubscription } from './subscriptions.ts';
import { replaySubscription } from './replay.ts';

const CreateSubscriptionInput = z.object({
  url: Url,
  externalOwnerId: ExternalOwnerId.optional(),
  calendarId: CalendarId.optional(),
  types: z.array(WebhookTypeSchema).min(1).max(20).optional(),
  payload: z.enum(PAYLOADS).optional(),
});
const ListSubscriptionsInput = z.object({ externalOwnerId: ExternalOwnerId.optional() }).optional();
const SubscriptionIdInput = z.object({ id: SubscriptionId });
const ReplaySubscriptionInput = z.object({ id: SubscriptionId, from: InstantDate });

export const fanoutRouter = router({
  subscriptions: router({
    create: serviceProcedure.input(CreateSubscriptionInput).mutation(({ ctx, input }) => createSubscription(ctx.app, input)),
    list: serviceProcedure.input(ListSubscriptionsInput).query(async ({ ctx, input }) => ({ items: await listSubscriptions(ctx.app, input ?? {}) })),
    delete: serviceProcedure.input(SubscriptionIdInput).mutation(({ ctx, input }) => deleteSubscription(ctx.app, input.id)),
    test: serviceProcedure.input(SubscriptionIdInput).mutation(({ ctx, input }) => testSubscription(ctx.app, input.id)),
    replay: serviceProcedure.input(ReplaySubscriptionInput).mutation(({ ctx, input }) => replaySubscription(ctx.app, input.id, input.from)),
  }),
});
