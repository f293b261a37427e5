// calendars.setSelected: which of an owner's calendars are mirrored.
import { eq, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { calendars } from '../../schema/sync.ts';
import { dispatchCalendarChange, inTransaction } from '../context/index.ts';
import { findCalendarRow, loadCalendarRow, toSyncCalendar, type SyncCalendar } from './calendars.ts';
import { enqueueEventSync } from './enqueue.ts';
import { removeAllEvents } from './mirror-writes.ts';
import { calendarChangeHead } from './sync-events.ts';

/**
 * Selecting starts a full sync (and, through the 'selected' change, a channel); deselecting drops
 * the calendar's events and sync token at once ('deselected': channels stops its channel). The
 * generation bump makes a sync already running for this calendar stop instead of writing back.
 */
export async function setCalendarSelected(ctx: Ctx, input: { ownerId: string; calendarId: string; selected: boolean }): Promise<SyncCalendar> {
  return ctx.db.transaction(async (tx) => {
    const found = await findCalendarRow(tx, input.ownerId, input.calendarId);
    const row = found && (await loadCalendarRow(tx, found.id, { forUpdate: true }));
    if (!row || row.deleted) throw new AppError('NOT_FOUND', `no calendar ${input.calendarId} for this owner`);
    if (row.selected === input.selected) return toSyncCalendar(row);
    const now = ctx.clock.now();
    const [updated] = await tx
      .update(calendars)
      .set({
        selected: input.selected,
        syncToken: null,
        syncGeneration: sql`${calendars.syncGeneration} + 1`,
        syncError: null,
        syncErrorAt: null,
        updatedAt: now,
      })
      .where(eq(calendars.id, row.id))
      .returning();
    if (input.selected) {
      await dispatchCalendarChange(inTransaction(ctx, tx), { kind: 'selected', ...calendarChangeHead(updated!) });
      await enqueueEventSync(ctx, row.id, { tx, reason: 'selected' });
    } else {
      await removeAllEvents(tx, row.id);
      await dispatchCalendarChange(inTransaction(ctx, tx), { kind: 'deselected', ...calendarChangeHead(updated!) });
    }
    return toSyncCalendar(updated!);
  });
}
