// The emulator's control API (/_emulator/, docs/emulator.md) from a test: act as people in Google
// Calendar, inject faults, and read what Google and Slack saw. Works with an emulator in this
// process or anywhere else, by URL.

export interface EmulatorRequest {
  id: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The token's user (for /token: the grant's). */
  user: string | null;
  status: number;
}

export interface EmulatorChannel {
  id: string;
  resourceId: string;
  resourceUri: string;
  resource: string;
  address: string;
  tokenSet: boolean;
  expiration: string;
  state: 'active' | 'stopped' | 'expired';
  user: string;
}

export interface GoogleEvent {
  id: string;
  status: string;
  etag: string;
  summary?: string;
  updated: string;
  start: { dateTime?: string; date?: string; timeZone?: string };
  end: { dateTime?: string; date?: string; timeZone?: string };
  attendees?: Array<{ email: string; responseStatus: string; organizer?: boolean; self?: boolean }>;
  [k: string]: unknown;
}

export interface EmulatorControl {
  url: string;
  /** Any control call: GET without a body, POST with one unless `method` says otherwise; throws on an error status. */
  json<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  /** A Google user with a primary calendar and an offline grant: `{email, refreshToken}`. */
  createUser(email: string, opts?: { timeZone?: string }): Promise<{ email: string; refreshToken: string }>;
  putEvent(calendarId: string, eventId: string, body: Record<string, unknown>): Promise<GoogleEvent>;
  deleteEvent(calendarId: string, eventId: string): Promise<void>;
  respond(calendarId: string, eventId: string, email: string, responseStatus: string): Promise<void>;
  /** The live (not cancelled) events of a calendar, as Google holds them now. */
  liveEvents(calendarId: string): Promise<GoogleEvent[]>;
  faults(settings: Record<string, unknown>): Promise<void>;
  /** The id of the last logged request (a mark for `requests`). */
  requestMark(): Promise<number>;
  requests(filter?: { sinceId?: number; path?: string; method?: string }): Promise<EmulatorRequest[]>;
  channels(): Promise<EmulatorChannel[]>;
  slackMessages(channel?: string): Promise<Array<{ channel: string; ts: string; text: string }>>;
}

export function emulatorControl(emulatorUrl: string): EmulatorControl {
  const base = emulatorUrl.endsWith('/') ? emulatorUrl : `${emulatorUrl}/`;
  const json = async (path: string, body?: unknown, method?: string) => {
    const res = await fetch(`${base}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${method ?? ''} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const events = (calendarId: string, eventId?: string) =>
    `calendars/${encodeURIComponent(calendarId)}/events${eventId === undefined ? '' : `/${encodeURIComponent(eventId)}`}`;
  const requests: EmulatorControl['requests'] = async (f = {}) => {
    const q = new URLSearchParams();
    if (f.sinceId !== undefined) q.set('since', String(f.sinceId));
    if (f.path !== undefined) q.set('path', f.path);
    if (f.method !== undefined) q.set('method', f.method);
    const r = await json(`requests${q.size ? `?${q}` : ''}`);
    return (r.items as EmulatorRequest[]).filter((i) => f.sinceId === undefined || i.id > f.sinceId);
  };
  return {
    url: base,
    json,
    createUser: (email, o = {}) => json('users', { email, ...o }),
    putEvent: (calendarId, eventId, body) => json(events(calendarId, eventId), body, 'PUT'),
    async deleteEvent(calendarId, eventId) {
      await json(events(calendarId, eventId), undefined, 'DELETE');
    },
    async respond(calendarId, eventId, email, responseStatus) {
      await json(`${events(calendarId, eventId)}/respond`, { email, responseStatus });
    },
    liveEvents: async (calendarId) => (await json(events(calendarId))).items,
    async faults(settings) {
      await json('faults', settings);
    },
    async requestMark() {
      const r = await json('requests');
      return r.items.length ? r.items[r.items.length - 1].id : 0;
    },
    requests,
    channels: async () => (await json('channels')).items,
    slackMessages: async (channel) => (await json(`slack/messages${channel ? `?channel=${encodeURIComponent(channel)}` : ''}`)).items,
  };
}
