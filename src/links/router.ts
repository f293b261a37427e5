// tRPC transports of links: validate, call one verb, map the result.
import { z } from 'zod';
import { router, serviceProcedure } from '../api/index.ts';
import { applyLinkEvent, ExternalOwnerId, LinkEventInput } from './link-events.ts';
import { getLinkStatus } from './status.ts';

export const linksRouter = router({
  links: router({
    event: serviceProcedure.input(LinkEventInput).mutation(({ ctx, input }) => applyLinkEvent(ctx.app, input)),
    get: serviceProcedure.input(z.object({ externalOwnerId: ExternalOwnerId })).query(({ ctx, input }) => getLinkStatus(ctx.app, input)),
  }),
  oauth: router({}),
});
