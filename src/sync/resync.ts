// Forgetting sync tokens: calendars.resync, the RESYNC link event. The next sync of each calendar
// is then a full one, whose sweep removes what Google no longer has.
import { and, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { calendarLists, calendars } from '../../schema/sync.ts';
import { findCalendarRow } from './calendars.ts';
import { enqueueCalendarListSync, enqueueEventSync } from './enqueue.ts';

/** Inside `tx`: drops the owner's list token and every calendar token, queues the syncs. Returns how many calendars. */
export async function forgetOwnerSyncTokens(tx: Executor, ctx: Ctx, ownerId: string): Promise<number> {
  const now = ctx.clock.now();
  await tx.update(calendarLists).set({ syncToken: null }).where(eq(calendarLists.ownerId, ownerId));
  const reset = await tx
    .update(calendars)
    .set({ syncToken: null, syncGeneration: sql`${calendars.syncGeneration} + 1`, updatedAt: now })
    .where(eq(calendars.ownerId, ownerId))
    .returning({ id: calendars.id, selected: calendars.selected, deleted: calendars.deleted });
  await enqueueCalendarListSync(ctx, ownerId, { tx, reason: 'resync' });
  const selected = reset.filter((r) => r.selected && !r.deleted);
  for (const r of selected) await enqueueEventSync(ctx, r.id, { tx, reason: 'resync' });
  return selected.length;
}

/** calendars.resync: one calendar (full sync) or, without calendarId, the owner's list and every selected calendar. */
export async function resyncCalendars(ctx: Ctx, input: { ownerId: string; calendarId?: string }): Promise<{ queued: number }> {
  return ctx.db.transaction(async (tx) => {
    if (input.calendarId === undefined) return { queued: await forgetOwnerSyncTokens(tx, ctx, input.ownerId) };
    const row = await findCalendarRow(tx, input.ownerId, input.calendarId);
    if (!row || row.deleted) throw new AppError('NOT_FOUND', `no calendar ${input.calendarId} for this owner`);
    if (!row.selected) throw new AppError('CONFLICT', `calendar ${input.calendarId} is not selected: select it first`);
    await tx
      .update(calendars)
      .set({ syncToken: null, syncGeneration: sql`${calendars.syncGeneration} + 1`, updatedAt: ctx.clock.now() })
      .where(and(eq(calendars.id, row.id)));
    await enqueueEventSync(ctx, row.id, { tx, reason: 'resync' });
    return { queued: 1 };
  });
}
