// tRPC transports of sync: validate, call one verb, return its result.
import { z } from 'zod';
import { router, serviceProcedure } from '../api/index.ts';
import { listOwnerEvents, resyncOwnerCalendars, selectCalendar } from './procedures.ts';

const ExternalOwnerId = z.string().min(1).max(255);
/** Google's calendar id (`primary`, an email address, `...@group.calendar.google.com`). */
const CalendarId = z.string().min(1).max(1024);
/** RFC 3339 with an offset (as Google's timeMin/timeMax require). */
const Instant = z.iso.datetime({ offset: true });

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
