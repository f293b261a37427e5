// The two calls channels makes to Google, through links' withCalendar (token, refresh, bounded retries).
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { classifyGoogleError } from '../google/index.ts';
import { withCalendar } from '../links/index.ts';

export interface WatchRequest {
  id: string;
  token: string;
  address: string;
  ttlSeconds: number;
}

export interface WatchAnswer {
  resourceId: string;
  resourceUri: string | null;
  /** Unix ms; Google sends an int64 as a string ("1466166074000"), the docs show a number. */
  expiration: number | null;
}

/** events.watch on a calendar, or calendarList.watch for the owner when `googleCalendarId` is null. */
export async function watchAtGoogle(ctx: Ctx, ownerId: string, googleCalendarId: string | null, req: WatchRequest): Promise<WatchAnswer> {
  const requestBody = {
    id: req.id,
    type: 'web_hook',
    address: req.address,
    token: req.token,
    // "The time-to-live in seconds for the notification channel. Default is 604800 seconds." (watch reference)
    params: { ttl: String(req.ttlSeconds) },
  };
  const res = await withCalendar(ctx, ownerId, (cal) =>
    googleCalendarId === null
      ? cal.calendarList.watch({ requestBody })
      : cal.events.watch({ calendarId: googleCalendarId, requestBody }),
    // Watching is background work: nobody waits on it (a sync after a push, a booking go first).
    { priority: 'background' },
  );
  const data = res.data;
  if (!data.resourceId) throw new AppError('UPSTREAM_ERROR', 'Google: watch answer without resourceId');
  const exp = data.expiration === undefined || data.expiration === null ? NaN : Number(data.expiration);
  return { resourceId: data.resourceId, resourceUri: data.resourceUri ?? null, expiration: Number.isFinite(exp) ? exp : null };
}

/**
 * channels.stop. A 404 means Google no longer knows the channel (expired or stopped): that counts as
 * stopped. So does a dead grant: nobody can stop it then, and it expires by itself.
 */
export async function stopAtGoogle(ctx: Ctx, ownerId: string, channelId: string, resourceId: string): Promise<'stopped' | 'gone' | 'grant-dead'> {
  try {
    await withCalendar(ctx, ownerId, (cal) => cal.channels.stop({ requestBody: { id: channelId, resourceId } }), { priority: 'background' });
    return 'stopped';
  } catch (raw) {
    const err = classifyGoogleError(raw);
    if (err.code === 'NOT_FOUND') return 'gone';
    if (err.code === 'UPSTREAM_AUTH' && !err.retryable) return 'grant-dead';
    throw err;
  }
}
