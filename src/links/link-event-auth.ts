// Who may send POST /link-events: WebhookDB's own shared-secret header (`Whdb-Webhook-Secret`, so
// that moving from WebhookDB is a URL change), ours (`X-Calwatch-Secret`), the service token, or a
// Standard Webhooks signature (HMAC-SHA256 over `id.timestamp.body` with LINK_EVENTS_SIGNING_SECRET,
// 5 minutes of clock tolerance, each webhook-id accepted once). LINK_EVENTS_REQUIRE_SIGNATURE makes
// the signature the only way in.
import { Webhook } from 'standardwebhooks';
import type { Ctx } from '../context/index.ts';
import { hasBearer } from '../api/index.ts';
import { safeEqual } from '../crypto/index.ts';

export type LinkEventAuth = { ok: true; by: 'signature' | 'secret' | 'token' } | { ok: false; detail: string };

/** Signed deliveries seen in the last tolerance window, by webhook-id (replays are refused). */
const seen = new Map<string, number>();
const TOLERANCE_MS = 5 * 60_000;

function firstTime(id: string): boolean {
  const now = Date.now();
  if (seen.size > 10_000) for (const [k, at] of seen) if (now - at > TOLERANCE_MS) seen.delete(k);
  if (seen.has(id)) return false;
  seen.set(id, now);
  return true;
}

export function authenticateLinkEvent(ctx: Ctx, headers: Headers, rawBody: string): LinkEventAuth {
  const { linkEventsSecret, linkEventsSigningSecret, linkEventsRequireSignature, serviceToken } = ctx.config;
  const signed = headers.has('webhook-signature') || headers.has('webhook-id') || headers.has('webhook-timestamp');
  if (signed) {
    if (!linkEventsSigningSecret) return { ok: false, detail: 'signed link events are not configured (LINK_EVENTS_SIGNING_SECRET)' };
    try {
      new Webhook(linkEventsSigningSecret).verify(rawBody, {
        'webhook-id': headers.get('webhook-id') ?? '',
        'webhook-timestamp': headers.get('webhook-timestamp') ?? '',
        'webhook-signature': headers.get('webhook-signature') ?? '',
      });
    } catch {
      return { ok: false, detail: 'invalid or expired webhook signature (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)' };
    }
    if (!firstTime(headers.get('webhook-id')!)) return { ok: false, detail: 'webhook-id already seen: a replay' };
    return { ok: true, by: 'signature' };
  }
  if (linkEventsRequireSignature) return { ok: false, detail: 'a Standard Webhooks signature is required (LINK_EVENTS_REQUIRE_SIGNATURE)' };
  const secret = headers.get('x-calwatch-secret') ?? headers.get('whdb-webhook-secret');
  if (secret !== null && linkEventsSecret !== undefined && safeEqual(secret, linkEventsSecret)) return { ok: true, by: 'secret' };
  if (hasBearer(headers.get('authorization') ?? undefined, [serviceToken, ctx.config.serviceTokenPrevious])) return { ok: true, by: 'token' };
  return { ok: false, detail: 'X-Calwatch-Secret / Whdb-Webhook-Secret, Authorization: Bearer SERVICE_TOKEN, or a webhook signature required' };
}
