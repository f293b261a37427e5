// tRPC transports of links: validate, call one verb, map the result.
import { z } from 'zod';
import { ExternalOwnerId, router, serviceProcedure, Url } from '../api/index.ts';
import { applyLinkEvent, LinkEventInput } from './link-events.ts';
import { createTicket, finishOAuth, startOAuth } from './oauth.ts';
import { getLinkStatus } from './status.ts';

const OAuthStartInput = z.object({
  externalOwnerId: ExternalOwnerId,
  returnTo: Url.optional(),
  loginHint: z.string().min(1).max(320).optional(),
  redirectUri: Url.optional(),
});
const OAuthTicketInput = z.object({
  externalOwnerId: ExternalOwnerId,
  returnTo: Url.optional(),
  loginHint: z.string().min(1).max(320).optional(),
});
const OAuthFinishInput = z.object({
  code: z.string().min(1).max(2048),
  state: z.string().min(1).max(512),
  /** The owner the frontend believes it is linking: a flow started for another is refused before the exchange. */
  expectedExternalOwnerId: ExternalOwnerId,
  /** Replace the owner's grant even if this one is for another Google account. */
  force: z.boolean().optional(),
});

export const linksRouter = router({
  links: router({
    event: serviceProcedure.input(LinkEventInput).mutation(({ ctx, input }) => applyLinkEvent(ctx.app, input)),
    get: serviceProcedure.input(z.object({ externalOwnerId: ExternalOwnerId })).query(({ ctx, input }) => getLinkStatus(ctx.app, input)),
  }),
  oauth: router({
    ticket: serviceProcedure.input(OAuthTicketInput).mutation(({ ctx, input }) => createTicket(ctx.app, input)),
    start: serviceProcedure.input(OAuthStartInput).mutation(async ({ ctx, input }) => ({ url: (await startOAuth(ctx.app, input)).url })),
    finish: serviceProcedure
      .input(OAuthFinishInput)
      .mutation(async ({ ctx, input }) => ({ externalOwnerId: (await finishOAuth(ctx.app, input)).externalOwnerId })),
  }),
});
