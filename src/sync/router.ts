// tRPC transports of sync: validate, call one verb, return its result.
import { z } from 'zod';
import { CalendarId, ExternalOwnerId, Instant, router, serviceProcedure } from '../api/index.ts';
import { listOwnerEvents, resyncOwnerCalendars, selectCalendar } from './procedures.ts';

export const syncRouter = router({
  calendars: router({
    setSelected: serviceProcedure
      .input(z.object({ externalOwnerId: ExternalOwnerId, calendarId: CalendarId, selected: z.boolean() }))
      .mutation(({ ctx, input }) => selectCalendar(ctx.app, input)),
    resync: serviceProcedure
      .input(z.object({ externalOwnerId: ExternalOwnerId, calendarId: CalendarId.optional() }))
      .mutation(({ ctx, input }) => resyncOwnerCalendars(ctx.app, input)),
  }),
  events: router({
    list: serviceProcedure
      .input(z.object({ externalOwnerId: ExternalOwnerId, calendarId: CalendarId.optional(), from: Instant, to: Instant }))
      .query(({ ctx, input }) => listOwnerEvents(ctx.app, input)),
  }),
});
