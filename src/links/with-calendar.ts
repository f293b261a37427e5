// withCalendar: the one way other modules reach an owner's Google Calendar.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { callGoogle, createCalendarClient, type CalendarClient, type RetryOptions } from '../google/index.ts';
import type { QuotaPriority } from '../quota/index.ts';
import { accessTokenFor } from './access-token.ts';

export interface CalendarCallOptions extends RetryOptions {
  /**
   * Whose turn it is in Google's quota: `interactive` for work someone waits for (a booking, a
   * swap, a sync after a push; the default), `background` for the rest (first full syncs of a
   * burst of links, catch-up, renewals, safety nets).
   */
  priority?: QuotaPriority;
}

/**
 * Runs fn with a Calendar client holding a valid access token, through callGoogle's bounded retry.
 * Every request the client sends first takes its turn in the project's and the owner's quota
 * (src/quota). A 401 forces one refresh and one more try (credentials carrying expiry_date are not
 * refreshed on 401 by google-auth-library itself). invalid_grant marks the owner revoked and throws
 * a non-retryable UPSTREAM_AUTH. A rate limit Google answered anyway empties that budget for every
 * process; a daily quotaExceeded pauses it.
 */
export async function withCalendar<T>(ctx: Ctx, ownerId: string, fn: (cal: CalendarClient) => Promise<T>, opts: CalendarCallOptions = {}): Promise<T> {
  const priority = opts.priority ?? 'interactive';
  const pace = () => ctx.quota.take(ownerId, priority);
  const attempt = (token: string) =>
    callGoogle(() => fn(createCalendarClient(ctx.config, token, pace)), {
      ...opts,
      onRetry: (err, n, delayMs) => {
        void noteRateLimit(ctx, ownerId, err);
        opts.onRetry?.(err, n, delayMs);
      },
    });
  const token = await accessTokenFor(ctx, ownerId);
  try {
    const result = await attempt(token);
    await ctx.quota.succeeded();
    return result;
  } catch (err) {
    await noteRateLimit(ctx, ownerId, err);
    if (!(err instanceof AppError && err.code === 'UPSTREAM_AUTH' && err.details?.status === 401)) throw err;
    ctx.log.info({ ownerId }, 'Google answered 401: refreshing the access token once');
    const fresh = await accessTokenFor(ctx, ownerId, { rejected: token });
    return attempt(fresh);
  }
}

async function noteRateLimit(ctx: Ctx, ownerId: string, err: unknown): Promise<void> {
  if (!(err instanceof AppError && err.code === 'UPSTREAM_RATE_LIMITED' && err.details?.status !== undefined)) return;
  const reason = String(err.details?.reason ?? 'rateLimitExceeded');
  ctx.metrics.googleRateLimited.inc({ reason });
  try {
    if (reason === 'quotaExceeded') {
      const pausedSeconds = await ctx.quota.pause(ownerId, reason, err.message);
      // The job that made this call is retried when the pause ends, not by its own backoff.
      if (err.details && pausedSeconds > 0) err.details.retryAfterSeconds = pausedSeconds;
      ctx.log.warn({ ownerId, reason }, 'Google quota exceeded (a daily limit): pausing the budget');
    } else {
      await ctx.quota.exhausted(ownerId, reason);
    }
  } catch {
    // Bookkeeping only: the caller's own error is what counts.
  }
}
