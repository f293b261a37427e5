// How channels follows the rest of the service: a calendar's first (or recovery) full sync creates
// its channel; deselection or removal stops it; an owner's link creates its calendar-list channel
// (sync emits nothing when a calendar list is synced, so the owner's `linked` event is the cue) and
// a revival recreates what the revocation stopped; revocation stops everything without calling
// Google (the grant is dead); unlinking stops every channel at Google first.
import type { CalendarChange, Ctx, ModuleReactions, OwnerEvent, TxCtx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { noteChangesSynced } from './push-recheck.ts';
import { currentChannel, resourceKeyFor } from './queries.ts';
import { forgetOwnerChannels, webhookAddress } from './runtime.ts';
import { stopChannelsForOwner, stopChannelsInTx } from './stop.ts';
import { createChannelJob, ensureOwnerChannelsJob } from './jobs.ts';

async function onCalendarChange(ctx: TxCtx, change: CalendarChange): Promise<void> {
  const { tx } = ctx;
  switch (change.kind) {
    case 'fullSynced': {
      if (!webhookAddress(ctx)) return;
      const key = resourceKeyFor({ ownerId: change.ownerId, calendarRowId: change.calendarRowId });
      const current = await currentChannel(tx, key);
      if (current && (current.status === 'pending' || !current.expiresAt || current.expiresAt > ctx.clock.now())) return;
      await createChannelJob.send(ctx, { ownerId: change.ownerId, calendarRowId: change.calendarRowId, reason: 'fullSynced' }, { tx, singletonKey: key });
      createChannelJob.wake(ctx);
      return;
    }
    case 'deselected':
    case 'removed':
      await stopChannelsInTx(tx, ctx, { calendarRowId: change.calendarRowId }, `calendar ${change.kind}`, { callGoogle: true });
      return;
    default:
      return;
  }
}

async function onOwner(ctx: TxCtx, ev: OwnerEvent): Promise<void> {
  const { tx } = ctx;
  switch (ev.type) {
    case 'linked':
    case 'refreshed':
      if (!webhookAddress(ctx)) return;
      // The calendar-list channel, and (after a revocation) the calendars' channels again.
      await ensureOwnerChannelsJob.send(ctx, { ownerId: ev.ownerId }, { tx, singletonKey: ev.ownerId });
      ensureOwnerChannelsJob.wake(ctx);
      return;
    case 'revoked':
      // The grant is dead: channels.stop would fail (and cost token requests). Stopped here; they
      // expire at Google by themselves and their notifications are answered 204 meanwhile.
      await stopChannelsInTx(tx, ctx, { ownerId: ev.ownerId }, 'owner revoked', { callGoogle: false });
      return;
    case 'unlinked':
      // Stopped at Google by the before-unlink hook; the rows go with the owner's (cascade).
      forgetOwnerChannels(ctx, ev.ownerId);
      return;
    default:
      return;
  }
}

/** What channels reacts to (push-recheck.ts needs to know when a sync found something). */
export const channelsReactions: ModuleReactions = {
  calendarChanges: onCalendarChange,
  eventChanges: noteChangesSynced,
  ownerEvents: onOwner,
  beforeUnlink: stopBeforeUnlink,
};

async function stopBeforeUnlink(ctx: Ctx, owner: { ownerId: string; externalOwnerId: string }): Promise<void> {
  const r = await stopChannelsForOwner(ctx, owner.ownerId);
  if (r.stopped + r.failed > 0) ctx.log.info({ module: 'channels', ownerId: owner.ownerId, ...r }, 'channels stopped before unlink');
}
