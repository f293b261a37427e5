// tRPC transports of availability: validate, call one verb, shape the answer (ISO strings).
import { z } from 'zod';
import { CalendarId, ExternalOwnerId, InstantDate, router, serviceProcedure, TimeZone } from '../api/index.ts';
import { busyForExternalOwner, type TimeInterval } from './busy.ts';
import { explainBusy, type ExplainedInterval } from './explain.ts';
import { findFreeSlots, MAX_OWNERS, type FreeSlot } from './free.ts';
import { getPreferences, setPreferences } from './preferences.ts';

const CalendarIds = z.array(CalendarId).max(100);
const Clock = z.string().regex(/^\d{2}:\d{2}$/, 'must be HH:MM');

const Range = { externalOwnerId: ExternalOwnerId, from: InstantDate, to: InstantDate, calendarIds: CalendarIds.optional() };
const Minutes = (max: number) => z.number().int().min(0).max(max).optional();
const Buffers = { bufferBeforeMinutes: Minutes(1440), bufferAfterMinutes: Minutes(1440) };
/** Without `timeZone`: the owner's primary calendar's zone (UTC when unknown). */
const WorkingHours = z.object({
  timeZone: TimeZone.optional(),
  days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
  start: Clock,
  end: Clock,
});

const iso = (xs: TimeInterval[]) => xs.map((i) => ({ start: i.start.toISOString(), end: i.end.toISOString() }));
const isoSlots = (xs: FreeSlot[]) => xs.map((s) => ({ start: s.start.toISOString(), end: s.end.toISOString(), ...(s.externalOwnerIds ? { externalOwnerIds: s.externalOwnerIds } : {}) }));
const isoExplained = (xs: ExplainedInterval[]) =>
  xs.map((i) => ({
    start: i.start.toISOString(),
    end: i.end.toISOString(),
    sources: i.sources.map((s) => ({ ...s, start: s.start.toISOString(), end: s.end.toISOString() })),
  }));

const BusyInput = z.object({ ...Range, ...Buffers, explain: z.boolean().optional() });

/** One owner (`externalOwnerId`, the first form) or several (`externalOwnerIds`, with `required`). */
const FreeInput = z
  .object({
    externalOwnerId: ExternalOwnerId.optional(),
    externalOwnerIds: z.array(ExternalOwnerId).min(1).max(MAX_OWNERS).optional(),
    required: z.union([z.literal('all'), z.number().int().min(1).max(MAX_OWNERS)]).optional(),
    from: InstantDate,
    to: InstantDate,
    calendarIds: CalendarIds.optional(),
    durationMinutes: z.number().int().min(1).max(1440),
    workingHours: WorkingHours.optional(),
    workingHoursByOwner: z.record(ExternalOwnerId, WorkingHours.nullable()).optional(),
    ...Buffers,
    minimumNoticeMinutes: Minutes(366 * 1440),
    slotStepMinutes: z.number().int().min(1).max(1440).optional(),
  })
  .refine((i) => (i.externalOwnerId === undefined) !== (i.externalOwnerIds === undefined), 'give either `externalOwnerId` or `externalOwnerIds`');

export const availabilityRouter = router({
  availability: router({
    busy: serviceProcedure
      .input(BusyInput)
      .query(async ({ ctx, input }) =>
        input.explain ? { intervals: isoExplained(await explainBusy(ctx.app, input)) } : { intervals: iso(await busyForExternalOwner(ctx.app, input)) },
      ),
    free: serviceProcedure.input(FreeInput).query(async ({ ctx, input }) => ({ slots: isoSlots(await findFreeSlots(ctx.app, input)) })),
    preferences: router({
      get: serviceProcedure.input(z.object({ externalOwnerId: ExternalOwnerId })).query(({ ctx, input }) => getPreferences(ctx.app, input)),
      set: serviceProcedure
        .input(z.object({ externalOwnerId: ExternalOwnerId, tentativeBlocks: z.boolean().optional(), calendarIds: CalendarIds.nullable().optional() }))
        .mutation(({ ctx, input }) => setPreferences(ctx.app, input)),
    }),
  }),
});
