// Reads of groups, members, shifts and swaps for the admin API, each for many parents at once (its
// loaders batch a page's rows into one call of each).
import { OncallGroupId } from '../api/index.ts';
import type { Ctx } from '../context/index.ts';
import {
  groupById,
  groupsByIds,
  listGroups,
  membersOfGroups,
  shiftsByIds,
  shiftsOfGroups,
  slackTsForSwaps,
  swapsOfGroups,
  type OncallGroup,
  type OncallMember,
  type Shift,
  type Swap,
} from './queries.ts';

type ReadCtx = Pick<Ctx, 'db'>;

const isGroupId = (s: string) => OncallGroupId.safeParse(s).success;

/** Groups, oldest first. */
export const listGroupsPage = (ctx: ReadCtx, input: { limit: number; offset: number }): Promise<OncallGroup[]> => listGroups(ctx.db, input);

/** The group, or undefined (also for an id that is not one). */
export const getGroup = async (ctx: ReadCtx, id: string): Promise<OncallGroup | undefined> => (isGroupId(id) ? groupById(ctx.db, id) : undefined);

export const getGroups = (ctx: ReadCtx, ids: readonly string[]): Promise<OncallGroup[]> => groupsByIds(ctx.db, ids);

export const getShifts = (ctx: ReadCtx, ids: readonly string[]): Promise<Shift[]> => shiftsByIds(ctx.db, ids);

/** Members of each group, by position. */
export const listMembersOfGroups = (ctx: ReadCtx, groupIds: readonly string[]): Promise<OncallMember[]> => membersOfGroups(ctx.db, groupIds);

/** Shifts of each group overlapping [from, to), by start, at most `perGroup` of each. */
export const listShiftsOfGroups = (ctx: ReadCtx, input: { groupIds: readonly string[]; from?: Date; to?: Date; perGroup: number }): Promise<Shift[]> =>
  shiftsOfGroups(ctx.db, input.groupIds, { ...(input.from ? { from: input.from } : {}), ...(input.to ? { to: input.to } : {}) }, input.perGroup);

/** Swaps of each group, newest first, at most `perGroup` of each. */
export const listSwapsOfGroups = (ctx: ReadCtx, input: { groupIds: readonly string[]; perGroup: number }): Promise<Swap[]> =>
  swapsOfGroups(ctx.db, input.groupIds, input.perGroup);

/** The Slack ts of each swap's announcement (absent: not posted, or none). */
export const slackTsOfSwaps = (ctx: ReadCtx, swapIds: readonly string[]): Promise<Map<string, string | null>> => slackTsForSwaps(ctx.db, swapIds);

export type { OncallGroup, OncallMember, Shift, Swap };
