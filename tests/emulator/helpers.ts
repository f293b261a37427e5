// Shared fixtures for the emulator conformance suite: an emulator on a free port, real googleapis /
// google-auth-library clients pointed at it, a local push receiver, and deadline-based polling.

import { expect } from 'bun:test';
import { OAuth2Client } from 'google-auth-library';
import { google, type calendar_v3 } from 'googleapis';
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, startEmulator, type Emulator } from '../../src/emulator/index.ts';

export { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET };

export const REDIRECT_URI = 'http://127.0.0.1:5555/oauth/callback';

export async function start(opts: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  return startEmulator({ port: 0, ...opts });
}

export function oauthClient(emu: Emulator, clientId = DEFAULT_CLIENT_ID, clientSecret = DEFAULT_CLIENT_SECRET): OAuth2Client {
  return new OAuth2Client({
    clientId,
    clientSecret,
    redirectUri: REDIRECT_URI,
    endpoints: {
      oauth2TokenUrl: `${emu.url}token`,
      oauth2AuthBaseUrl: `${emu.url}o/oauth2/v2/auth`,
      oauth2RevokeUrl: `${emu.url}revoke`,
    },
  });
}

export function calendarClient(emu: Emulator, auth: OAuth2Client): calendar_v3.Calendar {
  return google.calendar({ version: 'v3', auth, rootUrl: emu.url });
}

/** Calls the control API; throws on a non-2xx answer. */
export async function control<T = Record<string, unknown>>(emu: Emulator, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${emu.url}_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path} -> ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export interface TestUser {
  email: string;
  refreshToken: string;
  auth: OAuth2Client;
  calendar: calendar_v3.Calendar;
}

/** A user created through the control API, with a refresh-token-backed client as after consent. */
export async function newUser(emu: Emulator, email: string): Promise<TestUser> {
  const { refreshToken } = await control<{ refreshToken: string }>(emu, 'POST', 'users', { email });
  const auth = oauthClient(emu);
  auth.setCredentials({ refresh_token: refreshToken });
  return { email, refreshToken, auth, calendar: calendarClient(emu, auth) };
}

export interface Received {
  headers: Record<string, string>;
  body: string;
  method: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The status the receiver answers; change it during a test. */
  status: number | ((n: number) => number);
  stop(): Promise<void>;
}

export function startReceiver(): Receiver {
  const received: Received[] = [];
  const r: Receiver = {
    url: '',
    received,
    status: 200,
    stop: async () => undefined,
  };
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        headers[k] = v;
      });
      received.push({ headers, body: await req.text(), method: req.method });
      const status = typeof r.status === 'function' ? r.status(received.length) : r.status;
      return new Response(null, { status });
    },
  });
  r.url = `http://127.0.0.1:${server.port}/hook`;
  r.stop = async () => {
    await server.stop(true);
  };
  return r;
}

/** Polls until `fn` returns a truthy value, or fails after the deadline. */
export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** Runs `fn` and returns the GaxiosError-like failure it must produce. */
export async function failure(fn: () => Promise<unknown>): Promise<{ status: number; body: { error: { code: number; errors: Array<{ reason: string; domain: string; message: string; locationType?: string; location?: string }>; message: string; status?: string } }; headers: Headers | Record<string, string> }> {
  try {
    await fn();
  } catch (e) {
    const err = e as { status?: number; response?: { status: number; data: unknown; headers: Headers | Record<string, string> } };
    if (!err.response) throw e;
    return { status: err.response.status, body: err.response.data as never, headers: err.response.headers };
  }
  throw new Error('expected the call to fail');
}

/** Lists every page of events.list, returning the items and the final nextSyncToken. */
export async function listAll(cal: calendar_v3.Calendar, params: calendar_v3.Params$Resource$Events$List): Promise<{ items: calendar_v3.Schema$Event[]; pages: number; syncToken: string }> {
  const items: calendar_v3.Schema$Event[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  for (;;) {
    const res = await cal.events.list({ ...params, ...(pageToken ? { pageToken } : {}) });
    pages++;
    items.push(...(res.data.items ?? []));
    if (res.data.nextPageToken) {
      expect(res.data.nextSyncToken).toBeUndefined();
      pageToken = res.data.nextPageToken;
      continue;
    }
    expect(res.data.nextSyncToken).toBeString();
    return { items, pages, syncToken: res.data.nextSyncToken ?? '' };
  }
}
