// Reactions to links' owner events and sync's calendar changes, inside their transactions.
import { eq, sql } from 'drizzle-orm';
import type { Ctx, TxCtx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import type { CalendarChange, OwnerEvent } from '../context/index.ts';
import {
  availabilityPreferences,
  availabilitySeries,
  availabilitySources,
  blockedTimes,
  frozenBlockedTimes,
} from '../../schema/availability.ts';
import { deleteCalendar } from './store.ts';

/**
 * UNLINKED (dispatched before links deletes the owner): the owner's blocked times are deleted with
 * everything else, or, with keepBlockedTimes, copied to frozen rows that no longer sync and stay
 * readable by the external owner id. LINKED again: live rows take over, the frozen ones go.
 */
export async function onOwnerEventForAvailability(ctx: TxCtx, ev: OwnerEvent): Promise<void> {
  const { tx } = ctx;
  if (ev.type === 'linked') {
    await tx.delete(frozenBlockedTimes).where(eq(frozenBlockedTimes.externalOwnerId, ev.externalOwnerId));
    return;
  }
  if (ev.type !== 'unlinked') return;
  await tx.delete(frozenBlockedTimes).where(eq(frozenBlockedTimes.externalOwnerId, ev.externalOwnerId));
  if (ev.keepBlockedTimes) {
    const b = blockedTimes;
    await tx.execute(sql`
      insert into ${frozenBlockedTimes} (external_owner_id, former_owner_id, calendar_id, source_event_id, start_at, end_at, frozen_at)
      select ${ev.externalOwnerId}, ${b.ownerId}, ${b.calendarId}, ${b.sourceEventId}, ${b.startAt}, ${b.endAt}, ${ctx.clock.now().toISOString()}::timestamptz
      from ${b} where ${b.ownerId} = ${ev.ownerId}`);
  }
  await tx.delete(blockedTimes).where(eq(blockedTimes.ownerId, ev.ownerId));
  await tx.delete(availabilitySeries).where(eq(availabilitySeries.ownerId, ev.ownerId));
  await tx.delete(availabilitySources).where(eq(availabilitySources.ownerId, ev.ownerId));
  await tx.delete(availabilityPreferences).where(eq(availabilityPreferences.ownerId, ev.ownerId));
}

/** A calendar deselected or gone: its events left the mirror, so do its blocked times. */
export async function onCalendarChangeForAvailability(ctx: TxCtx, change: CalendarChange): Promise<void> {
  const { tx } = ctx;
  if (change.kind === 'removed' || change.kind === 'deselected') await deleteCalendar(tx, change.calendarRowId);
}
