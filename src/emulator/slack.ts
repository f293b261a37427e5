// The Slack Web API methods calwatch calls, under /slack/api/<method> (https://docs.slack.dev/reference/methods).
// Slack answers HTTP 200 with {ok:false, error} for API errors; only rate limiting uses a status (429 with
// Retry-After in seconds, https://docs.slack.dev/apis/web-api/rate-limits).

import { Hono, type Context } from 'hono';
import { isObject, type JsonObject } from './types.ts';

export const SLACK_TEAM_ID = 'T0EMULATOR';
export const SLACK_BOT_USER_ID = 'U0EMUBOT';
export const SLACK_BOT_ID = 'B0EMUBOT';
/** chat.postMessage: "The text field is truncated past 40,000 characters" -> msg_too_long beyond it. */
const MAX_TEXT = 40_000;

export interface SlackUser {
  id: string;
  name: string;
  email: string;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string | null;
  blocks: unknown[] | null;
  attachments: unknown[] | null;
  threadTs: string | null;
  token: string;
  postedAt: string;
}

export class SlackStore {
  readonly users = new Map<string, SlackUser>();
  readonly messages: SlackMessage[] = [];
  fault: { status: 429; remaining: number; retryAfter: number } | undefined;
  errorFault: { error: string; remaining: number; method?: string } | undefined;
  private lastTs = 0;

  addUser(u: { email: string; id?: string; name?: string }): SlackUser {
    const email = u.email.toLowerCase();
    const user: SlackUser = {
      id: u.id ?? `U${(this.users.size + 1).toString(36).toUpperCase().padStart(8, '0')}`,
      name: u.name ?? email.split('@')[0] ?? email,
      email,
    };
    this.users.set(email, user);
    return user;
  }

  /** Message timestamps: "<unix seconds>.<6 digits>", unique and rising within a workspace. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.lastTs + 1);
    this.lastTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }
}

type SlackHandler = (params: JsonObject, token: string, store: SlackStore) => JsonObject;

function parseJsonField(v: unknown): unknown[] | null | 'invalid' {
  if (v === undefined || v === null || v === '') return null;
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      return Array.isArray(parsed) ? parsed : 'invalid';
    } catch {
      return 'invalid';
    }
  }
  return 'invalid';
}

const METHODS: Record<string, SlackHandler> = {
  'auth.test': () => ({
    ok: true, url: 'https://calwatch-emulator.slack.com/', team: 'calwatch emulator', user: 'calwatch',
    team_id: SLACK_TEAM_ID, user_id: SLACK_BOT_USER_ID, bot_id: SLACK_BOT_ID, is_enterprise_install: false,
  }),

  'chat.postMessage': (p, token, store) => {
    const channel = typeof p.channel === 'string' ? p.channel.trim() : '';
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const blocks = parseJsonField(p.blocks);
    const attachments = parseJsonField(p.attachments);
    if (blocks === 'invalid') return { ok: false, error: 'invalid_blocks' };
    if (attachments === 'invalid') return { ok: false, error: 'invalid_attachments' };
    const text = typeof p.text === 'string' && p.text !== '' ? p.text : null;
    if (text === null && !blocks?.length && !attachments?.length) return { ok: false, error: 'no_text' };
    if (text !== null && text.length > MAX_TEXT) return { ok: false, error: 'msg_too_long' };
    const ts = store.nextTs();
    const threadTs = typeof p.thread_ts === 'string' ? p.thread_ts : null;
    store.messages.push({ channel, ts, text, blocks, attachments, threadTs, token, postedAt: new Date().toISOString() });
    const message: JsonObject = {
      user: SLACK_BOT_USER_ID, type: 'message', ts, bot_id: SLACK_BOT_ID, app_id: 'A0EMULATOR', text: text ?? '', team: SLACK_TEAM_ID,
    };
    if (blocks) message.blocks = blocks;
    if (attachments) message.attachments = attachments;
    if (threadTs) message.thread_ts = threadTs;
    return { ok: true, channel, ts, message };
  },

  'users.lookupByEmail': (p, _token, store) => {
    const email = typeof p.email === 'string' ? p.email.toLowerCase() : '';
    if (!email) return { ok: false, error: 'invalid_arguments' };
    const u = store.users.get(email);
    if (!u) return { ok: false, error: 'users_not_found' };
    return {
      ok: true,
      user: {
        id: u.id, team_id: SLACK_TEAM_ID, name: u.name, deleted: false, real_name: u.name, is_bot: false, tz: 'UTC',
        profile: { email: u.email, real_name: u.name, display_name: u.name, team: SLACK_TEAM_ID },
      },
    };
  },
};

async function readParams(c: Context): Promise<JsonObject> {
  const params: JsonObject = {};
  for (const [k, v] of new URL(c.req.url).searchParams) params[k] = v;
  if (c.req.method !== 'POST') return params;
  const type = c.req.header('content-type') ?? '';
  if (type.includes('application/json')) {
    const body: unknown = await c.req.json().catch(() => undefined);
    if (isObject(body)) Object.assign(params, body);
  } else {
    const text = await c.req.text();
    for (const [k, v] of new URLSearchParams(text)) params[k] = v;
  }
  return params;
}

function slackJson(body: JsonObject, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

export function slackRoutes(getStore: () => SlackStore): Hono {
  const app = new Hono();
  app.on(['GET', 'POST'], '/:method', async (c) => {
    const store = getStore();
    const method = c.req.param('method');
    if (store.fault && store.fault.remaining > 0) {
      store.fault.remaining--;
      return slackJson({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': String(store.fault.retryAfter) });
    }
    const handler = METHODS[method];
    if (!handler) return slackJson({ ok: false, error: 'unknown_method' });
    const params = await readParams(c);
    // The token "should be passed as an HTTP Authorization header or alternatively, as a POST parameter".
    const auth = c.req.header('authorization') ?? '';
    const token = auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : typeof params.token === 'string' ? params.token : '';
    if (!token) return slackJson({ ok: false, error: 'not_authed' });
    if (!token.startsWith('xox')) return slackJson({ ok: false, error: 'invalid_auth' });
    if (store.errorFault && store.errorFault.remaining > 0 && (!store.errorFault.method || store.errorFault.method === method)) {
      store.errorFault.remaining--;
      return slackJson({ ok: false, error: store.errorFault.error });
    }
    return slackJson(handler(params, token, store));
  });
  return app;
}
