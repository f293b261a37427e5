// How sync follows the owner's link: reacting to links' owner events inside links' transaction,
// and answering links.get with the owner's calendars.
import { and, eq } from 'drizzle-orm';
import type { CalendarStatus, Ctx, OwnerEvent, TxCtx } from '../context/index.ts';
import { calendarLists, calendars } from '../../schema/sync.ts';
import { listOwnerCalendars } from './calendars.ts';
import { enqueueCalendarListSync, enqueueEventSync } from './enqueue.ts';
import { forgetOwnerSyncTokens } from './resync.ts';

export async function onOwnerEventForSync(ctx: TxCtx, ev: OwnerEvent): Promise<void> {
  const { tx } = ctx;
  switch (ev.type) {
    case 'linked':
    case 'refreshed': {
      // New or renewed grant: list the calendars (new ones appear, the primary is selected and
      // fully synced), and catch up on what changed while the owner was not reachable.
      await enqueueCalendarListSync(ctx, ev.ownerId, { tx, reason: ev.type });
      const selected = await tx
        .select({ id: calendars.id })
        .from(calendars)
        .where(and(eq(calendars.ownerId, ev.ownerId), eq(calendars.selected, true), eq(calendars.deleted, false)));
      for (const c of selected) await enqueueEventSync(ctx, c.id, { tx, reason: ev.type });
      return;
    }
    case 'resync':
      await forgetOwnerSyncTokens(tx, ctx, ev.ownerId);
      return;
    case 'unlinked':
      // WebhookDB's UNLINKED: the owner's mirror goes (rows would cascade with the owner anyway).
      await tx.delete(calendars).where(eq(calendars.ownerId, ev.ownerId));
      await tx.delete(calendarLists).where(eq(calendarLists.ownerId, ev.ownerId));
      return;
    case 'revoked':
      // The mirror stays readable as last synced; syncs fail for good until the owner links again.
      return;
  }
}

export async function calendarStatusOf(ctx: Ctx, ownerId: string): Promise<CalendarStatus[]> {
  const [cals, expiries] = await Promise.all([listOwnerCalendars(ctx, ownerId), ctx.wiring.providers.channelExpiry?.(ctx, ownerId)]);
  return cals
    .filter((c) => !c.deleted)
    .map((c) => ({
      calendarId: c.calendarId,
      summary: c.summary,
      primary: c.primary,
      selected: c.selected,
      lastSyncedAt: c.lastSyncedAt,
      syncError: c.syncError,
      channelExpiresAt: expiries?.get(c.id) ?? null,
    }));
}
