// tRPC transport of the changes feed: validate, call one verb.
import { z } from 'zod';
import { router, serviceProcedure } from '../api/index.ts';
import { listChanges, MAX_LIMIT } from './list.ts';

const ListChangesInput = z
  .object({
    after: z.string().min(1).max(64).optional(),
    externalOwnerId: z.string().min(1).max(256).optional(),
    calendarId: z.string().min(1).max(1024).optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
  })
  .optional();

export const changesRouter = router({
  changes: router({
    list: serviceProcedure.input(ListChangesInput).query(({ ctx, input }) => listChanges(ctx.app, input ?? {})),
  }),
});
