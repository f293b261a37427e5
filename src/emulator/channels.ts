// events.watch / calendarList.watch request validation and channel creation (push guide, FACTS §1.1-1.2).

import { GoogleApiError, invalidValue, required } from './errors.ts';
import { resourceIdFor } from './ids.ts';
import type { Channel } from './notifications.ts';
import { isObject } from './types.ts';

/** Google rejects channel ids outside this set (quoted from its error message by many projects; UNVERIFIED in docs). */
const CHANNEL_ID = /^[A-Za-z0-9\-_+/=]+$/;
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export const GOOGLE_API_BASE = 'https://www.googleapis.com/calendar/v3';

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export interface WatchTarget {
  resourceKey: string;
  /** The resource URI as the caller spelled it (observed: ".../calendars/primary/events?alt=json"). */
  resourceUri: string;
}

export interface WatchLimits {
  maxTtlSeconds: number;
  gen: string;
}

/** Validates a watch body and builds the channel (not yet registered). Throws GoogleApiError. */
export function buildChannel(body: unknown, target: WatchTarget, owner: { email: string; clientId: string }, limits: WatchLimits): Channel {
  if (!isObject(body)) throw required('Required');
  const { id, type, address, token, expiration, params } = body;
  if (typeof id !== 'string' || id === '') throw required('Required channel id');
  if (id.length > 64 || !CHANNEL_ID.test(id)) {
    throw invalidValue(`Channel id must match [A-Za-z0-9\\-_\\+/=]+ and be at most 64 characters: ${id}`);
  }
  if (type !== 'web_hook' && type !== 'webhook') throw invalidValue(`Invalid channel type: ${String(type)}`);
  if (typeof address !== 'string' || address === '') throw required('Required address');
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw invalidValue(`Invalid address: ${address}`);
  }
  // "The address must use HTTPS". The emulator also accepts plain http:// on loopback hosts for local receivers.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new GoogleApiError(400, { domain: 'push', reason: 'push.webhookUrlNotHttps', message: `WebHook callback must be HTTPS: ${address}` });
  }
  if (token !== undefined && token !== null && (typeof token !== 'string' || token.length > 256)) {
    throw invalidValue('Channel token must be a string of at most 256 characters');
  }
  const now = Date.now();
  // "The time-to-live in seconds for the notification channel. Default is 604800 seconds."
  let ttl = 604_800;
  if (isObject(params) && params.ttl !== undefined) {
    const t = Number(params.ttl);
    if (!Number.isFinite(t) || t <= 0) throw invalidValue(`Invalid value for ttl: ${String(params.ttl)}`);
    ttl = t;
  }
  // "the more restrictive value is used" between the request and the API's own limits.
  let exp = Math.min(now + ttl * 1000, now + limits.maxTtlSeconds * 1000);
  if (expiration !== undefined && expiration !== null) {
    const e = Number(expiration);
    if (!Number.isFinite(e)) throw invalidValue(`Invalid value for expiration: ${String(expiration)}`);
    if (e <= now) throw invalidValue('Channel expiration must be in the future');
    exp = Math.min(exp, e);
  }
  return {
    id,
    resourceId: resourceIdFor(`${limits.gen}|${target.resourceKey}`),
    resourceUri: target.resourceUri,
    resourceKey: target.resourceKey,
    address,
    token: typeof token === 'string' ? token : undefined,
    expiration: Math.floor(exp),
    email: owner.email,
    clientId: owner.clientId,
    createdAt: new Date(now).toISOString(),
    state: 'active',
    lastMessageNumber: 0,
    queue: [],
    pumping: false,
    pendingExists: false,
    existsCount: 0,
  };
}

/** The watch response: expiration is an int64, which Google serialises as a string ("1466166074000"). */
export function channelResource(ch: Channel): Record<string, string> {
  const out: Record<string, string> = { kind: 'api#channel', id: ch.id, resourceId: ch.resourceId, resourceUri: ch.resourceUri };
  if (ch.token !== undefined) out.token = ch.token;
  out.expiration = String(ch.expiration);
  return out;
}
