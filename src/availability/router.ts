// tRPC transports of availability: validate, call one verb, shape the answer (ISO strings).
import { z } from 'zod';
import { router, serviceProcedure } from '../api/index.ts';
import { busyForExternalOwner, freeForExternalOwner, type TimeInterval } from './busy.ts';
import { getPreferences, setPreferences } from './preferences.ts';

const ExternalOwnerId = z.string().min(1).max(255);
/** Google's calendar id (`primary`, an email address, `...@group.calendar.google.com`). */
const CalendarIds = z.array(z.string().min(1).max(1024)).max(100);
const Instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone offset (e.g. 2030-01-01T10:00:00Z)' })
  .transform((s) => new Date(s));
const Clock = z.string().regex(/^\d{2}:\d{2}$/, 'must be HH:MM');

const Range = { externalOwnerId: ExternalOwnerId, from: Instant, to: Instant, calendarIds: CalendarIds.optional() };
const WorkingHours = z.object({
  timeZone: z.string().min(1).max(64),
  days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
  start: Clock,
  end: Clock,
});

const iso = (xs: TimeInterval[]) => xs.map((i) => ({ start: i.start.toISOString(), end: i.end.toISOString() }));

export const availabilityRouter = router({
  availability: router({
    busy: serviceProcedure
      .input(z.object(Range))
      .query(async ({ ctx, input }) => ({ intervals: iso(await busyForExternalOwner(ctx.app, input)) })),
    free: serviceProcedure
      .input(z.object({ ...Range, durationMinutes: z.number().int().min(1).max(1440), workingHours: WorkingHours.optional() }))
      .query(async ({ ctx, input }) => ({ slots: iso(await freeForExternalOwner(ctx.app, input)) })),
    preferences: router({
      get: serviceProcedure.input(z.object({ externalOwnerId: ExternalOwnerId })).query(({ ctx, input }) => getPreferences(ctx.app, input)),
      set: serviceProcedure
        .input(z.object({ externalOwnerId: ExternalOwnerId, tentativeBlocks: z.boolean().optional(), calendarIds: CalendarIds.nullable().optional() }))
        .mutation(({ ctx, input }) => setPreferences(ctx.app, input)),
    }),
  }),
});
