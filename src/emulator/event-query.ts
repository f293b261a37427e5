// events.list: full and incremental listing with paging, filters and recurring-event expansion.
// Semantics from the discovery document (Params$Resource$Events$List, Schema$Event.status) and the sync guide
// (https://developers.google.com/workspace/calendar/api/guides/sync); see FACTS §2.
//
// Items come out in change-sequence order (= "updated" order), walking the calendar's change log between the
// token's sequence and a snapshot taken on the first page, so every page costs O(page) and a 50,000-event
// calendar pages in linear time. orderBy=startTime needs a sort, so it materialises the snapshot instead.

import type { Calendar } from './calendars-store.ts';
import { badRequest, fullSyncRequired, invalidValue, timeRangeEmpty, updatedMinTooLongAgo } from './errors.ts';
import { instanceOf, renderEvent, tombstone } from './event-model.ts';
import type { StoredEvent } from './events-store.ts';
import { collectionEtag } from './ids.ts';
import { expandSeries, isRecurringMaster } from './recurrence.ts';
import { dateToInstant, parseDateTime } from './time.ts';
import { decodePageToken, decodeSyncToken, encodePageToken, encodeSyncToken, queryFingerprint, type PageCursor, type SyncPoint } from './tokens.ts';
import type { AccessRole, CalEvent, EventDateTime, JsonObject } from './types.ts';

export const EVENTS_DEFAULT_PAGE = 250;
export const EVENTS_MAX_PAGE = 2500;

/** Parameters that "cannot be specified together with nextSyncToken" (Params$Resource$Events$List.syncToken). */
const SYNC_FORBIDDEN = ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty', 'timeMin', 'timeMax', 'updatedMin'];

export interface EventListQuery {
  maxResults: number;
  pageToken?: PageCursor;
  sync?: SyncPoint;
  showDeleted: boolean;
  singleEvents: boolean;
  timeMin?: number;
  timeMax?: number;
  updatedMin?: number;
  orderBy?: 'startTime' | 'updated';
  q?: string;
  iCalUID?: string;
  privateExt: Array<[string, string]>;
  sharedExt: Array<[string, string]>;
  eventTypes: string[];
  /** The query's fingerprint, written into its page tokens. */
  qh: string;
}

export interface ListContext {
  gen: string;
  currentSeq: number;
  /** Now on the token clock (EmulatorState.tokenNow), in ms. */
  now: number;
  syncTokenTtlMs: number;
  pageTokenTtlMs: number;
}

/**
 * A page token must come from the same listing of the same query, and that listing must not be too old.
 * Google documents no lifetime for page tokens and no error for a stale one; the emulator answers the 400
 * "Invalid Value" Google gives a token it cannot read (fixtures/gcal-error-400-invalid-syncToken-value), so
 * that a client that keeps page tokens across retries must be ready to start its listing again.
 */
export function checkPageCursor(c: PageCursor | undefined, scope: string, qh: string, ctx: ListContext): PageCursor {
  if (!c || c.scope !== scope || c.qh !== qh) throw invalidValue();
  if (ctx.now - c.t0 > ctx.pageTokenTtlMs) throw invalidValue();
  return c;
}

function bool(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidValue(`Invalid value for: ${name}`);
}

function time(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  // Bounds must carry an offset ("Must be an RFC3339 timestamp with mandatory time zone offset").
  const ms = parseDateTime(v);
  if (ms === null) throw badRequest();
  return ms;
}

function kv(list: string[]): Array<[string, string]> {
  return list.map((s) => {
    const i = s.indexOf('=');
    if (i <= 0) throw invalidValue();
    return [s.slice(0, i), s.slice(i + 1)];
  });
}

/** Validates events.list (and events.watch) query parameters. `scope` identifies the calendar for tokens. */
export function parseEventListQuery(url: URL, scope: string, ctx: ListContext): EventListQuery {
  const p = url.searchParams;
  const get = (k: string): string | undefined => p.get(k) ?? undefined;
  const syncToken = get('syncToken');
  let sync: SyncPoint | undefined;
  if (syncToken !== undefined) {
    for (const k of SYNC_FORBIDDEN) {
      // Message wording UNVERIFIED; the 400 itself follows the discovery document.
      if (p.has(k)) throw invalidValue(`The parameter ${k} cannot be specified together with syncToken.`);
    }
    // "it is not allowed to set showDeleted to False" with a sync token.
    if (get('showDeleted') === 'false') throw invalidValue('The parameter showDeleted cannot be false together with syncToken.');
    sync = decodeSyncToken(syncToken);
    if (!sync) throw invalidValue();
    checkSyncPoint(sync, scope, ctx);
  }
  const maxRaw = get('maxResults');
  let maxResults = EVENTS_DEFAULT_PAGE;
  if (maxRaw !== undefined) {
    const n = Number(maxRaw);
    if (!Number.isInteger(n) || n < 1) throw invalidValue(`Invalid value '${maxRaw}'. Values must be within the range: [1, ${EVENTS_MAX_PAGE}]`);
    // "The page size can never be larger than 2500 events."
    maxResults = Math.min(n, EVENTS_MAX_PAGE);
  }
  const singleEvents = bool(get('singleEvents'), 'singleEvents') ?? false;
  const orderBy = get('orderBy');
  if (orderBy !== undefined && orderBy !== 'startTime' && orderBy !== 'updated') throw invalidValue(`Invalid value for: ${orderBy} is not a valid value`);
  if (orderBy === 'startTime' && !singleEvents) throw invalidValue('The requested ordering is not available for the particular query.');
  const timeMin = time(get('timeMin'));
  const timeMax = time(get('timeMax'));
  if (timeMin !== undefined && timeMax !== undefined && timeMax <= timeMin) throw timeRangeEmpty();
  const q: EventListQuery = {
    maxResults,
    showDeleted: bool(get('showDeleted'), 'showDeleted') ?? false,
    singleEvents,
    privateExt: kv(p.getAll('privateExtendedProperty')),
    sharedExt: kv(p.getAll('sharedExtendedProperty')),
    eventTypes: p.getAll('eventTypes'),
    qh: queryFingerprint(url),
  };
  if (sync) q.sync = sync;
  if (timeMin !== undefined) q.timeMin = timeMin;
  if (timeMax !== undefined) q.timeMax = timeMax;
  const updatedMin = time(get('updatedMin'));
  // 410 updatedMinTooLongAgo, "The requested minimum modification time lies too far in the past" (errors guide;
  // doc-examples/error-410-updatedMinTooLongAgo.json): Google keeps deletions only so long. The emulator's horizon
  // is the sync-token lifetime, the same history a sync token may reach back into.
  if (updatedMin !== undefined && updatedMin < ctx.now - ctx.syncTokenTtlMs) throw updatedMinTooLongAgo();
  if (updatedMin !== undefined) q.updatedMin = updatedMin;
  if (orderBy === 'startTime' || orderBy === 'updated') q.orderBy = orderBy;
  const text = get('q');
  if (text) q.q = text.toLowerCase();
  const ical = get('iCalUID');
  if (ical) q.iCalUID = ical;
  const pageToken = get('pageToken');
  if (pageToken !== undefined) {
    const c = decodePageToken(pageToken);
    if (c && c.scope === scope && c.gen !== ctx.gen) throw sync ? fullSyncRequired() : invalidValue();
    q.pageToken = checkPageCursor(c, scope, q.qh, ctx);
  }
  return q;
}

/**
 * Throws 410 fullSyncRequired when a well-formed token no longer designates a point we can sync from: another
 * emulator generation or scope, invalidated (epoch), or older than the sync-token lifetime ("If the syncToken
 * expires, the server will respond with a 410 GONE", Params$Resource$Events$List.syncToken).
 */
export function checkSyncPoint(s: SyncPoint, scope: string, ctx: ListContext, epoch?: number): void {
  if (s.gen !== ctx.gen || s.scope !== scope || s.seq > ctx.currentSeq) throw fullSyncRequired();
  if (ctx.now - s.iat > ctx.syncTokenTtlMs) throw fullSyncRequired();
  if (epoch !== undefined && s.epoch !== epoch) throw fullSyncRequired();
}

interface Item {
  json: JsonObject;
  seq: number;
  sub: number;
  startMs: number;
}

function boundsOf(ev: CalEvent, calTz: string): { start: number; end: number } | null {
  const one = (d: EventDateTime | undefined): number | null => {
    if (!d) return null;
    if (d.date) return dateToInstant(d.date, calTz);
    if (d.dateTime) return parseDateTime(d.dateTime, d.timeZone ?? calTz);
    return null;
  };
  const start = one(ev.start);
  const end = one(ev.end);
  if (start === null || end === null) return null;
  return { start, end };
}

function matchesFilters(ev: CalEvent, q: EventListQuery): boolean {
  if (q.iCalUID !== undefined && ev.iCalUID !== q.iCalUID) return false;
  // No eventTypes: every type (events.list reference: "If unset, returns all event types"; Event types guide).
  if (q.eventTypes.length > 0 && !q.eventTypes.includes(ev.eventType ?? 'default')) return false;
  if (q.updatedMin !== undefined && Date.parse(ev.updated ?? '') < q.updatedMin) return false;
  for (const [k, v] of q.privateExt) if (ev.extendedProperties?.private?.[k] !== v) return false;
  for (const [k, v] of q.sharedExt) if (ev.extendedProperties?.shared?.[k] !== v) return false;
  if (q.q !== undefined) {
    const hay = [ev.summary, ev.description, ev.location, ...(ev.attendees ?? []).flatMap((a) => [a.email, a.displayName])]
      .filter((s): s is string => typeof s === 'string').join('\n').toLowerCase();
    if (!q.q.split(/\s+/).every((w) => hay.includes(w))) return false;
  }
  return true;
}

function inWindow(b: { start: number; end: number }, q: EventListQuery): boolean {
  // timeMin: "Lower bound (exclusive) for an event's end time"; timeMax: "Upper bound (exclusive) for an
  // event's start time". A zero-length event at timeMin still counts as overlapping.
  if (q.timeMin !== undefined && !(b.end > q.timeMin || (b.end === b.start && b.start === q.timeMin))) return false;
  if (q.timeMax !== undefined && !(b.start < q.timeMax)) return false;
  return true;
}

/**
 * The list items one stored event contributes, in start order for expansions. `sub` orders items inside one
 * change-log entry so that a page can end in the middle of an expanded series.
 */
function itemsFor(stored: StoredEvent, cal: Calendar, viewer: string, q: EventListQuery): Item[] {
  const ev = stored.ev;
  if (!matchesFilters(ev, q)) return [];
  const incremental = q.sync !== undefined;
  // Deleted entries appear in incremental results, with showDeleted, and with updatedMin ("entries deleted
  // since this time will always be included regardless of showDeleted").
  const includeDeleted = incremental || q.showDeleted || q.updatedMin !== undefined;
  // Full details of deleted events only with showDeleted; otherwise Google's minimal form.
  const render = (e: CalEvent): JsonObject => (e.status === 'cancelled' && !q.showDeleted ? tombstone(e) : renderEvent(e, viewer, cal.id));
  const one = (startMs: number): Item[] => [{ json: render(ev), seq: stored.seq, sub: 0, startMs }];
  const cancelled = ev.status === 'cancelled';

  if (isRecurringMaster(ev) && q.singleEvents) {
    // "If showDeleted and singleEvents are both True, only single instances of deleted events (but not the
    // underlying recurring events) are returned": a deleted series shows as its deleted instances.
    if (cancelled && !includeDeleted) return [];
    const exceptions = cal.events.exceptionsOf(ev.id);
    const window: { from?: number; to?: number } = {};
    if (q.timeMin !== undefined) window.from = q.timeMin;
    if (q.timeMax !== undefined) window.to = q.timeMax;
    const out: Item[] = [];
    for (const occ of expandSeries(ev, cal.timeZone, window)) {
      if (exceptions?.has(occ.suffix)) continue;
      out.push({ json: render(instanceOf(ev, occ, cal.id)), seq: stored.seq, sub: occ.startMs, startMs: occ.startMs });
    }
    return out;
  }

  if (cancelled) {
    const master = ev.recurringEventId ? cal.events.get(ev.recurringEventId)?.ev : undefined;
    // "Cancelled instances of recurring events (but not the underlying recurring event) will still be included
    // if showDeleted and singleEvents are both False."
    const cancelledInstanceOfLiveSeries = master !== undefined && master.status !== 'cancelled' && !q.singleEvents;
    if (!includeDeleted && !cancelledInstanceOfLiveSeries) return [];
    if (incremental) return one(0);
  }

  if (incremental) return one(0);
  if (isRecurringMaster(ev)) {
    // A series is listed when any of its instances falls inside the window.
    if (q.timeMin === undefined && q.timeMax === undefined) return one(0);
    const window: { from?: number; to?: number } = {};
    if (q.timeMin !== undefined) window.from = q.timeMin;
    if (q.timeMax !== undefined) window.to = q.timeMax;
    const first = expandSeries(ev, cal.timeZone, window)[0];
    return first ? one(first.startMs) : [];
  }
  const b = boundsOf(ev, cal.timeZone);
  if (b === null) {
    // A cancelled exception without times: place it at its original start.
    return q.timeMin === undefined && q.timeMax === undefined ? one(0) : [];
  }
  return inWindow(b, q) ? one(b.start) : [];
}

export interface EventListResult {
  items: JsonObject[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

/** Runs one page of events.list against `cal` for `viewer`. */
export function listEventsPage(cal: Calendar, viewer: string, q: EventListQuery, scope: string, ctx: ListContext): EventListResult {
  if (q.sync) checkSyncPoint(q.sync, scope, ctx, cal.events.epoch);
  const upper = q.pageToken?.upper ?? ctx.currentSeq;
  const fromSeq = q.sync?.seq ?? 0;
  const syncToken = (): string => encodeSyncToken({ gen: ctx.gen, scope, epoch: cal.events.epoch, seq: upper, iat: ctx.now });
  const t0 = q.pageToken?.t0 ?? ctx.now;

  if (q.orderBy === 'startTime') {
    const all: Item[] = [];
    for (const entry of cal.events.log.range(fromSeq + 1, upper)) {
      const stored = cal.events.get(entry.key);
      if (!stored || stored.seq !== entry.seq) continue;
      all.push(...itemsFor(stored, cal, viewer, q));
    }
    all.sort((a, b) => a.startMs - b.startMs || String(a.json.id).localeCompare(String(b.json.id)));
    const offset = q.pageToken?.offset ?? 0;
    const page = all.slice(offset, offset + q.maxResults);
    const res: EventListResult = { items: page.map((i) => i.json) };
    // Google omits nextSyncToken for ordered queries (widely reported; not in the reference).
    if (offset + q.maxResults < all.length) {
      res.nextPageToken = encodePageToken({ gen: ctx.gen, scope, upper, afterSeq: 0, offset: offset + q.maxResults, t0, qh: q.qh });
    }
    return res;
  }

  const items: JsonObject[] = [];
  let last: { seq: number; sub: number } | undefined;
  const cursor = q.pageToken;
  // Resume inside the entry the previous page ended in when it was an expanded series.
  const start = cursor ? (cursor.afterSub !== undefined ? cursor.afterSeq : cursor.afterSeq + 1) : fromSeq + 1;
  for (const entry of cal.events.log.range(start, upper)) {
    const stored = cal.events.get(entry.key);
    if (!stored || stored.seq !== entry.seq) continue;
    for (const item of itemsFor(stored, cal, viewer, q)) {
      if (cursor?.afterSub !== undefined && item.seq === cursor.afterSeq && item.sub <= cursor.afterSub) continue;
      if (items.length === q.maxResults && last) {
        return {
          items,
          nextPageToken: encodePageToken({ gen: ctx.gen, scope, upper, afterSeq: last.seq, afterSub: last.sub, t0, qh: q.qh }),
        };
      }
      items.push(item.json);
      last = { seq: item.seq, sub: item.sub };
    }
  }
  const res: EventListResult = { items };
  res.nextSyncToken = syncToken();
  return res;
}

/** The events collection envelope (Schema$Events), fields in Google's order. */
export function eventsEnvelope(cal: Calendar, role: AccessRole, seq: number, page: EventListResult): JsonObject {
  const out: JsonObject = {
    kind: 'calendar#events',
    etag: collectionEtag(seq),
    summary: cal.summary,
    description: cal.description ?? '',
    updated: cal.events.lastChange,
    timeZone: cal.timeZone,
    accessRole: role,
    defaultReminders: cal.id === cal.owner && role === 'owner' ? [{ method: 'popup', minutes: 30 }] : [],
  };
  if (page.nextPageToken) out.nextPageToken = page.nextPageToken;
  if (page.nextSyncToken) out.nextSyncToken = page.nextSyncToken;
  out.items = page.items;
  return out;
}
