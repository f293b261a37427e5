// GraphQL admin of the oncall module: OncallGroup, OncallMember, Shift, Swap; the oncallGroups
// (Relay connection) and oncallGroup queries; the group, member, rotation and swap mutations.
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { z } from 'zod';
import { builder } from '../api/index.ts';
import { getOwner } from '../links/index.ts';
import { addOncallMember, createOncallGroup, parseInput, removeOncallMember } from './groups.ts';
import {
  groupById,
  listGroups,
  membersOf,
  shiftById,
  shiftsOfGroup,
  slackTsForSwaps,
  swapsOfGroup,
  type OncallGroup,
  type OncallMember,
  type Shift,
  type Swap,
} from './queries.ts';
import { scheduleRotation } from './schedule-rotation.ts';
import { swapShifts } from './swap.ts';

const isUuid = (s: string) => z.uuid().safeParse(s).success;

const ShiftStatusEnum = builder.enumType('ShiftStatus', {
  values: {
    SCHEDULED: { value: 'scheduled' },
    DECLINED: { value: 'declined', description: 'declined by its assignee; a swap is being looked for' },
    SWAPPED: { value: 'swapped', description: 'changed hands in a swap (see swappedWith)' },
    UNCOVERED: { value: 'uncovered', description: 'declined and nobody could swap: cover was asked for in Slack' },
  } as const,
});

const SwapStateEnum = builder.enumType('SwapState', {
  values: {
    PENDING: { value: 'pending', description: 'the Google events are being patched' },
    COMPENSATING: { value: 'compensating', description: 'failed for good; the events are being put back' },
    COMPLETED: { value: 'completed' },
    ABORTED: { value: 'aborted', description: 'failed and undone' },
  } as const,
});

const OncallMemberRef = builder.objectRef<OncallMember>('OncallMember').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    slackUserId: t.exposeString('slackUserId', { nullable: true, description: 'null when Slack does not know the address' }),
    position: t.exposeInt('position', { description: 'order in the round-robin' }),
  }),
});

const OncallGroupRef = builder.objectRef<OncallGroup>('OncallGroup');
const ShiftRef = builder.objectRef<Shift>('Shift');
const SwapRef = builder.objectRef<Swap>('Swap');

OncallGroupRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    externalOwnerId: t.string({
      nullable: true,
      resolve: async (g, _args, ctx) => (await getOwner(ctx.app, g.ownerId))?.externalOwnerId ?? null,
    }),
    calendarId: t.exposeString('calendarId', { description: "Google's id of the calendar holding the shifts" }),
    slackChannel: t.exposeString('slackChannel'),
    timeZone: t.exposeString('timeZone'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    members: t.field({ type: [OncallMemberRef], resolve: (g, _args, ctx) => membersOf(ctx.app.db, g.id) }),
    shifts: t.field({
      type: [ShiftRef],
      description: 'Shifts overlapping [from, to), by start (at most 500)',
      args: { from: t.arg({ type: 'DateTime', required: false }), to: t.arg({ type: 'DateTime', required: false }) },
      resolve: async (g, args, ctx) =>
        (await shiftsOfGroup(ctx.app.db, g.id, { ...(args.from ? { from: args.from } : {}), ...(args.to ? { to: args.to } : {}) })).slice(0, 500),
    }),
    swaps: t.field({
      type: [SwapRef],
      description: 'Newest first',
      args: { first: t.arg.int({ required: false }) },
      resolve: (g, args, ctx) => swapsOfGroup(ctx.app.db, g.id, Math.min(Math.max(args.first ?? 50, 1), 200)),
    }),
  }),
});

ShiftRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    group: t.field({ type: OncallGroupRef, resolve: async (s, _args, ctx) => (await groupById(ctx.app.db, s.groupId))! }),
    assigneeEmail: t.exposeString('assigneeEmail'),
    start: t.expose('startAt', { type: 'DateTime' }),
    end: t.expose('endAt', { type: 'DateTime' }),
    status: t.field({ type: ShiftStatusEnum, resolve: (s) => s.status as 'scheduled' }),
    declinedOn: t.expose('declinedOn', { type: 'Date', nullable: true, description: "the day of the decline, in the group's time zone" }),
    declinedBy: t.exposeString('declinedBy', { nullable: true }),
    swappedWith: t.field({
      type: ShiftRef,
      nullable: true,
      resolve: async (s, _args, ctx) => (s.swappedWithId ? ((await shiftById(ctx.app.db, s.swappedWithId)) ?? null) : null),
    }),
    googleEventId: t.exposeString('googleEventId'),
  }),
});

SwapRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', { description: 'auto (a decline in Google Calendar) or manual (swapShifts)' }),
    state: t.field({ type: SwapStateEnum, resolve: (s) => s.state as 'pending' }),
    declinedShift: t.field({ type: ShiftRef, resolve: async (s, _args, ctx) => (await shiftById(ctx.app.db, s.declinedShiftId))! }),
    swapShift: t.field({ type: ShiftRef, resolve: async (s, _args, ctx) => (await shiftById(ctx.app.db, s.swapShiftId))! }),
    fromEmail: t.exposeString('fromEmail', { description: 'held the declined shift, now holds the other one' }),
    toEmail: t.exposeString('toEmail', { description: 'held the other shift, now holds the declined one' }),
    at: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    slackTs: t.string({
      nullable: true,
      resolve: async (s, _args, ctx) => (await slackTsForSwaps(ctx.app.db, [s.id])).get(s.id) ?? null,
    }),
  }),
});

builder.queryField('oncallGroups', (t) =>
  t.connection(
    {
      type: OncallGroupRef,
      resolve: (_root, args, ctx) =>
        resolveOffsetConnection({ args, defaultSize: 50, maxSize: 200 }, ({ limit, offset }) => listGroups(ctx.app.db, { limit, offset })),
    },
    { name: 'OncallGroupConnection' },
    { name: 'OncallGroupEdge' },
  ),
);

builder.queryField('oncallGroup', (t) =>
  t.field({
    type: OncallGroupRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (isUuid(String(args.id)) ? ((await groupById(ctx.app.db, String(args.id))) ?? null) : null),
  }),
);

const OncallMemberInput = builder.inputType('OncallMemberInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    name: t.string({ required: true }),
    slackUserId: t.string({ required: false, description: 'looked up with users.lookupByEmail when not given' }),
  }),
});

const CreateOncallGroupInput = builder.inputType('CreateOncallGroupInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    externalOwnerId: t.string({ required: true }),
    calendarId: t.string({ required: true, description: "Google's id of one of the owner's calendars, selected for sync" }),
    slackChannel: t.string({ required: true }),
    timeZone: t.string({ required: true, description: 'IANA, e.g. Europe/Paris' }),
    members: t.field({ type: [OncallMemberInput], required: false }),
  }),
});

const AddOncallMemberInput = builder.inputType('AddOncallMemberInput', {
  fields: (t) => ({
    groupId: t.id({ required: true }),
    email: t.string({ required: true }),
    name: t.string({ required: true }),
    slackUserId: t.string({ required: false }),
  }),
});

const RemoveOncallMemberInput = builder.inputType('RemoveOncallMemberInput', {
  fields: (t) => ({ groupId: t.id({ required: true }), email: t.string({ required: true }) }),
});

const ScheduleRotationInput = builder.inputType('ScheduleRotationInput', {
  fields: (t) => ({
    groupId: t.id({ required: true }),
    start: t.field({ type: 'DateTime', required: true }),
    shiftHours: t.float({ required: true }),
    count: t.int({ required: true }),
  }),
});

const SwapShiftsInput = builder.inputType('SwapShiftsInput', {
  fields: (t) => ({ declinedShiftId: t.id({ required: true }), swapShiftId: t.id({ required: true }) }),
});

const nullsToUndefined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]: Exclude<T[K], null> };

builder.mutationField('createOncallGroup', (t) =>
  t.field({
    type: OncallGroupRef,
    args: { input: t.arg({ type: CreateOncallGroupInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createOncallGroup(ctx.app, { ...nullsToUndefined(input), members: (input.members ?? []).map((m) => nullsToUndefined(m)) }),
  }),
);

builder.mutationField('addOncallMember', (t) =>
  t.field({
    type: OncallGroupRef,
    args: { input: t.arg({ type: AddOncallMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => addOncallMember(ctx.app, { ...nullsToUndefined(input), groupId: String(input.groupId) }),
  }),
);

builder.mutationField('removeOncallMember', (t) =>
  t.field({
    type: OncallGroupRef,
    description: 'Refused (CONFLICT) while the member holds future shifts',
    args: { input: t.arg({ type: RemoveOncallMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => removeOncallMember(ctx.app, { groupId: String(input.groupId), email: input.email }),
  }),
);

builder.mutationField('scheduleRotation', (t) =>
  t.field({
    type: [ShiftRef],
    description: 'Round-robin shifts from start, each inserted into Google Calendar with its assignee invited',
    args: { input: t.arg({ type: ScheduleRotationInput, required: true }) },
    resolve: (_root, { input }, ctx) => scheduleRotation(ctx.app, { ...input, groupId: String(input.groupId) }),
  }),
);

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
