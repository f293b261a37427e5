// calendarList.list with paging and incremental sync (Params$Resource$Calendarlist$List; FACTS §2, §5).

import { PALETTE_COLORS, type Calendar, type ListEntry, type User } from './calendars-store.ts';
import { invalidValue } from './errors.ts';
import { checkPageCursor, checkSyncPoint, type ListContext } from './event-query.ts';
import { collectionEtag } from './ids.ts';
import { decodePageToken, decodeSyncToken, encodePageToken, encodeSyncToken, queryFingerprint, type PageCursor, type SyncPoint } from './tokens.ts';
import type { AccessRole, JsonObject } from './types.ts';

export const LIST_DEFAULT_PAGE = 100;
export const LIST_MAX_PAGE = 250;

const ROLE_RANK: Record<AccessRole, number> = { freeBusyReader: 0, reader: 1, writer: 2, owner: 3 };

export interface CalendarListQuery {
  maxResults: number;
  pageToken?: PageCursor;
  sync?: SyncPoint;
  showDeleted: boolean;
  /** "Whether to show hidden entries. Optional. The default is False." (Params$Resource$Calendarlist$List.showHidden) */
  showHidden: boolean;
  minAccessRole?: AccessRole;
  qh: string;
}

export function calendarListScope(email: string): string {
  return `calendarList:${email}`;
}

export function parseCalendarListQuery(url: URL, user: User, ctx: ListContext): CalendarListQuery {
  const p = url.searchParams;
  const scope = calendarListScope(user.email);
  const q: CalendarListQuery = {
    maxResults: LIST_DEFAULT_PAGE, showDeleted: p.get('showDeleted') === 'true', showHidden: p.get('showHidden') === 'true', qh: queryFingerprint(url),
  };
  const max = p.get('maxResults');
  if (max !== null) {
    const n = Number(max);
    if (!Number.isInteger(n) || n < 1) throw invalidValue(`Invalid value '${max}'. Values must be within the range: [1, ${LIST_MAX_PAGE}]`);
    q.maxResults = Math.min(n, LIST_MAX_PAGE);
  }
  const role = p.get('minAccessRole');
  if (role !== null) {
    if (!(role in ROLE_RANK)) throw invalidValue(`Invalid value for: ${role} is not a valid value`);
    q.minAccessRole = role as AccessRole;
  }
  const syncToken = p.get('syncToken');
  if (syncToken !== null) {
    // "minAccessRole and showOwnOrganizationOnly query parameters cannot be specified together with nextSyncToken";
    // "it is not allowed to set showDeleted neither showHidden to False". Message wording UNVERIFIED.
    for (const k of ['minAccessRole', 'showOwnOrganizationOnly']) {
      if (p.has(k)) throw invalidValue(`The parameter ${k} cannot be specified together with syncToken.`);
    }
    for (const k of ['showDeleted', 'showHidden']) {
      if (p.get(k) === 'false') throw invalidValue(`The parameter ${k} cannot be false together with syncToken.`);
    }
    const sync = decodeSyncToken(syncToken);
    if (!sync) throw invalidValue();
    checkSyncPoint(sync, scope, ctx, user.listEpoch);
    q.sync = sync;
  }
  const pageToken = p.get('pageToken');
  if (pageToken !== null) {
    const c = decodePageToken(pageToken);
    if (c && c.gen !== ctx.gen) throw invalidValue();
    q.pageToken = checkPageCursor(c, scope, q.qh, ctx);
  }
  return q;
}

export function renderListEntry(e: ListEntry, cal: Calendar | undefined): JsonObject {
  if (e.deleted || !cal) return { kind: 'calendar#calendarListEntry', etag: e.etag, id: e.calendarId, deleted: true };
  const out: JsonObject = { kind: 'calendar#calendarListEntry', etag: e.etag, id: cal.id, summary: cal.summary };
  if (cal.description !== undefined) out.description = cal.description;
  Object.assign(out, {
    timeZone: cal.timeZone,
    colorId: e.colorId,
    backgroundColor: PALETTE_COLORS.get(e.colorId) ?? '#9fe1e7',
    foregroundColor: '#000000',
    selected: true,
    accessRole: e.accessRole,
    defaultReminders: e.primary ? [{ method: 'popup', minutes: 30 }] : [],
  });
  // "hidden: Whether the calendar has been hidden from the list ... only returned when the calendar is hidden,
  // in which case the value is true" (Schema$CalendarListEntry.hidden).
  if (e.hidden) out.hidden = true;
  if (e.primary) {
    out.notificationSettings = {
      notifications: [
        { type: 'eventCreation', method: 'email' }, { type: 'eventChange', method: 'email' },
        { type: 'eventCancellation', method: 'email' }, { type: 'eventResponse', method: 'email' },
      ],
    };
    out.primary = true;
  }
  out.conferenceProperties = { allowedConferenceSolutionTypes: ['hangoutsMeet'] };
  return out;
}

export function listCalendarListPage(user: User, calendars: ReadonlyMap<string, Calendar>, q: CalendarListQuery, ctx: ListContext): JsonObject {
  const scope = calendarListScope(user.email);
  const upper = q.pageToken?.upper ?? ctx.currentSeq;
  const start = q.pageToken ? q.pageToken.afterSeq + 1 : (q.sync?.seq ?? 0) + 1;
  const includeDeleted = q.sync !== undefined || q.showDeleted;
  // "All entries deleted and hidden since the previous list request will always be in the result set" with a
  // sync token; a full list shows hidden entries only with showHidden=true.
  const includeHidden = q.sync !== undefined || q.showHidden;
  const t0 = q.pageToken?.t0 ?? ctx.now;
  const items: JsonObject[] = [];
  let nextPageToken: string | undefined;
  let lastSeq = 0;
  for (const entry of user.listLog.range(start, upper)) {
    const e = user.list.get(entry.key);
    if (!e || e.seq !== entry.seq) continue;
    if (e.deleted && !includeDeleted) continue;
    if (!e.deleted && e.hidden && !includeHidden) continue;
    if (q.minAccessRole && ROLE_RANK[e.accessRole] < ROLE_RANK[q.minAccessRole]) continue;
    if (items.length === q.maxResults) {
      nextPageToken = encodePageToken({ gen: ctx.gen, scope, upper, afterSeq: lastSeq, t0, qh: q.qh });
      break;
    }
    items.push(renderListEntry(e, calendars.get(e.calendarId)));
    lastSeq = e.seq;
  }
  const out: JsonObject = { kind: 'calendar#calendarList', etag: collectionEtag(upper) };
  if (nextPageToken) out.nextPageToken = nextPageToken;
  else out.nextSyncToken = encodeSyncToken({ gen: ctx.gen, scope, epoch: user.listEpoch, seq: upper, iat: ctx.now });
  out.items = items;
  return out;
}
