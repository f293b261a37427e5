// The control API under /_emulator/: set up users, calendars and events, act as people in Google Calendar,
// inject faults and inspect what happened. Plain JSON; errors are {"error": "..."}.

import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { deleteEvent, notifyCalendarLists, putEventAsPerson, respond, settleConference } from './calendar-service.ts';
import { pendingConferences } from './conferences.ts';
import type { Calendar } from './calendars-store.ts';
import { isResponseStatus, renderEvent } from './event-model.ts';
import { newEventId } from './ids.ts';
import { DEFAULT_SCOPE, DEFAULT_CLIENT_ID } from './oauth-store.ts';
import type { QuotaSettings } from './quota.ts';
import type { EmulatorState } from './state.ts';
import { isValidTimeZone } from './time.ts';
import { isObject, type AccessRole } from './types.ts';

class ControlError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

export function isControlError(e: unknown): e is ControlError {
  return e instanceof ControlError;
}

export function controlErrorResponse(e: ControlError): Response {
  return Response.json({ error: e.message }, { status: e.status });
}

async function parse<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ControlError(400, 'body is not valid JSON');
    }
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new ControlError(400, z.prettifyError(r.error));
  return r.data;
}

const email = z.string().trim().min(3).includes('@');
const timeZone = z.string().refine(isValidTimeZone, 'unknown IANA time zone');
const member = z.union([email, z.object({ email, role: z.enum(['reader', 'writer', 'owner', 'freeBusyReader']).optional() })]);

const schemas = {
  config: z.object({
    accessTokenTtlSeconds: z.number().int().positive().optional(),
    defaultMaxChannelTtlSeconds: z.number().int().positive().optional(),
    notificationRetries: z.number().int().min(0).max(20).optional(),
    notificationRetryBaseMs: z.number().int().min(0).optional(),
    notificationTimeoutMs: z.number().int().positive().optional(),
    nextConsentError: z.string().nullable().optional(),
    syncTokenTtlSeconds: z.number().int().positive().optional(),
    pageTokenTtlSeconds: z.number().int().positive().optional(),
  }),
  tokenClock: z.object({ advanceSeconds: z.number().min(0).max(10 * 365 * 86_400) }).strict(),
  hidden: z.object({ hidden: z.boolean() }).strict(),
  client: z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1), redirectUris: z.array(z.string().url()).default([]) }),
  user: z.object({ email, timeZone: timeZone.optional(), scope: z.string().optional() }),
  calendar: z.object({
    owner: email,
    id: z.string().min(1).optional(),
    summary: z.string().optional(),
    description: z.string().optional(),
    timeZone: timeZone.optional(),
    primary: z.boolean().optional(),
    members: z.array(member).optional(),
    pushNotSupported: z.boolean().optional(),
  }),
  respond: z.object({ email, responseStatus: z.string().refine(isResponseStatus, 'needsAction|declined|tentative|accepted') }),
  faults: z.object({
    status: z.union([z.literal(429), z.literal(403), z.literal(500), z.literal(502), z.literal(503)]).optional(),
    reason: z.enum(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']).optional(),
    count: z.number().int().min(0).optional(),
    paths: z.string().optional(),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
    dropNotifications: z.number().min(0).max(1).optional(),
    duplicateNotifications: z.number().min(0).max(1).optional(),
    maxChannelTtlSeconds: z.number().positive().nullable().optional(),
  }),
  // null = unlimited. projectLimitStatus: 403 or 429 rateLimitExceeded for the project limit, or 'alternate'.
  quota: z.object({
    projectPerMinute: z.number().int().positive().nullable().optional(),
    userPerMinute: z.number().int().positive().nullable().optional(),
    dailyPerProject: z.number().int().positive().nullable().optional(),
    projectLimitStatus: z.union([z.literal(403), z.literal(429), z.literal('alternate')]).optional(),
    windowMs: z.number().int().positive().max(3_600_000).optional(),
    reset: z.boolean().optional(),
  }).strict(),
  conferences: z.object({
    mode: z.enum(['immediate', 'pending']).optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    settleAfterMs: z.number().int().min(0).max(3_600_000).nullable().optional(),
    allowedTypes: z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
  }).strict(),
  settleConferences: z.object({
    calendarId: z.string().min(1).optional(),
    eventId: z.string().min(1).optional(),
    outcome: z.enum(['success', 'failure']).optional(),
  }).strict(),
  // Push modes (config.ts PushModes): how unreliable push is. Only the fields given change.
  push: z.object({
    listableDelayMs: z.number().int().min(0).max(3_600_000).optional(),
    dropFirstPush: z.boolean().optional(),
    retries: z.number().int().min(0).max(20).optional(),
    refuseWatches: z.object({
      status: z.union([z.literal(403), z.literal(404)]),
      count: z.number().int().min(0).default(1),
      calendarId: z.string().min(1).optional(),
    }).nullable().optional(),
  }).strict(),
  slackUser: z.object({ email, id: z.string().min(1).optional(), name: z.string().min(1).optional() }),
  slackFaults: z.object({
    status: z.literal(429).optional(),
    count: z.number().int().min(0).default(1),
    retryAfter: z.number().int().min(0).default(1),
    error: z.string().min(1).optional(),
    method: z.string().min(1).optional(),
  }),
};

export function controlRoutes(state: EmulatorState): Hono {
  const app = new Hono();

  const calendarOr404 = (id: string): Calendar => {
    const cal = state.directory.calendars.get(id);
    if (!cal) throw new ControlError(404, `unknown calendar ${id}`);
    return cal;
  };

  app.post('/reset', (c) => {
    state.reset();
    return c.json({ ok: true });
  });

  app.get('/config', (c) => c.json({ ...state.config, nextConsentError: state.config.nextConsentError ?? null }));
  app.post('/config', async (c) => {
    const b = await parse(c, schemas.config);
    const { nextConsentError, ...numbers } = b;
    Object.assign(state.config, numbers);
    if (nextConsentError !== undefined) state.config.nextConsentError = nextConsentError ?? undefined;
    return c.json({ ...state.config, nextConsentError: state.config.nextConsentError ?? null });
  });

  app.post('/clients', async (c) => {
    const b = await parse(c, schemas.client);
    state.oauth.registerClient(b);
    return c.json({ clientId: b.clientId, redirectUris: b.redirectUris });
  });

  // A user plus a grant for the default client, as if they had consented (access_type=offline).
  app.post('/users', async (c) => {
    const b = await parse(c, schemas.user);
    const user = state.directory.ensureUser(b.email, b.timeZone);
    const grant = state.oauth.createGrant(DEFAULT_CLIENT_ID, user.email, b.scope ?? DEFAULT_SCOPE, true);
    return c.json({ email: user.email, refreshToken: grant.refreshToken });
  });

  app.get('/users', (c) => c.json({
    items: [...state.directory.users.values()].map((u) => ({
      email: u.email,
      createdAt: u.createdAt,
      calendars: [...u.list.values()].filter((e) => !e.deleted).map((e) => ({ id: e.calendarId, accessRole: e.accessRole, primary: e.primary })),
      grants: [...state.oauth.grants.values()].filter((g) => g.email === u.email).map((g) => ({ clientId: g.clientId, scope: g.scope, revoked: g.revoked, offline: g.refreshToken !== undefined })),
    })),
  }));

  app.post('/users/:email/revoke', (c) => {
    const user = state.directory.getUser(c.req.param('email'));
    if (!user) throw new ControlError(404, 'unknown user');
    return c.json({ revoked: state.oauth.revokeUser(user.email) });
  });

  app.post('/users/:email/expire-tokens', (c) => c.json({ expired: state.oauth.expireAccessTokens(c.req.param('email').toLowerCase()) }));
  app.post('/tokens/expire', (c) => c.json({ expired: state.oauth.expireAccessTokens() }));

  app.post('/users/:email/invalidate-sync-tokens', (c) => {
    const user = state.directory.getUser(c.req.param('email'));
    if (!user) throw new ControlError(404, 'unknown user');
    user.listEpoch++;
    return c.json({ ok: true });
  });

  app.post('/calendars', async (c) => {
    const b = await parse(c, schemas.calendar);
    const owner = state.directory.ensureUser(b.owner, b.primary ? b.timeZone : undefined);
    const touched = new Set<string>();
    let cal: Calendar;
    const id = b.primary ? owner.email : b.id ?? `${newEventId()}@group.calendar.google.com`;
    const existing = state.directory.calendars.get(id);
    if (existing) {
      cal = existing;
      const patch: { summary?: string; timeZone?: string; description?: string; pushNotSupported?: boolean } = {};
      if (b.summary !== undefined) patch.summary = b.summary;
      if (b.timeZone !== undefined) patch.timeZone = b.timeZone;
      if (b.description !== undefined) patch.description = b.description;
      if (b.pushNotSupported !== undefined) patch.pushNotSupported = b.pushNotSupported;
      if (Object.keys(patch).length > 0) for (const e of state.directory.updateCalendar(cal, patch)) touched.add(e);
    } else {
      cal = state.directory.createCalendar({
        id, owner: owner.email, summary: b.summary ?? id, timeZone: b.timeZone ?? 'UTC', pushNotSupported: b.pushNotSupported ?? false,
        ...(b.description !== undefined ? { description: b.description } : {}),
      });
      touched.add(owner.email);
    }
    for (const m of b.members ?? []) {
      const memberEmail = typeof m === 'string' ? m : m.email;
      const role: AccessRole = typeof m === 'string' ? 'reader' : m.role ?? 'reader';
      const u = state.directory.ensureUser(memberEmail);
      if (state.directory.setListEntry(u.email, cal.id, role)) touched.add(u.email);
    }
    notifyCalendarLists(state, touched);
    return c.json({ id: cal.id });
  });

  app.get('/calendars', (c) => c.json({
    items: [...state.directory.calendars.values()].map((cal) => ({
      id: cal.id, summary: cal.summary, timeZone: cal.timeZone, owner: cal.owner, pushNotSupported: cal.pushNotSupported,
      events: cal.events.byId.size, syncEpoch: cal.events.epoch,
    })),
  }));

  app.delete('/calendars/:calendarId', (c) => {
    const cal = calendarOr404(c.req.param('calendarId'));
    if (cal.id === cal.owner) throw new ControlError(400, 'a primary calendar cannot be deleted');
    notifyCalendarLists(state, state.directory.deleteCalendar(cal.id));
    return c.body(null, 204);
  });

  app.get('/calendars/:calendarId/events', (c) => {
    const cal = calendarOr404(c.req.param('calendarId'));
    const includeCancelled = new URL(c.req.url).searchParams.get('showDeleted') === 'true';
    const items = [...cal.events.byId.values()]
      .map((s) => s.ev)
      .filter((ev) => includeCancelled || ev.status !== 'cancelled')
      .map((ev) => renderEvent(ev, cal.owner, cal.id));
    return c.json({ items });
  });

  app.put('/calendars/:calendarId/events/:eventId', async (c) => {
    const cal = calendarOr404(c.req.param('calendarId'));
    const id = c.req.param('eventId');
    if (!/^[^/\s]{1,1024}$/.test(id)) throw new ControlError(400, 'invalid event id');
    const text = await c.req.text();
    let body: unknown;
    try {
      body = JSON.parse(text || '{}');
    } catch {
      throw new ControlError(400, 'body is not valid JSON');
    }
    if (!isObject(body)) throw new ControlError(400, 'body must be a Google event resource (a JSON object)');
    const { ev, created } = putEventAsPerson(state, cal, id, body);
    return c.json(renderEvent(ev, cal.owner, cal.id), created ? 201 : 200);
  });

  app.delete('/calendars/:calendarId/events/:eventId', (c) => {
    const cal = calendarOr404(c.req.param('calendarId'));
    deleteEvent(state, cal, c.req.param('eventId'));
    return c.body(null, 204);
  });

  app.post('/calendars/:calendarId/events/:eventId/respond', async (c) => {
    const cal = calendarOr404(c.req.param('calendarId'));
    const b = await parse(c, schemas.respond);
    const ev = respond(state, cal, c.req.param('eventId'), b.email, b.responseStatus);
    if (!ev) throw new ControlError(404, `${b.email} is not an attendee`);
    return c.json(renderEvent(ev, cal.owner, cal.id));
  });

  // Ages every sync and page token by `advanceSeconds` (nothing else moves): expiry tests without waiting.
  app.post('/token-clock', async (c) => {
    const b = await parse(c, schemas.tokenClock);
    state.tokenClockOffsetMs += b.advanceSeconds * 1000;
    return c.json({ offsetSeconds: state.tokenClockOffsetMs / 1000 });
  });

  // The user hides (or shows again) a calendar in their list, as in Google Calendar's "Hide from list".
  app.post('/users/:email/calendar-list/:calendarId/hidden', async (c) => {
    const b = await parse(c, schemas.hidden);
    const user = state.directory.getUser(c.req.param('email'));
    if (!user?.list.get(c.req.param('calendarId'))) throw new ControlError(404, 'no such calendar list entry');
    if (state.directory.setHidden(user.email, c.req.param('calendarId'), b.hidden)) notifyCalendarLists(state, [user.email]);
    return c.json({ ok: true });
  });

  app.post('/calendars/:calendarId/invalidate-sync-tokens', (c) => {
    const cal = calendarOr404(c.req.param('calendarId'));
    cal.events.epoch++;
    return c.json({ ok: true, epoch: cal.events.epoch });
  });

  app.get('/faults', (c) => c.json(state.faults.snapshot()));
  app.post('/faults', async (c) => {
    const b = await parse(c, schemas.faults);
    if (b.count !== undefined && b.status === undefined && state.faults.status === undefined) {
      throw new ControlError(400, 'count needs a status (429, 403, 500, 502 or 503)');
    }
    const settings: Parameters<typeof state.faults.configure>[0] = {};
    for (const [k, v] of Object.entries(b)) if (v !== undefined) Object.assign(settings, { [k]: v });
    state.faults.configure(settings);
    return c.json(state.faults.snapshot());
  });

  // Conference creation: how Google answers a createRequest (at once, or pending then settled), per-calendar
  // allowedConferenceSolutionTypes, and settling pending requests now (conferences.ts).
  app.get('/conferences', (c) => c.json(state.conferences.snapshot()));
  app.post('/conferences', async (c) => {
    const { allowedTypes, ...patch } = await parse(c, schemas.conferences);
    const settings: Parameters<typeof state.conferences.configure>[0] = {};
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) Object.assign(settings, { [k]: v });
    state.conferences.configure(settings);
    for (const [id, types] of Object.entries(allowedTypes ?? {})) state.conferences.setAllowedTypes(id, types);
    return c.json(state.conferences.snapshot());
  });
  app.post('/conferences/settle', async (c) => {
    const b = await parse(c, schemas.settleConferences);
    const filter: { calendarId?: string; eventId?: string } = {};
    if (b.calendarId) filter.calendarId = b.calendarId;
    if (b.eventId) filter.eventId = b.eventId;
    const settled = pendingConferences(state.conferences, filter).filter((p) => settleConference(state, p.calendarId, p.eventId, b.outcome));
    return c.json({ settled });
  });

  app.get('/quota', (c) => c.json(state.quota.snapshot()));
  app.post('/quota', async (c) => {
    const { reset, ...patch } = await parse(c, schemas.quota);
    const settings: Partial<QuotaSettings> = {};
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) Object.assign(settings, { [k]: v });
    state.quota.configure(settings);
    if (reset) state.quota.resetCounters();
    return c.json(state.quota.snapshot());
  });

  // ---- push modes (docs/emulator.md, "Push modes") ----------------------------------------------------
  const pushModes = () => {
    const p = state.config.push;
    return {
      listableDelayMs: p.listableDelayMs,
      dropFirstPush: p.dropFirstPush,
      retries: state.config.notificationRetries,
      refuseWatches: p.refuseWatches ? { status: p.refuseWatches.status, remaining: p.refuseWatches.remaining, calendarId: p.refuseWatches.calendarId ?? null } : null,
    };
  };
  app.get('/push', (c) => c.json(pushModes()));
  app.post('/push', async (c) => {
    const b = await parse(c, schemas.push);
    const p = state.config.push;
    if (b.listableDelayMs !== undefined) p.listableDelayMs = b.listableDelayMs;
    if (b.dropFirstPush !== undefined) p.dropFirstPush = b.dropFirstPush;
    if (b.retries !== undefined) state.config.notificationRetries = b.retries;
    if (b.refuseWatches !== undefined) {
      p.refuseWatches = b.refuseWatches === null ? null : {
        status: b.refuseWatches.status, remaining: b.refuseWatches.count,
        ...(b.refuseWatches.calendarId !== undefined ? { calendarId: b.refuseWatches.calendarId } : {}),
      };
    }
    return c.json(pushModes());
  });

  app.get('/requests', (c) => {
    const p = new URL(c.req.url).searchParams;
    const filter: { path?: string; method?: string; sinceId?: number } = {};
    const path = p.get('path');
    const method = p.get('method');
    const since = p.get('since');
    if (path) filter.path = path;
    if (method) filter.method = method;
    if (since) filter.sinceId = Number(since);
    return c.json({ items: state.requests.list(filter) });
  });

  app.get('/channels', (c) => c.json({
    items: state.notifier.list().map((ch) => ({
      id: ch.id,
      resourceId: ch.resourceId,
      resourceUri: ch.resourceUri,
      expiration: String(ch.expiration),
      resource: ch.resourceKey,
      address: ch.address,
      tokenSet: ch.token !== undefined,
      expirationIso: new Date(ch.expiration).toISOString(),
      state: ch.state,
      user: ch.email,
      createdAt: ch.createdAt,
      lastMessageNumber: ch.lastMessageNumber,
    })),
  }));

  app.get('/notifications', (c) => {
    const channelId = new URL(c.req.url).searchParams.get('channelId');
    const items = state.notifier.notifications().filter((r) => !channelId || r.channelId === channelId);
    return c.json({ items: items.map((r) => ({ ...r, channel: r.channelId, state: r.resourceState })) });
  });

  app.get('/slack/messages', (c) => {
    const channel = new URL(c.req.url).searchParams.get('channel');
    return c.json({ items: state.slack.messages.filter((m) => !channel || m.channel === channel) });
  });

  app.post('/slack/users', async (c) => {
    const b = await parse(c, schemas.slackUser);
    const u = state.slack.addUser({ email: b.email, ...(b.id ? { id: b.id } : {}), ...(b.name ? { name: b.name } : {}) });
    return c.json(u);
  });

  app.post('/slack/faults', async (c) => {
    const b = await parse(c, schemas.slackFaults);
    if (b.error) state.slack.errorFault = { error: b.error, remaining: b.count, ...(b.method ? { method: b.method } : {}) };
    else state.slack.fault = { status: 429, remaining: b.count, retryAfter: b.retryAfter };
    return c.json({ ok: true });
  });

  app.all('*', (c) => c.json({ error: `no control endpoint ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));

  return app;
}
