// The sync's change set -> blocked times, inside the sync's own transaction.
//
// A change set carries single events, but a series is one unit: when a master or any of its
// instances changes, the sources of the whole series are re-read from availability_sources and the
// series' blocked times replaced. A cancelled master (or one-off event) removes its whole series.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import type { ChangeSet, EventChange } from '../sync/index.ts';
import { horizonAt } from './horizon.ts';
import { groupSeries, rebuildSeries } from './rebuild.ts';
import { sourceFromMirrorEvent, type SourceEvent } from './source-event.ts';
import { deleteSeries, fromSourceRow, loadSeriesSources, readPreferences, toSourceRow, upsertSources, type CalendarRef } from './store.ts';

/** What availability keeps of one change: the new state, its series read from the previous row if the tombstone lost it. */
export function sourceOfChange(change: EventChange): SourceEvent {
  const src = sourceFromMirrorEvent(change.event);
  if (change.kind !== 'created' && change.previous && src.seriesId === src.eventId) {
    const prev = sourceFromMirrorEvent(change.previous);
    if (prev.seriesId !== prev.eventId) return { ...src, seriesId: prev.seriesId, originalStart: src.originalStart ?? prev.originalStart, recurrence: null };
  }
  return src;
}

export async function applyChangeSet(tx: Executor, ctx: Ctx, cs: ChangeSet): Promise<void> {
  if (cs.changes.length === 0) return;
  const cal: CalendarRef = {
    calendarRowId: cs.calendarRowId,
    ownerId: cs.ownerId,
    calendarId: cs.calendarId,
    calendarTimeZone: cs.calendarTimeZone,
  };
  const now = ctx.clock.now();

  // Last state per event wins; a removed master (or one-off event) takes its whole series with it.
  const latest = new Map<string, SourceEvent>();
  for (const change of cs.changes) {
    const src = sourceOfChange(change);
    if (src.eventId) latest.set(src.eventId, src);
  }
  const removed = new Set<string>();
  for (const src of latest.values()) if (src.status === 'cancelled' && src.eventId === src.seriesId) removed.add(src.seriesId);
  const kept = [...latest.values()].filter((s) => !removed.has(s.seriesId));

  if (removed.size > 0) await deleteSeries(tx, cal.calendarRowId, [...removed]);
  await upsertSources(
    tx,
    kept.map((s) => toSourceRow(s, cal, now)),
  );

  const touched = [...new Set(kept.map((s) => s.seriesId))];
  if (touched.length === 0) return;
  const rows = await loadSeriesSources(tx, cal.calendarRowId, touched);
  const groups = groupSeries(rows.map((r) => ({ ...cal, calendarTimeZone: cal.calendarTimeZone ?? r.calendarTimeZone, source: fromSourceRow(r) })));
  const prefs = await readPreferences(tx, cal.ownerId);
  await rebuildSeries(tx, ctx, groups, () => prefs, horizonAt(now, ctx.config.availability.horizonDays));
}
