// Google's JSON error bodies. Format from https://developers.google.com/workspace/calendar/api/guides/errors:
// {"error":{"errors":[{domain, reason, message, locationType?, location?}], "code", "message"}}.
// Today's googleapis.com front end also adds a gRPC "status" to some of them (observed on 401 and 404), so
// those carry it too; Calendar's own 400/410 captures have none and neither do ours.

export interface ErrorItem {
  domain: string;
  reason: string;
  message: string;
  locationType?: string;
  location?: string;
  /** A link to the documentation, on some Calendar errors (observed on eventTypeRestriction). */
  extendedHelp?: string;
}

export class GoogleApiError extends Error {
  readonly status: number;
  readonly body: { error: { errors: ErrorItem[]; code: number; message: string; status?: string } };
  readonly headers: Record<string, string>;

  constructor(status: number, item: ErrorItem, opts: { topMessage?: string; grpcStatus?: string; headers?: Record<string, string> } = {}) {
    super(item.message);
    this.status = status;
    const error: { errors: ErrorItem[]; code: number; message: string; status?: string } = {
      errors: [item],
      code: status,
      message: opts.topMessage ?? item.message,
    };
    if (opts.grpcStatus) error.status = opts.grpcStatus;
    this.body = { error };
    this.headers = opts.headers ?? {};
  }

  toResponse(): Response {
    return new Response(JSON.stringify(this.body, null, 2), {
      status: this.status,
      headers: {
        'content-type': 'application/json; charset=UTF-8',
        'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
        vary: 'Origin, X-Origin, Referer',
        ...this.headers,
      },
    });
  }
}

const CREDENTIALS_HINT =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

// 401 bodies as observed from today's googleapis.com (FACTS §3, doc-examples/error-401-authError-observed-modern.json).
export function invalidCredentials(): GoogleApiError {
  return new GoogleApiError(
    401,
    { message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' },
    {
      topMessage: `Request had invalid authentication credentials. ${CREDENTIALS_HINT}`,
      grpcStatus: 'UNAUTHENTICATED',
      headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    },
  );
}

// Without any credential Google answers the same status with reason "required" ("Login Required.").
export function loginRequired(): GoogleApiError {
  return new GoogleApiError(
    401,
    { message: 'Login Required.', domain: 'global', reason: 'required', location: 'Authorization', locationType: 'header' },
    {
      topMessage: `Request is missing required authentication credential. ${CREDENTIALS_HINT}`,
      grpcStatus: 'UNAUTHENTICATED',
      headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
    },
  );
}

export const notFound = (): GoogleApiError =>
  new GoogleApiError(404, { domain: 'global', reason: 'notFound', message: 'Not Found' });

export const duplicate = (): GoogleApiError =>
  new GoogleApiError(409, { domain: 'global', reason: 'duplicate', message: 'The requested identifier already exists.' });

export const deleted = (): GoogleApiError =>
  new GoogleApiError(410, { domain: 'global', reason: 'deleted', message: 'Resource has been deleted' });

export const fullSyncRequired = (): GoogleApiError =>
  new GoogleApiError(410, {
    domain: 'calendar',
    reason: 'fullSyncRequired',
    message: 'Sync token is no longer valid, a full sync is required.',
    locationType: 'parameter',
    location: 'syncToken',
  });

/** doc-examples/error-410-updatedMinTooLongAgo.json (errors guide). */
export const updatedMinTooLongAgo = (): GoogleApiError =>
  new GoogleApiError(410, {
    domain: 'calendar',
    reason: 'updatedMinTooLongAgo',
    message: 'The requested minimum modification time lies too far in the past.',
    locationType: 'parameter',
    location: 'updatedMin',
  });

export const conditionNotMet = (): GoogleApiError =>
  new GoogleApiError(412, {
    domain: 'global',
    reason: 'conditionNotMet',
    message: 'Precondition Failed',
    locationType: 'header',
    location: 'If-Match',
  });

export const timeRangeEmpty = (location = 'timeMax'): GoogleApiError =>
  new GoogleApiError(400, {
    domain: 'calendar',
    reason: 'timeRangeEmpty',
    message: 'The specified time range is empty.',
    locationType: 'parameter',
    location,
  });

/** 400 "Invalid Value", as Google answers a garbage syncToken (fixtures/gcal-error-400-invalid-syncToken-value). */
export const invalidValue = (message = 'Invalid Value'): GoogleApiError =>
  new GoogleApiError(400, { domain: 'global', reason: 'invalid', message });

export const badRequest = (message = 'Bad Request'): GoogleApiError =>
  new GoogleApiError(400, { domain: 'global', reason: 'badRequest', message });

export const required = (message: string): GoogleApiError =>
  new GoogleApiError(400, { domain: 'global', reason: 'required', message });

export const parseError = (): GoogleApiError =>
  new GoogleApiError(400, { domain: 'global', reason: 'parseError', message: 'Parse Error' });

export const pushNotSupported = (): GoogleApiError =>
  new GoogleApiError(400, {
    domain: 'calendar',
    reason: 'pushNotSupportedForRequestedResource',
    message: 'Push notifications are not supported by this resource.',
  });

export const writerAccessRequired = (): GoogleApiError =>
  new GoogleApiError(403, {
    domain: 'calendar',
    reason: 'requiredAccessLevel',
    message: 'You need to have writer access to this calendar.',
  });

export type RateLimitReason = 'rateLimitExceeded' | 'userRateLimitExceeded' | 'quotaExceeded';

const RATE_MESSAGES: Record<RateLimitReason, string> = {
  rateLimitExceeded: 'Rate Limit Exceeded',
  userRateLimitExceeded: 'User Rate Limit Exceeded',
  quotaExceeded: 'Calendar usage limits exceeded.',
};

/**
 * 403/429 usage-limit errors (errors guide: "can return either 403 or 429 ... functionally similar"; bodies as in
 * ../shared/google/doc-examples/error-403-rateLimitExceeded.json, -userRateLimitExceeded, -quotaExceeded and
 * error-429-rateLimitExceeded.json). No Retry-After header: neither the errors guide nor the quota guide
 * documents one (they tell clients to back off exponentially).
 */
export function rateLimited(status: 403 | 429, reason: RateLimitReason = 'rateLimitExceeded'): GoogleApiError {
  return new GoogleApiError(status, { domain: 'usageLimits', reason, message: RATE_MESSAGES[reason] });
}

export const backendError = (): GoogleApiError =>
  new GoogleApiError(500, { domain: 'global', reason: 'backendError', message: 'Backend Error' });

/**
 * 503 as googleapis.com answers it (googleapis/google-api-php-client#1945 and #1879, captured bodies):
 * `{"error":{"code":503,"message":"The service is currently unavailable.","errors":[{..."reason":"backendError"}],
 * "status":"UNAVAILABLE"}}`. The errors guide lists 5xx among the errors to retry with exponential backoff.
 */
export const serviceUnavailable = (): GoogleApiError =>
  new GoogleApiError(503, { domain: 'global', reason: 'backendError', message: 'The service is currently unavailable.' }, { grpcStatus: 'UNAVAILABLE' });

/**
 * 502 comes from Google's front end, not from Calendar: an HTML page, not JSON (googleapis/google-api-php-client#2421,
 * burnash/gspread#1564 quote it: `<title>Error 502 (Server Error)!!1</title>` ... "That's an error."). A client
 * must cope with an error body it cannot parse.
 */
export class FrontEndError extends GoogleApiError {
  constructor(status: 502) {
    super(status, { domain: 'global', reason: 'backendError', message: 'Server Error' });
  }

  override toResponse(): Response {
    const html = `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <title>Error ${this.status} (Server Error)!!1</title>
  <p><b>${this.status}.</b> <ins>That's an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That's all we know.</ins>
`;
    return new Response(html, { status: this.status, headers: { 'content-type': 'text/html; charset=UTF-8', 'referrer-policy': 'no-referrer' } });
  }
}

/** A token without a scope that allows the call (observed googleapis.com body shape). */
export function insufficientScopes(): GoogleApiError {
  return new GoogleApiError(
    403,
    { message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' },
    { topMessage: 'Request had insufficient authentication scopes.', grpcStatus: 'PERMISSION_DENIED' },
  );
}
