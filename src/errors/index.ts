// One error type with a closed set of codes, mapped once per transport (Hono onError, tRPC
// errorFormatter, GraphQL error masking) and raised by verbs and by the Google classifier.
export const ERROR_CODES = [
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'VALIDATION',
  /** The request was valid once but no longer is (a changes cursor older than the feed keeps). */
  'PRECONDITION_FAILED',
  'UPSTREAM_GONE',
  'UPSTREAM_RATE_LIMITED',
  'UPSTREAM_AUTH',
  'UPSTREAM_ERROR',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: { retryAfterSeconds?: number; cause?: unknown; reason?: string; status?: number; /** OAuth: where the browser goes back to. */ returnTo?: string | null },
  ) {
    super(message);
  }
  /** Whether a job hitting this error should be retried later rather than failed for good. */
  get retryable(): boolean {
    return this.code === 'UPSTREAM_RATE_LIMITED' || this.code === 'UPSTREAM_ERROR' || this.code === 'INTERNAL';
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** HTTP status for each code, shared by every transport that speaks HTTP. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  FORBIDDEN: 403,
  UNAUTHENTICATED: 401,
  VALIDATION: 400,
  PRECONDITION_FAILED: 412,
  UPSTREAM_GONE: 502,
  UPSTREAM_RATE_LIMITED: 503,
  UPSTREAM_AUTH: 502,
  UPSTREAM_ERROR: 502,
  INTERNAL: 500,
};
