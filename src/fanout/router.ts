// tRPC transports of fan-out: validate, call one verb, map the result.
import { z } from 'zod';
import { router, serviceProcedure } from '../api/index.ts';
import { PAYLOADS, WebhookTypeSchema } from './types.ts';
import { createSubscription, deleteSubscription, listSubscriptions, testSubscription } from './subscriptions.ts';
import { replaySubscription } from './replay.ts';

const CreateSubscriptionInput = z.object({
  url: z.string().min(1).max(2048),
  externalOwnerId: z.string().min(1).max(256).optional(),
  calendarId: z.string().min(1).max(1024).optional(),
  types: z.array(WebhookTypeSchema).min(1).max(20).optional(),
  payload: z.enum(PAYLOADS).optional(),
});
const ListSubscriptionsInput = z.object({ externalOwnerId: z.string().min(1).max(256).optional() }).optional();
const SubscriptionIdInput = z.object({ id: z.uuid() });
const ReplaySubscriptionInput = z.object({ id: z.uuid(), from: z.iso.datetime({ offset: true }) });

export const fanoutRouter = router({
  subscriptions: router({
    create: serviceProcedure.input(CreateSubscriptionInput).mutation(({ ctx, input }) => createSubscription(ctx.app, input)),
    list: serviceProcedure.input(ListSubscriptionsInput).query(async ({ ctx, input }) => ({ items: await listSubscriptions(ctx.app, input ?? {}) })),
    delete: serviceProcedure.input(SubscriptionIdInput).mutation(({ ctx, input }) => deleteSubscription(ctx.app, input.id)),
    test: serviceProcedure.input(SubscriptionIdInput).mutation(({ ctx, input }) => testSubscription(ctx.app, input.id)),
    replay: serviceProcedure.input(ReplaySubscriptionInput).mutation(({ ctx, input }) => replaySubscription(ctx.app, input.id, new Date(input.from))),
  }),
});
