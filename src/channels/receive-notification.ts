// What a push notification does, once its headers are parsed. Nothing slow: a cached (or batched)
// channel lookup, a constant-time token check, and for a new `exists` message the durable note
// (message number advanced atomically + the sync request noted in the outbox, one statement shared
// with the other notifications of that moment), unless this process already holds a sync request
// of that resource that is not handed over yet: then nothing new needs writing (sync-request-holds.ts).
// The answer never waits for Google or the sync; the outbox is handed to sync's coalesced jobs right
// after (drain-sync-requests.ts).
import type { Ctx } from '../context/index.ts';
import { matchesHash } from '../crypto/index.ts';
import type { NotificationHeaders } from './notification-headers.ts';
import { isUuid, MESSAGE_NUMBER_MAX_JUMP, resourceKeyFor } from './queries.ts';
import { runtimeFor } from './runtime.ts';

export type NotificationOutcome =
  | 'accepted'
  /** Accepted without a write: a sync request of its resource was already held, not yet handed over. */
  | 'coalesced'
  | 'duplicate'
  | 'confirmed'
  | 'unknown'
  | 'stopped'
  | 'superseded'
  | 'expired'
  | 'invalid_token'
  | 'resource_mismatch'
  | 'unavailable';

export interface NotificationAnswer {
  status: 204 | 401 | 503;
  outcome: NotificationOutcome;
  detail?: string;
}

const NO_CONTENT = (outcome: NotificationOutcome): NotificationAnswer => ({ status: 204, outcome });

export async function receiveNotification(ctx: Ctx, h: NotificationHeaders, receivedAt: Date = ctx.clock.now()): Promise<NotificationAnswer> {
  const answer = await decide(ctx, h, receivedAt);
  ctx.metrics.notifications.inc({ state: h.resourceState, outcome: answer.outcome });
  return answer;
}

async function decide(ctx: Ctx, h: NotificationHeaders, receivedAt: Date): Promise<NotificationAnswer> {
  const rt = runtimeFor(ctx);
  let channel = rt.cache.get(h.channelId);
  if (channel === undefined) {
    // Every channel we create has a UUID id: anything else is not ours, and costs no query.
    if (!isUuid(h.channelId)) channel = null;
    else {
      try {
        channel = await rt.loadChannel(h.channelId.toLowerCase());
      } catch {
        return { status: 503, outcome: 'unavailable', detail: 'Service unavailable, retry later' };
      }
    }
  }
  // Unknown: answered 204 so that Google stops sending (a 4xx is a "message failure" to it too).
  if (!channel) return NO_CONTENT('unknown');

  if (h.channelToken === undefined || !matchesHash(h.channelToken, channel.tokenHash)) {
    return { status: 401, outcome: 'invalid_token', detail: 'Invalid token' };
  }
  // Google's resource id is stable per resource; a channel's notifications always carry its own.
  if (channel.resourceId !== null && channel.resourceId !== h.resourceId) {
    return { status: 401, outcome: 'resource_mismatch', detail: 'Resource does not match the channel' };
  }
  if (channel.status !== 'active' && channel.status !== 'pending') return NO_CONTENT(channel.status);

  const state = h.resourceState === 'sync' ? 'sync' : 'exists';
  const n = h.messageNumber ?? null;
  // The stored number only rises, so a number not above the cached one is surely a duplicate.
  if (state === 'exists' && n !== null && n <= channel.lastMessageNumber) return NO_CONTENT('duplicate');
  // A message without a number (Google always sends one) coalesces too: no sync storm from them.
  if (state === 'exists' && rt.holds.isHeld(resourceKeyFor({ ownerId: channel.ownerId, calendarRowId: channel.calendarId }))) {
    const plausible = n !== null && n - channel.lastMessageNumber <= MESSAGE_NUMBER_MAX_JUMP;
    if (plausible) rt.cache.noteMessage(channel.id, n);
    rt.holds.absorb(channel.id, plausible ? n : 0, receivedAt);
    return NO_CONTENT('coalesced');
  }
  try {
    const result = await rt.note({ channel, state, n, resourceId: h.resourceId, at: receivedAt });
    return NO_CONTENT(result);
  } catch {
    // Google retries 500, 502, 503 and 504 with exponential backoff (push guide): never a 2xx
    // without the durable note.
    return { status: 503, outcome: 'unavailable', detail: 'Service unavailable, retry later' };
  }
}
