// The `oncall` module's public face: other modules import only from here.
import type { CalwatchModule, OwnerEvent, TxCtx } from '../context/index.ts';
import { router } from '../api/index.ts';
import { detectDeclines } from './decline.ts';
import { deleteGroupsOfOwner } from './groups.ts';
import { oncallJobs } from './jobs.ts';
import './admin/index.ts';

export { createOncallGroup, addOncallMember, removeOncallMember } from './groups.ts';
export { scheduleRotation } from './schedule-rotation.ts';
export { swapShifts } from './swap.ts';
export { findShiftForSwap } from './find-shift-for-swap.ts';
export { declinedJob, notifyJob } from './jobs.ts';

export const oncallRouter = router({});

// UNLINKED: the owner's calendar is no longer reachable; its groups (and shifts, swaps) go.
async function deleteGroupsOnUnlink(ctx: TxCtx, ev: OwnerEvent): Promise<void> {
  if (ev.type !== 'unlinked') return;
  const n = await deleteGroupsOfOwner(ctx.tx, ev.ownerId);
  if (n > 0) ctx.log.info({ ownerId: ev.ownerId, groups: n }, 'owner unlinked: on-call groups deleted');
}

export const oncallModule: CalwatchModule = {
  name: 'oncall',
  jobs: oncallJobs,
  // Declines arrive through the sync's change sets, inside its transaction.
  reactions: { eventChanges: detectDeclines, ownerEvents: deleteGroupsOnUnlink },
};
