// The two Slack calls of the on-call flow, with their outcomes told apart: a post that Slack
// refused (safe to try again) is not the same as a post whose answer never came (it may be out).
import type { Ctx } from '../context/index.ts';
import { createSlackClient } from '../google/index.ts';

interface SlackErrorLike {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string };
  original?: { code?: string; name?: string; message?: string };
  message?: string;
}

/** users.lookupByEmail; null when Slack does not know the address, is not configured, or fails. */
export async function lookupSlackUserId(ctx: Ctx, email: string): Promise<string | null> {
  const slack = createSlackClient(ctx.config);
  if (!slack) return null;
  try {
    const res = await slack.users.lookupByEmail({ email });
    return res.user?.id ?? null;
  } catch (err) {
    const e = err as SlackErrorLike;
    // users_not_found is an answer; anything else is logged and retried when a message needs it.
    if (e.data?.error !== 'users_not_found') ctx.log.warn({ email, error: e.data?.error ?? e.code ?? e.message }, 'Slack users.lookupByEmail failed');
    return null;
  }
}

export type PostOutcome =
  | { outcome: 'posted'; ts: string; channel: string }
  /** Slack answered and did not post: trying again cannot duplicate the message. */
  | { outcome: 'notPosted'; retryable: boolean; retryAfterSeconds?: number; error: string }
  /** No answer (timeout, reset connection): the message may be in the channel. */
  | { outcome: 'unknown'; error: string };

// Platform errors meaning "try again later" (https://docs.slack.dev/reference/methods/chat.postMessage).
const TRANSIENT_PLATFORM_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
// Network errors raised before the request reached Slack.
const NOT_SENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ConnectionRefused', 'FailedToOpenSocket']);

export async function postSlackMessage(ctx: Ctx, channel: string, text: string): Promise<PostOutcome> {
  const slack = createSlackClient(ctx.config);
  if (!slack) return { outcome: 'notPosted', retryable: false, error: 'SLACK_BOT_TOKEN is not configured' };
  try {
    const res = await slack.chat.postMessage({ channel, text, unfurl_links: false, unfurl_media: false });
    if (!res.ts) return { outcome: 'unknown', error: 'Slack answered ok without a ts' };
    return { outcome: 'posted', ts: res.ts, channel: res.channel ?? channel };
  } catch (err) {
    const e = err as SlackErrorLike;
    switch (e.code) {
      case 'slack_webapi_rate_limited_error':
        // "HTTP 429 Too Many Requests ... Retry-After ... seconds" (Slack rate-limits doc).
        return { outcome: 'notPosted', retryable: true, retryAfterSeconds: e.retryAfter ?? 1, error: 'ratelimited' };
      case 'slack_webapi_platform_error': {
        const error = e.data?.error ?? 'unknown_error';
        return { outcome: 'notPosted', retryable: TRANSIENT_PLATFORM_ERRORS.has(error), error };
      }
      case 'slack_webapi_http_error':
        return { outcome: 'notPosted', retryable: (e.statusCode ?? 500) >= 500, error: `HTTP ${e.statusCode}` };
      case 'slack_webapi_request_error': {
        const code = e.original?.code ?? e.original?.name ?? '';
        if (NOT_SENT_NETWORK_CODES.has(code)) return { outcome: 'notPosted', retryable: true, error: code };
        return { outcome: 'unknown', error: e.original?.message ?? e.message ?? 'request error' };
      }
      default:
        return { outcome: 'unknown', error: e.message ?? String(err) };
    }
  }
}
