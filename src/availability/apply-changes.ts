// The sync's change set -> blocked times, inside the sync's own transaction.
//
// A change set carries single events, but a series is one unit: when a master or any of its
// instances changes, the sources of the whole series are re-read from availability_sources and the
// series' blocked times replaced. A cancelled master (or one-off event) removes its whole series.
import type { Ctx, TxCtx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { findCalendar } from '../sync/index.ts';
import type { ChangeSet, EventChange } from '../context/index.ts';
import { getOwner } from '../links/index.ts';
import { horizonAt } from './horizon.ts';
import { groupSeries, rebuildSeries } from './rebuild.ts';
import { sourceFromMirrorEvent, type SourceEvent } from './source-event.ts';
import { deleteSeries, deleteSources, fromSourceRow, loadSeriesSources, readPreferences, toSourceRow, upsertSources, type CalendarRef } from './store.ts';

/**
 * What availability keeps of one change: the new state, its series read from the previous row if
 * the tombstone lost it. `vanished`: the sync removed the row without a tombstone from Google (a
 * full sync no longer listed it, e.g. an instance that is no longer an exception), as opposed to
 * Google reporting it cancelled (FACTS §2: cancelled instances of live series are still listed).
 */
export function sourceOfChange(change: EventChange, ownerEmail: string | null = null): { source: SourceEvent; vanished: boolean } {
  let source = sourceFromMirrorEvent(change.event, ownerEmail);
  if (change.kind !== 'created' && change.previous && source.seriesId === source.eventId) {
    const prev = sourceFromMirrorEvent(change.previous, ownerEmail);
    if (prev.seriesId !== prev.eventId) source = { ...source, seriesId: prev.seriesId, originalStart: source.originalStart ?? prev.originalStart, recurrence: null };
  }
  const vanished = change.kind === 'cancelled' && (change.event.raw as { status?: unknown } | null)?.status !== 'cancelled';
  return { source, vanished };
}

export async function applyChangeSet(ctx: TxCtx, cs: ChangeSet): Promise<void> {
  const { tx } = ctx;
  if (cs.changes.length === 0) return;
  const cal: CalendarRef = {
    calendarRowId: cs.calendarRowId,
    ownerId: cs.ownerId,
    calendarId: cs.calendarId,
    calendarTimeZone: cs.calendarTimeZone,
  };
  const now = ctx.clock.now();
  // Whose answer counts (source-event.ts, ownerResponse): the owner's Google address, read only
  // when some event of the set has guests.
  const ownerEmail = cs.changes.some((c) => c.event.attendees.length > 0 || (c.event.raw as { attendees?: unknown[] } | null)?.attendees?.length)
    ? await ownerGoogleEmail(tx, ctx, cs.ownerId)
    : null;

  // Last state per event wins; a removed master (or one-off event) takes its whole series with it.
  const latest = new Map<string, { source: SourceEvent; vanished: boolean }>();
  for (const change of cs.changes) {
    const c = sourceOfChange(change, ownerEmail);
    if (c.source.eventId) latest.set(c.source.eventId, c);
  }
  const removed = new Set<string>();
  for (const { source } of latest.values()) if (source.status === 'cancelled' && source.eventId === source.seriesId) removed.add(source.seriesId);
  const rest = [...latest.values()].filter((c) => !removed.has(c.source.seriesId));
  // An instance that vanished is no exception any more: its slot goes back to the master.
  const dropped = rest.filter((c) => c.vanished).map((c) => c.source);
  const kept = rest.filter((c) => !c.vanished).map((c) => c.source);

  if (removed.size > 0) await deleteSeries(tx, cal.calendarRowId, [...removed]);
  if (dropped.length > 0) await deleteSources(tx, cal.calendarRowId, dropped.map((s) => s.eventId));
  await upsertSources(
    tx,
    kept.map((s) => toSourceRow(s, cal, now)),
  );

  const touched = [...new Set([...kept, ...dropped].map((s) => s.seriesId))];
  if (touched.length === 0) return;
  const rows = await loadSeriesSources(tx, cal.calendarRowId, touched);
  const groups = groupSeries(rows.map((r) => ({ ...cal, calendarTimeZone: cal.calendarTimeZone ?? r.calendarTimeZone, source: fromSourceRow(r) })));
  // A series left without any source still has blocked times to remove.
  const present = new Set(groups.map((g) => g.seriesId));
  const emptied = touched.filter((id) => !present.has(id));
  if (emptied.length > 0) await deleteSeries(tx, cal.calendarRowId, emptied);
  const prefs = await readPreferences(tx, cal.ownerId);
  await rebuildSeries(tx, ctx, groups, () => prefs, horizonAt(now, ctx.config.availability.horizonDays));
}

/**
 * The owner's Google address: the one links recorded at consent, else the id of their primary
 * calendar (a primary calendar's id is its user's email address, FACTS §4 htmlLink examples).
 */
async function ownerGoogleEmail(tx: Executor, ctx: Ctx, ownerId: string): Promise<string | null> {
  const owner = await getOwner({ db: tx }, ownerId);
  if (owner?.googleEmail) return owner.googleEmail;
  const primary = await findCalendar(ctx, ownerId, 'primary', { tx });
  return primary?.calendarId ?? null;
}
