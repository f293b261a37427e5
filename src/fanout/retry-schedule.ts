// When to try a failed delivery again: exponential backoff (x4 per attempt) with +-25% jitter, so
// that eight attempts from a 15 s base span about a day (15 s, 1 min, 4 min, 16 min, 1 h, 4.3 h,
// 17 h); a 429's Retry-After wins when it asks for longer.
export const BACKOFF_FACTOR = 4;
/** Longest wait a Retry-After header can impose on one attempt. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 3600;

/** Seconds before the next attempt, after `failedAttempts` (>= 1) failures. */
export function backoffSeconds(failedAttempts: number, baseSeconds: number, random: () => number = Math.random): number {
  const exact = baseSeconds * BACKOFF_FACTOR ** Math.max(0, failedAttempts - 1);
  return exact * (0.75 + 0.5 * random());
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, (at - now.getTime()) / 1000), MAX_RETRY_AFTER_SECONDS);
}

/** The wait before the next attempt: the backoff, or longer if the receiver asked for it. */
export function nextDelaySeconds(failedAttempts: number, baseSeconds: number, retryAfterSeconds?: number): number {
  const backoff = backoffSeconds(failedAttempts, baseSeconds);
  return retryAfterSeconds === undefined ? backoff : Math.max(backoff, retryAfterSeconds);
}
