// events.list: the owner's events overlapping [from, to) from the mirror. Timed events by their
// instants; all-day events by their local midnights in the calendar's zone; recurring series
// expanded into their occurrences (ids and fields as Google's singleEvents=true would give them),
// with modified occurrences in their moved place and cancelled ones left out.
import { and, eq, gt, gte, inArray, isNotNull, isNull, lt, ne, or } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { calendarEvents, calendars, type Calendar, type CalendarEvent } from '../../schema/sync.ts';
import { findCalendarRow } from './calendars.ts';
import { expandSeries, originalKeyOf } from './expand-series.ts';
import { placementZone } from './map-event.ts';

export interface ListedEvent {
  googleEventId: string;
  calendarId: string;
  status: string;
  summary: string | null;
  start: string;
  end: string;
  allDay: boolean;
  startDate?: string;
  endDate?: string;
  transparency: string;
  eventType: string;
  recurringEventId?: string;
  attendees: Array<{ email: string; responseStatus: string; self?: boolean; organizer?: boolean }>;
  updated: string | null;
}

/** Longest range one call may ask for (series expansion is bounded by it). */
export const MAX_RANGE_DAYS = 400;
const MAX_ITEMS = 10_000;

function listed(row: CalendarEvent, cal: Calendar, override?: Partial<ListedEvent>): ListedEvent {
  return {
    googleEventId: row.googleEventId,
    calendarId: cal.googleCalendarId,
    status: row.status,
    summary: row.summary,
    start: row.startAt!.toISOString(),
    end: row.endAt!.toISOString(),
    allDay: row.allDay,
    ...(row.allDay && row.startDate ? { startDate: row.startDate } : {}),
    ...(row.allDay && row.endDate ? { endDate: row.endDate } : {}),
    transparency: row.transparency,
    eventType: row.eventType,
    ...(row.recurringEventId ? { recurringEventId: row.recurringEventId } : {}),
    attendees: (row.attendees ?? []).map((a) => ({
      email: a.email,
      responseStatus: a.responseStatus,
      ...(a.self ? { self: true } : {}),
      ...(a.organizer ? { organizer: true } : {}),
    })),
    updated: row.updated ? row.updated.toISOString() : null,
    ...override,
  };
}

export async function listEvents(ctx: Ctx, input: { ownerId: string; calendarId?: string; from: Date; to: Date }): Promise<{ items: ListedEvent[] }> {
  const { from, to } = input;
  if (!(to > from)) throw new AppError('VALIDATION', '`to` must be after `from`');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) throw new AppError('VALIDATION', `the range may span at most ${MAX_RANGE_DAYS} days`);

  let cals: Calendar[];
  if (input.calendarId !== undefined) {
    const cal = await findCalendarRow(ctx.db, input.ownerId, input.calendarId);
    if (!cal || cal.deleted) throw new AppError('NOT_FOUND', `no calendar ${input.calendarId} for this owner`);
    cals = [cal];
  } else {
    cals = await ctx.db
      .select()
      .from(calendars)
      .where(and(eq(calendars.ownerId, input.ownerId), eq(calendars.selected, true), eq(calendars.deleted, false)));
  }
  if (cals.length === 0) return { items: [] };
  const calById = new Map(cals.map((c) => [c.id, c]));
  const calIds = [...calById.keys()];

  // Single events and moved / modified occurrences placed in the range.
  const singles = await ctx.db
    .select()
    .from(calendarEvents)
    .where(
      and(
        inArray(calendarEvents.calendarId, calIds),
        ne(calendarEvents.status, 'cancelled'),
        isNull(calendarEvents.recurrence),
        lt(calendarEvents.startAt, to),
        or(gt(calendarEvents.endAt, from), and(eq(calendarEvents.endAt, calendarEvents.startAt), gte(calendarEvents.startAt, from))),
      ),
    )
    .limit(MAX_ITEMS + 1);

  // Series that started before the range ends; their stored occurrences (modified or cancelled).
  const masters = await ctx.db
    .select()
    .from(calendarEvents)
    .where(and(inArray(calendarEvents.calendarId, calIds), ne(calendarEvents.status, 'cancelled'), isNotNull(calendarEvents.recurrence), lt(calendarEvents.startAt, to)));
  const exceptions = masters.length
    ? await ctx.db
        .select({ calendarId: calendarEvents.calendarId, recurringEventId: calendarEvents.recurringEventId, originalStartTime: calendarEvents.originalStartTime })
        .from(calendarEvents)
        .where(
          and(
            inArray(calendarEvents.calendarId, [...new Set(masters.map((m) => m.calendarId))]),
            inArray(calendarEvents.recurringEventId, masters.map((m) => m.googleEventId)),
          ),
        )
    : [];
  const overridden = new Set(exceptions.filter((e) => e.originalStartTime).map((e) => `${e.calendarId} ${e.recurringEventId} ${originalKeyOf(e.originalStartTime!)}`));

  const items: ListedEvent[] = singles.map((r) => listed(r, calById.get(r.calendarId)!));
  // Expansion is CPU work on the event loop the webhook shares, each series bounded (SERIES_LIMITS)
  // but not their number: between series, other requests get their turn every 20 ms.
  let turn = performance.now();
  for (const m of masters) {
    if (!m.startAt || !m.endAt) continue;
    if (performance.now() - turn > 20) {
      await new Promise((resolve) => setImmediate(resolve));
      turn = performance.now();
    }
    const cal = calById.get(m.calendarId)!;
    const occurrences = expandSeries(
      {
        googleEventId: m.googleEventId,
        recurrence: m.recurrence ?? [],
        allDay: m.allDay,
        startAt: m.startAt,
        endAt: m.endAt,
        startDate: m.startDate,
        endDate: m.endDate,
        timeZone: m.timeZone ?? placementZone(cal.timeZone),
      },
      from,
      to,
      {
        limitKey: `${m.calendarId} ${m.googleEventId}`,
        // The event id only: the rule and the title are the sender's text.
        onLimit: (reason) =>
          ctx.log.warn({ calendarRowId: m.calendarId, eventId: m.googleEventId, reason }, 'events.list: recurrence beyond limits, the series counts once'),
      },
    );
    for (const o of occurrences) {
      if (overridden.has(`${m.calendarId} ${m.googleEventId} ${o.originalKey}`)) continue;
      items.push(
        listed(m, cal, {
          googleEventId: o.instanceId,
          start: o.start.toISOString(),
          end: o.end.toISOString(),
          recurringEventId: m.googleEventId,
          ...(o.startDate ? { startDate: o.startDate, endDate: o.endDate! } : {}),
        }),
      );
    }
  }
  if (items.length > MAX_ITEMS) throw new AppError('VALIDATION', `more than ${MAX_ITEMS} events in the range: ask for a shorter one`);
  items.sort((a, b) => a.start.localeCompare(b.start) || a.googleEventId.localeCompare(b.googleEventId));
  return { items };
}
