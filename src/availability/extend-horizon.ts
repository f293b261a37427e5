// The daily move of the rolling horizon: every recurring series gets the occurrences whose original
// start lies between where it was materialised up to and the new end of the horizon; blocked times
// that ended before the horizon's start are dropped.
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { availabilitySeries, availabilitySources, blockedTimes, frozenBlockedTimes } from '../../schema/availability.ts';
import { blockedTimesFor, DEFAULT_PREFERENCES } from './blocked-times.ts';
import { horizonAt } from './horizon.ts';
import { blockedTimeRow, groupSeries } from './rebuild.ts';
import { fromSourceRow, insertBlockedTimes, loadSeriesSources, readPreferencesOf, seriesKey, type BlockedTimeInsert } from './store.ts';

/** Series per transaction: short transactions, so the sync never waits long on a series row. */
const BATCH = 500;

export interface HorizonResult {
  until: string;
  series: number;
  blockedTimes: number;
  pruned: number;
}

export async function extendHorizon(ctx: Ctx): Promise<HorizonResult> {
  const horizon = horizonAt(ctx.clock.now(), ctx.config.availability.horizonDays);
  const target = new Date(horizon.until);
  let series = 0;
  let inserted = 0;
  for (;;) {
    const done = await ctx.db.transaction(async (tx) => {
      // SKIP LOCKED: a series the sync is rewriting right now is left to it (it expands to the horizon too).
      const claimed = await tx
        .select()
        .from(availabilitySeries)
        .where(lt(availabilitySeries.expandedUntil, target))
        .orderBy(asc(availabilitySeries.calendarRowId), asc(availabilitySeries.seriesId))
        .limit(BATCH)
        .for('update', { skipLocked: true });
      if (claimed.length === 0) return 0;

      const byCalendar = new Map<string, typeof claimed>();
      for (const s of claimed) byCalendar.set(s.calendarRowId, [...(byCalendar.get(s.calendarRowId) ?? []), s]);
      const prefs = await readPreferencesOf(tx, claimed.map((s) => s.ownerId));
      const rows: BlockedTimeInsert[] = [];
      for (const [calendarRowId, list] of byCalendar) {
        const sources = await loadSeriesSources(tx, calendarRowId, list.map((s) => s.seriesId));
        const groups = new Map(groupSeries(sources.map((r) => ({ ...r, source: fromSourceRow(r) }))).map((g) => [seriesKey(g.calendarRowId, g.seriesId), g]));
        for (const s of list) {
          const g = groups.get(seriesKey(s.calendarRowId, s.seriesId));
          if (!g) continue;
          const window = { from: Math.max(s.expandedUntil.getTime(), horizon.from), until: horizon.until };
          for (const t of blockedTimesFor(g.members, g.calendarTimeZone, prefs.get(g.ownerId) ?? DEFAULT_PREFERENCES, window, { recurringOnly: true })) {
            rows.push(blockedTimeRow(g, t));
          }
        }
        await tx
          .update(availabilitySeries)
          .set({ expandedUntil: target })
          .where(and(eq(availabilitySeries.calendarRowId, calendarRowId), inArray(availabilitySeries.seriesId, list.map((s) => s.seriesId))));
      }
      await insertBlockedTimes(tx, rows);
      inserted += rows.length;
      return claimed.length;
    });
    if (done === 0) break;
    series += done;
  }

  const from = new Date(horizon.from).toISOString();
  const prunedLive = await ctx.db.delete(blockedTimes).where(sql`${blockedTimes.endAt} <= ${from}::timestamptz`).returning({ id: blockedTimes.id });
  const prunedFrozen = await ctx.db
    .delete(frozenBlockedTimes)
    .where(sql`${frozenBlockedTimes.endAt} <= ${from}::timestamptz`)
    .returning({ id: frozenBlockedTimes.id });
  // Rows whose series left while a sync was writing them (an unlink racing a sync page) have no source left.
  const orphans = await ctx.db
    .delete(blockedTimes)
    .where(
      sql`not exists (select 1 from ${availabilitySources} s where s.calendar_row_id = ${blockedTimes.calendarRowId} and s.series_id = ${blockedTimes.seriesId})`,
    )
    .returning({ id: blockedTimes.id });
  const result = {
    until: target.toISOString(),
    series,
    blockedTimes: inserted,
    pruned: prunedLive.length + prunedFrozen.length + orphans.length,
  };
  ctx.log.info(result, 'availability horizon moved');
  return result;
}
