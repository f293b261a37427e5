// The OncallGroup type, the oncallGroups (Relay connection) and oncallGroup queries, and the group
// and member mutations (each returns the group).
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { builder } from '../../api/index.ts';
import { loadOwner } from '../../links/index.ts';
import { addOncallMember, createOncallGroup, removeOncallMember } from '../groups.ts';
import { getGroup, listGroupsPage } from '../read-groups.ts';
import { loadMembers, loadShifts, loadSwaps } from './loaders.ts';
import { OncallMemberRef } from './member.ts';
import { OncallGroupRef, ShiftRef, SwapRef } from './refs.ts';

OncallGroupRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    externalOwnerId: t.string({
      nullable: true,
      resolve: async (g, _args, ctx) => (await loadOwner(ctx, g.ownerId))?.externalOwnerId ?? null,
    }),
    calendarId: t.exposeString('calendarId', { description: "Google's id of the calendar holding the shifts" }),
    slackChannel: t.exposeString('slackChannel'),
    timeZone: t.exposeString('timeZone'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    members: t.field({ type: [OncallMemberRef], resolve: (g, _args, ctx) => loadMembers(ctx, g.id) }),
    shifts: t.field({
      type: [ShiftRef],
      description: 'Shifts overlapping [from, to), by start (at most 500)',
      args: { from: t.arg({ type: 'DateTime', required: false }), to: t.arg({ type: 'DateTime', required: false }) },
      resolve: (g, args, ctx) => loadShifts(ctx, g.id, { ...(args.from ? { from: args.from } : {}), ...(args.to ? { to: args.to } : {}) }, 500),
    }),
    swaps: t.field({
      type: [SwapRef],
      description: 'Newest first',
      args: { first: t.arg.int({ required: false }) },
      resolve: (g, args, ctx) => loadSwaps(ctx, g.id, Math.min(Math.max(args.first ?? 50, 1), 200)),
    }),
  }),
});

builder.queryField('oncallGroups', (t) =>
  t.connection(
    {
      type: OncallGroupRef,
      resolve: (_root, args, ctx) =>
        resolveOffsetConnection({ args, defaultSize: 50, maxSize: 200 }, ({ limit, offset }) => listGroupsPage(ctx.app, { limit, offset })),
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
    resolve: async (_root, args, ctx) => (await getGroup(ctx.app, String(args.id))) ?? null,
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
