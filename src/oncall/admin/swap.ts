// The Swap type (and SwapState) and the swapShifts mutation, which returns the swap.
import { z } from 'zod';
import { builder } from '../../api/index.ts';
import { parseInput } from '../groups.ts';
import { swapShifts } from '../swap.ts';
import { loadShift, loadSlackTs } from './loaders.ts';
import { ShiftRef, SwapRef } from './refs.ts';

const SwapStateEnum = builder.enumType('SwapState', {
  values: {
    PENDING: { value: 'pending', description: 'the Google events are being patched' },
    COMPENSATING: { value: 'compensating', description: 'failed for good; the events are being put back' },
    COMPLETED: { value: 'completed' },
    ABORTED: { value: 'aborted', description: 'failed and undone' },
  } as const,
});

SwapRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', { description: 'auto (a decline in Google Calendar) or manual (swapShifts)' }),
    state: t.field({ type: SwapStateEnum, resolve: (s) => s.state as 'pending' }),
    declinedShift: t.field({ type: ShiftRef, resolve: async (s, _args, ctx) => (await loadShift(ctx, s.declinedShiftId))! }),
    swapShift: t.field({ type: ShiftRef, resolve: async (s, _args, ctx) => (await loadShift(ctx, s.swapShiftId))! }),
    fromEmail: t.exposeString('fromEmail', { description: 'held the declined shift, now holds the other one' }),
    toEmail: t.exposeString('toEmail', { description: 'held the other shift, now holds the declined one' }),
    at: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    slackTs: t.string({ nullable: true, resolve: (s, _args, ctx) => loadSlackTs(ctx, s.id) }),
  }),
});

const SwapShiftsInput = builder.inputType('SwapShiftsInput', {
  fields: (t) => ({ declinedShiftId: t.id({ required: true }), swapShiftId: t.id({ required: true }) }),
});

const SwapShiftsArgs = z.object({ declinedShiftId: z.uuid(), swapShiftId: z.uuid() });

builder.mutationField('swapShifts', (t) =>
  t.field({
    type: SwapRef,
    description: 'Swaps two shifts of a group by hand (both Google events patched, then both shifts)',
    args: { input: t.arg({ type: SwapShiftsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      swapShifts(ctx.app, parseInput(SwapShiftsArgs, { declinedShiftId: String(input.declinedShiftId), swapShiftId: String(input.swapShiftId) }), ctx.log),
  }),
);
