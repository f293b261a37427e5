// How channels follows the rest of the service: a calendar's first (or recovery) full sync creates
// its channel; deselection or removal stops it; an owner's link creates its calendar-list channel
// (sync emits nothing when a calendar list is synced, so the owner's `linked` event is the cue) and
// a revival recreates what the revocation stopped; revocation stops everything without calling
// Google (the grant is dead); unlinking stops every channel at Google first.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { onCalendarChanges, onEventChanges, type CalendarChange } from '../sync/index.ts';
import { noteChangesSynced } from './push-recheck.ts';
import { onOwnerEvent, beforeUnlink, type OwnerEvent } from '../links/index.ts';
import { currentChannel, resourceKeyFor } from './queries.ts';
import { forgetOwnerChannels, webhookAddress } from './runtime.ts';
import { stopChannelsForOwner, stopChannelsInTx } from './stop.ts';
import { createChannelJob, ensureOwnerChannelsJob } from './jobs.ts';

async function onCalendarChange(tx: Executor, ctx: Ctx, change: CalendarChange): Promise<void> {
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

async function onOwner(tx: Executor, ctx: Ctx, ev: OwnerEvent): Promise<void> {
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

let registered = false;

/** Registers the hooks once per process (the registries are keyed by name: repeating is harmless). */
export function registerChannelReactions(): void {
  if (registered) return;
  registered = true;
  onCalendarChanges('channels', onCalendarChange);
  // The push recheck needs to know when a sync found something (push-recheck.ts).
  onEventChanges('channels', noteChangesSynced);
  onOwnerEvent('channels', onOwner);
  beforeUnlink('channels', async (ctx, owner) => {
    const r = await stopChannelsForOwner(ctx, owner.ownerId);
    if (r.stopped + r.failed > 0) ctx.log.info({ module: 'channels', ownerId: owner.ownerId, ...r }, 'channels stopped before unlink');
  });
}
