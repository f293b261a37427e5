// The Shift type (and ShiftStatus) and the scheduleRotation mutation, which returns the new shifts.
import { builder } from '../../api/index.ts';
import { scheduleRotation } from '../schedule-rotation.ts';
import { loadGroup, loadShift } from './loaders.ts';
import { OncallGroupRef, ShiftRef } from './refs.ts';

const ShiftStatusEnum = builder.enumType('ShiftStatus', {
  values: {
    SCHEDULED: { value: 'scheduled' },
    DECLINED: { value: 'declined', description: 'declined by its assignee; a swap is being looked for' },
    SWAPPED: { value: 'swapped', description: 'changed hands in a swap (see swappedWith)' },
    UNCOVERED: { value: 'uncovered', description: 'declined and nobody could swap: cover was asked for in Slack' },
  } as const,
});

ShiftRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    group: t.field({ type: OncallGroupRef, resolve: async (s, _args, ctx) => (await loadGroup(ctx, s.groupId))! }),
    assigneeEmail: t.exposeString('assigneeEmail'),
    start: t.expose('startAt', { type: 'DateTime' }),
    end: t.expose('endAt', { type: 'DateTime' }),
    status: t.field({ type: ShiftStatusEnum, resolve: (s) => s.status as 'scheduled' }),
    declinedOn: t.expose('declinedOn', { type: 'Date', nullable: true, description: "the day of the decline, in the group's time zone" }),
    declinedBy: t.exposeString('declinedBy', { nullable: true }),
    swappedWith: t.field({
      type: ShiftRef,
      nullable: true,
      resolve: (s, _args, ctx) => (s.swappedWithId ? loadShift(ctx, s.swappedWithId) : null),
    }),
    googleEventId: t.exposeString('googleEventId'),
  }),
});

const ScheduleRotationInput = builder.inputType('ScheduleRotationInput', {
  fields: (t) => ({
    groupId: t.id({ required: true }),
    start: t.field({ type: 'DateTime', required: true }),
    shiftHours: t.float({ required: true }),
    count: t.int({ required: true }),
  }),
});

builder.mutationField('scheduleRotation', (t) =>
  t.field({
    type: [ShiftRef],
    description: 'Round-robin shifts from start, each inserted into Google Calendar with its assignee invited',
    args: { input: t.arg({ type: ScheduleRotationInput, required: true }) },
    resolve: (_root, { input }, ctx) => scheduleRotation(ctx.app, { ...input, groupId: String(input.groupId) }),
  }),
);
