// Google Calendar API v3 routes, mounted at /calendar/v3 so that googleapis works with only `rootUrl` changed
// (googleapis-common drops any path prefix of rootUrl, FACTS §6).

import { Hono, type Context } from 'hono';
import { listCalendarListPage, parseCalendarListQuery, renderListEntry } from './calendar-list.ts';
import {
  calendarListResourceKey, deleteEvent, eventsResourceKey, getEvent, insertEvent, patchEvent, resolveEvent, updateEvent,
} from './calendar-service.ts';
import type { Calendar } from './calendars-store.ts';
import { GOOGLE_API_BASE, buildChannel, channelResource } from './channels.ts';
import {
  GoogleApiError, insufficientScopes, invalidCredentials, loginRequired, notFound, parseError, pushNotSupported, writerAccessRequired,
} from './errors.ts';
import { instanceOf, renderEvent } from './event-model.ts';
import { checkSyncPoint, eventsEnvelope, listEventsPage, parseEventListQuery, type ListContext } from './event-query.ts';
import { expandSeries, isRecurringMaster } from './recurrence.ts';
import type { EmulatorState } from './state.ts';
import { parseDateTime } from './time.ts';
import { encodePageToken, decodePageToken } from './tokens.ts';
import { isObject, type AccessRole, type JsonObject } from './types.ts';

export interface AuthInfo {
  email: string;
  clientId: string;
  scopes: string[];
}

export type ApiEnv = { Variables: { auth: AuthInfo; userEmail: string } };

const CAL_SCOPE = 'https://www.googleapis.com/auth/calendar';
/** Scopes that allow changing events (OAuth 2.0 scopes for Google APIs, Calendar API v3). */
const WRITE_SCOPES: ReadonlySet<string> = new Set([CAL_SCOPE, `${CAL_SCOPE}.events`, `${CAL_SCOPE}.events.owned`, `${CAL_SCOPE}.app.created`]);

/**
 * Scopes each family of methods accepts, from the discovery document shipped in googleapis
 * (node_modules/googleapis/build/src/apis/calendar/v3.d.ts, each method's "scopes" list): a grant
 * with only calendar.events cannot list calendars, one with only calendar.calendarlist.readonly cannot
 * read events. Writes are checked by requireWriteScope.
 */
const scopeSet = (...names: string[]) => new Set(names.map((n) => (n ? `${CAL_SCOPE}.${n}` : CAL_SCOPE)));
const CALENDAR_LIST_SCOPES = scopeSet('', 'app.created', 'calendarlist', 'calendarlist.readonly', 'readonly');
const EVENTS_READ_SCOPES = scopeSet('', 'app.created', 'events', 'events.freebusy', 'events.owned', 'events.owned.readonly', 'events.public.readonly', 'events.readonly', 'readonly');
const CALENDARS_GET_SCOPES = scopeSet('', 'app.created', 'calendars', 'calendars.readonly', 'readonly');

function familyScopes(path: string): ReadonlySet<string> | undefined {
  if (path.includes('/users/me/calendarList')) return CALENDAR_LIST_SCOPES;
  if (/\/calendars\/[^/]+\/events/.test(path)) return EVENTS_READ_SCOPES;
  if (/\/calendars\/[^/]+\/?$/.test(path)) return CALENDARS_GET_SCOPES;
  return undefined;
}

export function googleJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=UTF-8' } });
}

/** Resolves the bearer token (header, or the access_token query parameter Google also accepts). */
export function authenticate(state: EmulatorState, c: Context): AuthInfo {
  const header = c.req.header('authorization');
  let token: string | undefined;
  if (header !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) throw invalidCredentials();
    token = m[1];
  } else {
    token = new URL(c.req.url).searchParams.get('access_token') ?? undefined;
  }
  if (!token) throw loginRequired();
  const found = state.oauth.resolveAccessToken(token);
  if (!found) throw invalidCredentials();
  return { email: found.grant.email, clientId: found.grant.clientId, scopes: found.grant.scope.split(' ') };
}

/**
 * conferenceDataVersion: "Acceptable values are 0 to 1, inclusive" (events.insert reference); the default is 0.
 * Refusal wording for other values UNVERIFIED.
 */
function conferenceDataVersion(c: Context): number {
  const raw = new URL(c.req.url).searchParams.get('conferenceDataVersion');
  if (raw === null) return 0;
  if (raw !== '0' && raw !== '1') throw new GoogleApiError(400, { domain: 'global', reason: 'invalid', message: 'Invalid conferenceDataVersion value.' });
  return Number(raw);
}

async function body(c: Context): Promise<JsonObject> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (!isObject(v)) throw parseError();
    return v;
  } catch (e) {
    if (e instanceof GoogleApiError) throw e;
    throw parseError();
  }
}

export function calendarApi(state: EmulatorState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.use('*', async (c, next) => {
    const auth = authenticate(state, c);
    c.set('auth', auth);
    c.set('userEmail', auth.email);
    // Every authenticated Calendar API request passes the quotas (quota.ts) before anything else is checked:
    // scope refusals, injected faults, 404s and watch/stop calls all count; OAuth and control routes are
    // elsewhere and never do.
    const limited = state.quota.admit(auth.email);
    if (limited) throw limited;
    if (!auth.scopes.some((s) => s.startsWith(CAL_SCOPE))) throw insufficientScopes();
    const family = familyScopes(new URL(c.req.url).pathname);
    if (family && !auth.scopes.some((s) => family.has(s))) throw insufficientScopes();
    const fault = state.faults.take(new URL(c.req.url).pathname, c.req.method);
    if (fault) throw fault;
    await next();
  });

  const requireWriteScope = (c: Context<ApiEnv>): void => {
    if (!c.get('auth').scopes.some((s) => WRITE_SCOPES.has(s))) throw insufficientScopes();
  };

  /** The calendar named in the path ("primary" = the caller's primary calendar) and the caller's role on it. */
  const calendarFor = (c: Context<ApiEnv>, need: 'read' | 'write'): { cal: Calendar; role: AccessRole; asGiven: string } => {
    const auth = c.get('auth');
    const asGiven = c.req.param('calendarId') ?? '';
    const id = asGiven === 'primary' ? auth.email : asGiven;
    const cal = state.directory.calendars.get(id);
    const role = state.directory.roleOf(auth.email, id);
    if (!cal || !role || role === 'freeBusyReader') throw notFound();
    if (need === 'write') {
      requireWriteScope(c);
      if (role !== 'owner' && role !== 'writer') throw writerAccessRequired();
    }
    return { cal, role, asGiven };
  };

  // Lists see changes up to the listable horizon (push mode listableDelayMs, state.ts): the push of a
  // change may come before the list shows it.
  const listCtx = (): ListContext => ({
    gen: state.gen,
    currentSeq: state.listableSeq(),
    now: state.tokenNow(),
    syncTokenTtlMs: state.config.syncTokenTtlSeconds * 1000,
    pageTokenTtlMs: state.config.pageTokenTtlSeconds * 1000,
  });

  // ---- calendarList ------------------------------------------------------------------------------------
  app.get('/users/me/calendarList', (c) => {
    const user = state.directory.getUser(c.get('auth').email);
    if (!user) throw notFound();
    const q = parseCalendarListQuery(new URL(c.req.url), user, listCtx());
    return googleJson(listCalendarListPage(user, state.directory.calendars, q, listCtx()));
  });

  app.post('/users/me/calendarList/watch', async (c) => {
    const auth = c.get('auth');
    const user = state.directory.getUser(auth.email);
    if (!user) throw notFound();
    parseCalendarListQuery(new URL(c.req.url), user, listCtx());
    return watch(c, await body(c), {
      resourceKey: calendarListResourceKey(user.email),
      resourceUri: `${GOOGLE_API_BASE}/users/me/calendarList?alt=json`,
    });
  });

  app.get('/users/me/calendarList/:calendarId', (c) => {
    const auth = c.get('auth');
    const asGiven = c.req.param('calendarId');
    const id = asGiven === 'primary' ? auth.email : asGiven;
    const entry = state.directory.getUser(auth.email)?.list.get(id);
    if (!entry || entry.deleted) throw notFound();
    return googleJson(renderListEntry(entry, state.directory.calendars.get(id)));
  });

  // ---- calendars -----------------------------------------------------------------------------------------
  app.get('/calendars/:calendarId', (c) => {
    const { cal } = calendarFor(c, 'read');
    const out: JsonObject = { kind: 'calendar#calendar', etag: cal.etag, id: cal.id, summary: cal.summary };
    if (cal.description !== undefined) out.description = cal.description;
    out.timeZone = cal.timeZone;
    out.conferenceProperties = { allowedConferenceSolutionTypes: state.conferences.allowedTypes(cal.id) };
    return googleJson(out);
  });

  // ---- events --------------------------------------------------------------------------------------------
  app.get('/calendars/:calendarId/events', (c) => {
    const { cal, role } = calendarFor(c, 'read');
    const scope = eventsResourceKey(cal.id);
    const q = parseEventListQuery(new URL(c.req.url), scope, listCtx());
    const page = listEventsPage(cal, c.get('auth').email, q, scope, listCtx());
    return googleJson(eventsEnvelope(cal, role, state.seq, page));
  });

  app.post('/calendars/:calendarId/events/watch', async (c) => {
    const { cal, asGiven } = calendarFor(c, 'read');
    // events.watch takes events.list's parameters: a stale syncToken answers 410, a garbage one 400 (observed).
    const scope = eventsResourceKey(cal.id);
    const q = parseEventListQuery(new URL(c.req.url), scope, listCtx());
    if (q.sync) checkSyncPoint(q.sync, scope, listCtx(), cal.events.epoch);
    const b = await body(c);
    if (cal.pushNotSupported) throw pushNotSupported();
    const refusal = state.takeWatchRefusal(cal.id);
    if (refusal) throw refusal;
    return watch(c, b, { resourceKey: scope, resourceUri: `${GOOGLE_API_BASE}/calendars/${asGiven}/events?alt=json` }, q.eventTypes);
  });

  app.post('/calendars/:calendarId/events', async (c) => {
    const { cal } = calendarFor(c, 'write');
    const ev = insertEvent(state, await body(c), { calendar: cal, actor: c.get('auth').email, conferenceDataVersion: conferenceDataVersion(c) });
    return googleJson(renderEvent(ev, c.get('auth').email, cal.id));
  });

  app.get('/calendars/:calendarId/events/:eventId', (c) => {
    const { cal } = calendarFor(c, 'read');
    const ev = getEvent(cal, c.req.param('eventId'));
    // Conditional retrieval: "only retrieve if changed" with If-None-Match (version-resources guide).
    if (c.req.header('if-none-match') === ev.etag) return c.body(null, 304);
    return googleJson(renderEvent(ev, c.get('auth').email, cal.id));
  });

  app.get('/calendars/:calendarId/events/:eventId/instances', (c) => {
    const { cal, role } = calendarFor(c, 'read');
    const r = resolveEvent(cal, c.req.param('eventId'));
    if (r.kind !== 'stored' || !isRecurringMaster(r.ev)) throw notFound();
    const master = r.ev;
    const url = new URL(c.req.url);
    const window: { from?: number; to?: number } = {};
    const tmin = url.searchParams.get('timeMin');
    const tmax = url.searchParams.get('timeMax');
    if (tmin) window.from = parseDateTime(tmin) ?? undefined;
    if (tmax) window.to = parseDateTime(tmax) ?? undefined;
    const showDeleted = url.searchParams.get('showDeleted') === 'true';
    const viewer = c.get('auth').email;
    const exceptions = cal.events.exceptionsOf(master.id);
    const all: JsonObject[] = [];
    for (const occ of expandSeries(master, cal.timeZone, window)) {
      const exId = exceptions?.get(occ.suffix);
      const ev = exId ? cal.events.get(exId)?.ev : instanceOf(master, occ, cal.id);
      if (!ev || (ev.status === 'cancelled' && !showDeleted)) continue;
      all.push(renderEvent(ev, viewer, cal.id));
    }
    const max = Math.min(Number(url.searchParams.get('maxResults') ?? 250) || 250, 2500);
    const pt = url.searchParams.get('pageToken');
    const offset = pt ? (decodePageToken(pt)?.offset ?? 0) : 0;
    const out = eventsEnvelope(cal, role, state.seq, { items: all.slice(offset, offset + max) });
    if (offset + max < all.length) {
      out.nextPageToken = encodePageToken({ gen: state.gen, scope: `instances:${master.id}`, upper: state.seq, afterSeq: 0, offset: offset + max, t0: state.tokenNow(), qh: '' });
    }
    return googleJson(out);
  });

  app.patch('/calendars/:calendarId/events/:eventId', async (c) => {
    const { cal } = calendarFor(c, 'write');
    // If-Match is not honoured on patch (see patchEvent): Google documents it for update and delete.
    const ev = patchEvent(state, c.req.param('eventId'), await body(c), { calendar: cal, actor: c.get('auth').email, conferenceDataVersion: conferenceDataVersion(c) });
    return googleJson(renderEvent(ev, c.get('auth').email, cal.id));
  });

  app.put('/calendars/:calendarId/events/:eventId', async (c) => {
    const { cal } = calendarFor(c, 'write');
    const ev = updateEvent(state, c.req.param('eventId'), await body(c), { calendar: cal, actor: c.get('auth').email, conferenceDataVersion: conferenceDataVersion(c) }, c.req.header('if-match'));
    return googleJson(renderEvent(ev, c.get('auth').email, cal.id));
  });

  app.delete('/calendars/:calendarId/events/:eventId', (c) => {
    const { cal } = calendarFor(c, 'write');
    deleteEvent(state, cal, c.req.param('eventId'), c.req.header('if-match'));
    return c.body(null, 204);
  });

  // ---- channels ------------------------------------------------------------------------------------------
  app.post('/channels/stop', async (c) => {
    const b = await body(c);
    const auth = c.get('auth');
    const ch = typeof b.id === 'string' ? state.notifier.get(b.id) : undefined;
    // Only the creating user and OAuth client may stop a channel (push guide, "Stop notifications").
    if (!ch || ch.resourceId !== b.resourceId || ch.state !== 'active' || ch.email !== auth.email || ch.clientId !== auth.clientId) {
      throw notFound();
    }
    state.notifier.stop(ch);
    return c.body(null, 204);
  });

  function watch(c: Context<ApiEnv>, b: JsonObject, target: { resourceKey: string; resourceUri: string }, eventTypes: string[] = []): Response {
    const auth = c.get('auth');
    const existing = typeof b.id === 'string' ? state.notifier.get(b.id) : undefined;
    if (existing && existing.state === 'active') {
      // Channel ids must be unique within the project (push guide). Wording UNVERIFIED.
      throw new GoogleApiError(400, { domain: 'global', reason: 'channelIdNotUnique', message: 'Channel id not unique' });
    }
    const maxTtlSeconds = state.faults.maxChannelTtlSeconds ?? state.config.defaultMaxChannelTtlSeconds;
    const ch = buildChannel(b, target, { email: auth.email, clientId: auth.clientId }, { maxTtlSeconds, gen: state.gen });
    // No eventTypes: every type (events.watch reference: "If unset, returns all event types").
    if (eventTypes.length > 0) ch.eventTypes = new Set(eventTypes);
    state.notifier.add(ch);
    return googleJson(channelResource(ch));
  }

  app.all('*', () => {
    throw notFound();
  });

  return app;
}
