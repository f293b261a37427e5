// The oncall relations, each batched per request: a page of groups with their members, shifts and
// swaps costs one query per relation, whatever the page size.
import { groupBy, loaderFor, loaderName, oneBy, type AdminContext } from '../../api/index.ts';
import {
  getGroups,
  getShifts,
  listMembersOfGroups,
  listShiftsOfGroups,
  listSwapsOfGroups,
  slackTsOfSwaps,
  type OncallGroup,
  type OncallMember,
  type Shift,
  type Swap,
} from '../read-groups.ts';

export const loadGroup = (ctx: AdminContext, id: string) =>
  loaderFor<string, OncallGroup | null>(ctx, 'oncall.group', async (ids) => oneBy(ids, await getGroups(ctx.app, ids), (g) => g.id)).load(id);

export const loadShift = (ctx: AdminContext, id: string) =>
  loaderFor<string, Shift | null>(ctx, 'oncall.shift', async (ids) => oneBy(ids, await getShifts(ctx.app, ids), (s) => s.id)).load(id);

export const loadMembers = (ctx: AdminContext, groupId: string) =>
  loaderFor<string, OncallMember[]>(ctx, 'oncall.members', async (ids) => groupBy(ids, await listMembersOfGroups(ctx.app, ids), (m) => m.groupId)).load(groupId);

export function loadShifts(ctx: AdminContext, groupId: string, range: { from?: Date; to?: Date }, perGroup: number) {
  return loaderFor<string, Shift[]>(ctx, loaderName('oncall.shifts', { ...range, perGroup }), async (ids) =>
    groupBy(ids, await listShiftsOfGroups(ctx.app, { groupIds: ids, ...range, perGroup }), (s) => s.groupId),
  ).load(groupId);
}

export function loadSwaps(ctx: AdminContext, groupId: string, perGroup: number) {
  return loaderFor<string, Swap[]>(ctx, loaderName('oncall.swaps', { perGroup }), async (ids) =>
    groupBy(ids, await listSwapsOfGroups(ctx.app, { groupIds: ids, perGroup }), (s) => s.groupId),
  ).load(groupId);
}

export function loadSlackTs(ctx: AdminContext, swapId: string) {
  return loaderFor<string, string | null>(ctx, 'oncall.slackTs', async (ids) => {
    const byId = await slackTsOfSwaps(ctx.app, ids);
    return ids.map((id) => byId.get(id) ?? null);
  }).load(swapId);
}
