// Recomputing the blocked times of whole series from their stored sources, inside the caller's
// transaction: the sync's change set, a preference change. Each series is replaced as a unit.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { blockedTimesFor, type AvailabilityPreferences, type BlockedTime, type Horizon } from './blocked-times.ts';
import type { SourceEvent } from './source-event.ts';
import {
  claimSeries,
  replaceSeriesBlockedTimes,
  seriesKey,
  type BlockedTimeInsert,
} from './store.ts';

export interface SeriesGroup {
  ownerId: string;
  calendarRowId: string;
  calendarId: string;
  calendarTimeZone: string | null;
  seriesId: string;
  members: SourceEvent[];
}

/** A series needs a horizon when it recurs, or when it is instances whose master lives elsewhere. */
export function isRecurring(members: SourceEvent[]): boolean {
  return members.some((m) => (m.recurrence && m.recurrence.length > 0) || m.eventId !== m.seriesId);
}

/** A blocked time of a series as its table row. */
export function blockedTimeRow(g: SeriesGroup, t: BlockedTime): BlockedTimeInsert {
  return {
    ownerId: g.ownerId,
    calendarRowId: g.calendarRowId,
    calendarId: g.calendarId,
    seriesId: g.seriesId,
    sourceEventId: t.sourceEventId,
    startAt: new Date(t.start),
    endAt: new Date(t.end),
  };
}

/** Groups source rows of one or more calendars by series. */
export function groupSeries<T extends { calendarRowId: string; calendarId: string; ownerId: string; calendarTimeZone: string | null }>(
  rows: Array<T & { source: SourceEvent }>,
): SeriesGroup[] {
  const groups = new Map<string, SeriesGroup>();
  for (const r of rows) {
    const key = seriesKey(r.calendarRowId, r.source.seriesId);
    let g = groups.get(key);
    if (!g) {
      g = {
        ownerId: r.ownerId,
        calendarRowId: r.calendarRowId,
        calendarId: r.calendarId,
        calendarTimeZone: r.calendarTimeZone,
        seriesId: r.source.seriesId,
        members: [],
      };
      groups.set(key, g);
    }
    g.members.push(r.source);
  }
  return [...groups.values()];
}

/**
 * Replaces the blocked times of these series. Recurring ones are expanded from the horizon's start
 * up to how far their series row says (at least the horizon's end); one-off events whatever their
 * date. Nothing ending before the horizon's start is written.
 */
export async function rebuildSeries(
  tx: Executor,
  ctx: Pick<Ctx, 'log'>,
  groups: SeriesGroup[],
  prefsOf: (ownerId: string) => AvailabilityPreferences,
  horizon: Horizon,
): Promise<{ series: number; blockedTimes: number }> {
  if (groups.length === 0) return { series: 0, blockedTimes: 0 };
  const recurring = groups.filter((g) => isRecurring(g.members));
  const until = await claimSeries(
    tx,
    recurring.map((g) => ({ calendarRowId: g.calendarRowId, seriesId: g.seriesId, ownerId: g.ownerId })),
    new Date(horizon.until),
  );

  const byCalendar = new Map<string, { all: string[]; oneOff: string[]; rows: BlockedTimeInsert[] }>();
  let written = 0;
  for (const g of groups) {
    const cal = byCalendar.get(g.calendarRowId) ?? { all: [], oneOff: [], rows: [] };
    byCalendar.set(g.calendarRowId, cal);
    cal.all.push(g.seriesId);
    const expandedUntil = until.get(seriesKey(g.calendarRowId, g.seriesId));
    if (!expandedUntil) cal.oneOff.push(g.seriesId);
    const window = { from: horizon.from, until: expandedUntil?.getTime() ?? horizon.until };
    const times = blockedTimesFor(g.members, g.calendarTimeZone, prefsOf(g.ownerId), window, {
      onRecurrenceError: (eventId, err) =>
        ctx.log.warn({ calendarRowId: g.calendarRowId, eventId, err: err.message }, 'recurrence unreadable: the master counts once'),
    });
    for (const t of times) {
      if (t.end <= horizon.from) continue;
      cal.rows.push(blockedTimeRow(g, t));
      written++;
    }
  }
  // One statement per calendar (a sync page has one): a series that stopped recurring (its
  // recurrence removed) no longer moves with the horizon, and each series' blocked times are replaced.
  for (const [calendarRowId, ids] of byCalendar) await replaceSeriesBlockedTimes(tx, calendarRowId, ids, ids.rows);
  return { series: groups.length, blockedTimes: written };
}
