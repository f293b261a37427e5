// Google's clients, pointed at the configured base URLs (Google, or the emulator), and the one
// place where Google's errors are classified into our error codes.
import { OAuth2Client } from 'google-auth-library';
// The calendar API alone: importing all of `googleapis` costs about a second at start-up.
import { calendar, type calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js';
import { WebClient } from '@slack/web-api';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

export type { calendar_v3 };
export type CalendarClient = calendar_v3.Calendar;
export { OAuth2Client };

/** Every outgoing call has a timeout. */
export const GOOGLE_TIMEOUT_MS = 15_000;

/**
 * The narrowest scopes that do calwatch's work, per the discovery document's scope list of each
 * method it calls (googleapis' calendar v3.d.ts): calendarList.list/get/watch take
 * calendar.calendarlist.readonly; events.list/get/watch take calendar.events(.readonly), and
 * insert/patch/update/delete calendar.events; channels.stop takes any of them.
 */
export function scopesFor(access: 'read' | 'write'): string[] {
  return access === 'write'
    ? ['https://www.googleapis.com/auth/calendar.events', 'https://www.googleapis.com/auth/calendar.calendarlist.readonly']
    : ['https://www.googleapis.com/auth/calendar.events.readonly', 'https://www.googleapis.com/auth/calendar.calendarlist.readonly'];
}

export function createOAuthClient(config: Config): OAuth2Client {
  const client = new OAuth2Client({
    clientId: config.google.clientId,
    clientSecret: config.google.clientSecret,
    redirectUri: config.google.redirectUri,
    endpoints: {
      oauth2TokenUrl: config.google.tokenUrl,
      oauth2AuthBaseUrl: config.google.authUrl,
      oauth2RevokeUrl: config.google.revokeUrl,
    },
    transporterOptions: { timeout: GOOGLE_TIMEOUT_MS },
  } as ConstructorParameters<typeof OAuth2Client>[0]);
  // google-auth-library retries its token and revoke requests itself, timeouts included: against a
  // token endpoint that never answers, a refresh took 3 x 15 s = 45 s, longer than links' refresh
  // lease (tests/reliability/timeouts.test.ts). A request nobody answered is not retried in-call
  // (the job queue and links' cooldown retry later); 5xx answers still are, boundedly. Only requests
  // that asked for retries are touched: a retryConfig alone would switch them on for the rest.
  client.transporter.interceptors.request.add({
    resolved: async (opts) => (opts.retryConfig ? { ...opts, retryConfig: { ...opts.retryConfig, noResponseRetries: 0 } } : opts),
  });
  return client;
}

/**
 * A Calendar client that sends a fixed access token (refresh is the links module's job). `beforeRequest`
 * runs before every request it sends, retries included (the quota is taken there).
 */
export function createCalendarClient(config: Config, accessToken: string, beforeRequest?: () => Promise<void>): CalendarClient {
  const auth = createOAuthClient(config);
  auth.setCredentials({ access_token: accessToken });
  if (beforeRequest) {
    auth.transporter.interceptors.request.add({
      resolved: async (opts) => {
        await beforeRequest();
        return opts;
      },
    });
  }
  // googleapis keeps only the origin of rootUrl, so the emulator serves Google's paths at its root.
  return calendar({ version: 'v3', auth, rootUrl: config.google.apiUrl, timeout: GOOGLE_TIMEOUT_MS, retry: false });
}

export function createSlackClient(config: Config): WebClient | undefined {
  if (!config.slack.botToken) return undefined;
  return new WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    timeout: 10_000,
    // Retries (429 with Retry-After included) are the job queue's business, bounded there.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

interface GaxiosLike {
  status?: number;
  response?: { status?: number; headers?: unknown; data?: unknown };
  code?: string | number;
  message?: string;
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name] ?? (headers as Record<string, unknown>)[name.toLowerCase()];
  return v === undefined ? undefined : String(v);
}

/** Google's error reason (`errors[0].reason`, or the OAuth `error` field). */
export function googleReason(err: unknown): string | undefined {
  const data = (err as GaxiosLike)?.response?.data as
    | { error?: string | { errors?: Array<{ reason?: string }>; status?: string } }
    | undefined;
  if (!data) return undefined;
  if (typeof data.error === 'string') return data.error; // OAuth endpoints: {"error":"invalid_grant"}
  return data.error?.errors?.[0]?.reason ?? data.error?.status;
}

/**
 * Maps any error from a Google call to an AppError. Rate limits are 429 or 403 with reason
 * rateLimitExceeded / userRateLimitExceeded / quotaExceeded ("can return either 403 or 429";
 * Calendar API errors guide); 410 is a stale sync token (fullSyncRequired) or a deleted resource.
 */
export function classifyGoogleError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as GaxiosLike;
  const status = e?.response?.status ?? (typeof e?.status === 'number' ? e.status : undefined);
  const reason = googleReason(err);
  const message = `Google: ${status ?? 'network error'}${reason ? ` ${reason}` : ''}${e?.message && !status ? ` (${e.message})` : ''}`;
  const retryAfter = Number(header(e?.response?.headers, 'retry-after'));
  const details = { cause: err, reason, status, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}) };
  if (reason === 'invalid_grant' || reason === 'invalid_client') return new AppError('UPSTREAM_AUTH', message, details);
  if (status === 429 || (status === 403 && /rateLimitExceeded|userRateLimitExceeded|quotaExceeded/.test(reason ?? ''))) {
    return new AppError('UPSTREAM_RATE_LIMITED', message, details);
  }
  if (status === 401) return new AppError('UPSTREAM_AUTH', message, details);
  if (status === 410) return new AppError('UPSTREAM_GONE', message, details);
  if (status === 404) return new AppError('NOT_FOUND', message, details);
  if (status === 409 || status === 412) return new AppError('CONFLICT', message, details);
  if (status === 403) return new AppError('FORBIDDEN', message, details);
  if (status !== undefined && status >= 400 && status < 500) return new AppError('VALIDATION', message, details);
  return new AppError('UPSTREAM_ERROR', message, details);
}

export interface RetryOptions {
  /** Attempts in all, first included. */
  attempts?: number;
  /** First backoff of a rate limit or server error (Google: "1 second + random_number_milliseconds"). */
  baseDelayMs?: number;
  /** Longest single wait; a longer Retry-After is left to the job queue's backoff. */
  maxDelayMs?: number;
  onRetry?: (err: AppError, attempt: number, delayMs: number) => void;
}

/**
 * Calls Google, retrying per-minute rate limits and server errors (500, 502, 503, 504: any 5xx, JSON
 * body or not) a bounded number of times with exponential
 * backoff plus up to a second of jitter, from 1 s (Calendar guide "Handle API errors": "wait 1 +
 * random_number_milliseconds seconds and retry", then 2, 4...), honouring Retry-After. Anything
 * else, or the last failure, is thrown classified (the job queue retries later, longer).
 */
export async function callGoogle<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 3;
  const base = opts.baseDelayMs ?? 1000;
  const max = opts.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      const err = classifyGoogleError(raw);
      // quotaExceeded is a daily limit ("Calendar usage limits exceeded", errors guide), not a
      // per-minute one: retrying in seconds only spends more of it. It is thrown at once; the
      // caller pauses the budget (src/quota) and the job queue retries when the pause ends.
      const transient = (err.code === 'UPSTREAM_RATE_LIMITED' && err.details?.reason !== 'quotaExceeded') || err.code === 'UPSTREAM_ERROR';
      if (!transient || attempt >= attempts) throw err;
      const retryAfterMs = (err.details?.retryAfterSeconds ?? 0) * 1000;
      if (retryAfterMs > max) throw err;
      const delay = Math.max(retryAfterMs, Math.min(max, base * 2 ** (attempt - 1) + Math.random() * Math.min(base, 1000)));
      opts.onRetry?.(err, attempt, delay);
      await Bun.sleep(delay);
    }
  }
}
