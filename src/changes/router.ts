// tRPC transport of the changes feed: validate, call one verb.
import { z } from 'zod';
import { CalendarId, ExternalOwnerId, PageLimit, router, serviceProcedure } from '../api/index.ts';
import { listChanges, MAX_LIMIT } from './list.ts';

const ListChangesInput = z
  .object({
    after: z.string().min(1).max(64).optional(),
    externalOwnerId: ExternalOwnerId.optional(),
    calendarId: CalendarId.optional(),
    limit: PageLimit(MAX_LIMIT).optional(),
  })
  .optional();

export const changesRouter = router({
  changes: router({
    list: serviceProcedure.input(ListChangesInput).query(({ ctx, input }) => listChanges(ctx.app, input ?? {})),
  }),
});
