// availability.busy {explain: true}: every busy interval with the blocked times that made it, each
// named by calendar, event and rule, so "why am I shown as busy at 3?" is a query. No title ever
// (availability keeps none); an event marked private (or one whose visibility is not known) shows
// only that its calendar is busy.
import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { availabilitySources, blockedTimes, frozenBlockedTimes } from '../../schema/availability.ts';
import { formatDateOnly, instantToWall, pickTimeZone } from '../time-zones/index.ts';
import { blockingOf } from './blocked-times.ts';
import { bufferMs, calendarFilter, checkRange, countingCalendarIds, ownerByExternalId, type ExternalBusyInput } from './busy.ts';
import { clipIntervals, mergeIntervals } from './intervals.ts';
import { fromSourceRow } from './store.ts';

/**
 * Why a blocked time blocks: `busy` (an ordinary event, or one whose details are private),
 * `tentative` (tentative, counted by the owner's preference), `outOfOffice`, `focusTime`, `allDay`,
 * or `buffer` (the time asked to be kept around another source).
 */
export type BusyRule = 'busy' | 'tentative' | 'outOfOffice' | 'focusTime' | 'allDay' | 'buffer';

export interface BusySource {
  /** Google's calendar id. */
  calendarId: string;
  /** Google's event id (for an occurrence of a series, the instance id Google gives it); absent when private. */
  eventId?: string;
  /** The series' id, for an occurrence or a modified instance; absent when private. */
  recurringEventId?: string;
  rule: BusyRule;
  /** The blocked time itself (not cut to the asked range). */
  start: Date;
  end: Date;
  /** Set when the event is private (or its visibility unknown): only "busy" is said of it. */
  private?: true;
  /** For a buffer: whether it is kept before or after the source it surrounds. */
  buffer?: 'before' | 'after';
}

export interface ExplainedInterval {
  start: Date;
  end: Date;
  sources: BusySource[];
}

/** Google's visibility values that hide an event's details ("confidential": "The event is private.
 * This value is provided for compatibility reasons.", Events resource, calendar v3 discovery). */
const PRIVATE = new Set(['private', 'confidential']);

/** 'YYYYMMDDTHHMMSSZ' (timed) or 'YYYYMMDD' (all-day): the suffix of Google's instance ids (FACTS §2). */
function instanceSuffix(startAt: Date, allDay: boolean, timeZone: string): string {
  if (allDay) return formatDateOnly(instantToWall(startAt.getTime(), timeZone)).replace(/-/g, '');
  return startAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

type Row = { calendarId: string; sourceEventId: string; seriesId: string; startAt: Date; endAt: Date; src: (typeof availabilitySources.$inferSelect) | null };

function describe(row: Row): Omit<BusySource, 'start' | 'end'> {
  const src = row.src;
  if (!src || src.visibility === null || PRIVATE.has(src.visibility)) return { calendarId: row.calendarId, rule: 'busy', private: true };
  const ev = fromSourceRow(src);
  let rule: BusyRule = 'busy';
  if (ev.eventType === 'outOfOffice') rule = 'outOfOffice';
  else if (ev.eventType === 'focusTime') rule = 'focusTime';
  else if (blockingOf(ev) === 'tentative') rule = 'tentative';
  else if (ev.start?.date) rule = 'allDay';
  const out: Omit<BusySource, 'start' | 'end'> = { calendarId: row.calendarId, eventId: row.sourceEventId, rule };
  if (row.sourceEventId !== row.seriesId) out.recurringEventId = row.seriesId;
  else if (ev.recurrence && ev.recurrence.length > 0) {
    // An expanded occurrence: its blocked time starts at its original start, which names it.
    out.eventId = `${row.sourceEventId}_${instanceSuffix(row.startAt, !!ev.start?.date, pickTimeZone(src.calendarTimeZone))}`;
    out.recurringEventId = row.seriesId;
  }
  return out;
}

export async function explainBusy(ctx: Ctx, input: ExternalBusyInput): Promise<ExplainedInterval[]> {
  checkRange(input.from, input.to);
  const beforeMs = bufferMs('bufferBeforeMinutes', input.bufferBeforeMinutes);
  const afterMs = bufferMs('bufferAfterMinutes', input.bufferAfterMinutes);
  const owner = await ownerByExternalId(ctx, input.externalOwnerId);
  const ids = await countingCalendarIds(ctx, owner, input.calendarIds);
  const from = input.from.getTime();
  const to = input.to.getTime();
  const qFrom = new Date(from - afterMs);
  const qTo = new Date(to + beforeMs);

  let rows: Row[];
  if (owner.status === 'unlinked') {
    const f = frozenBlockedTimes;
    const frozen = await ctx.db
      .select({ calendarId: f.calendarId, sourceEventId: f.sourceEventId, startAt: f.startAt, endAt: f.endAt })
      .from(f)
      .where(and(eq(f.formerOwnerId, owner.id), lt(f.startAt, qTo), gt(f.endAt, qFrom), calendarFilter(sql`${f.calendarId}`, ids)))
      .orderBy(asc(f.startAt), asc(f.endAt));
    // Frozen rows keep no source: what they were is no longer known, only that they were busy.
    rows = frozen.map((r) => ({ ...r, seriesId: r.sourceEventId, src: null }));
  } else {
    const b = blockedTimes;
    const s = availabilitySources;
    rows = await ctx.db
      .select({ calendarId: b.calendarId, sourceEventId: b.sourceEventId, seriesId: b.seriesId, startAt: b.startAt, endAt: b.endAt, src: s })
      .from(b)
      .leftJoin(s, and(eq(s.calendarRowId, b.calendarRowId), eq(s.googleEventId, b.sourceEventId)))
      .where(and(eq(b.ownerId, owner.id), lt(b.startAt, qTo), gt(b.endAt, qFrom), calendarFilter(sql`${b.calendarId}`, ids)))
      .orderBy(asc(b.startAt), asc(b.endAt));
  }

  const sources: BusySource[] = [];
  for (const row of rows) {
    const what = describe(row);
    const start = row.startAt.getTime();
    const end = row.endAt.getTime();
    if (start < to && end > from) sources.push({ ...what, start: row.startAt, end: row.endAt });
    if (beforeMs > 0 && start - beforeMs < to && start > from) {
      sources.push({ ...what, rule: 'buffer', buffer: 'before', start: new Date(start - beforeMs), end: row.startAt });
    }
    if (afterMs > 0 && end < to && end + afterMs > from) {
      sources.push({ ...what, rule: 'buffer', buffer: 'after', start: row.endAt, end: new Date(end + afterMs) });
    }
  }
  const merged = clipIntervals(mergeIntervals(sources.map((x) => ({ start: x.start.getTime(), end: x.end.getTime() }))), from, to);
  sources.sort((a, b) => a.start.getTime() - b.start.getTime() || a.end.getTime() - b.end.getTime());
  // Every source lies inside exactly one merged interval (they are made of the sources).
  const out: ExplainedInterval[] = merged.map((m) => ({ start: new Date(m.start), end: new Date(m.end), sources: [] }));
  let k = 0;
  for (const x of sources) {
    const at = Math.max(x.start.getTime(), from);
    while (k < merged.length - 1 && merged[k]!.end < at) k++;
    out[k]?.sources.push(x);
  }
  return out;
}
