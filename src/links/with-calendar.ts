// withCalendar: the one way other modules reach an owner's Google Calendar.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { callGoogle, createCalendarClient, type CalendarClient, type RetryOptions } from '../google/index.ts';
import { accessTokenFor } from './access-token.ts';

/**
 * Runs fn with a Calendar client holding a valid access token, through callGoogle's bounded retry.
 * A 401 forces one refresh and one more try (credentials carrying expiry_date are not refreshed on
 * 401 by google-auth-library itself). invalid_grant marks the owner revoked and throws a
 * non-retryable UPSTREAM_AUTH.
 */
export async function withCalendar<T>(ctx: Ctx, ownerId: string, fn: (cal: CalendarClient) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const token = await accessTokenFor(ctx, ownerId);
  try {
    return await callGoogle(() => fn(createCalendarClient(ctx.config, token)), opts);
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'UPSTREAM_AUTH' && err.details?.status === 401)) throw err;
    ctx.log.info({ ownerId }, 'Google answered 401: refreshing the access token once');
    const fresh = await accessTokenFor(ctx, ownerId, { rejected: token });
    return callGoogle(() => fn(createCalendarClient(ctx.config, fresh)), opts);
  }
}
