// Structured JSON logs. Secrets are removed by configuration, not by care: any field with one of
// these names is censored wherever it appears in a log object.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers["x-goog-channel-token"]',
  'headers["x-goog-channel-token"]',
  'req.headers["x-calwatch-secret"]',
  'req.headers.cookie',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'code',
  'state',
  'password',
];

/**
 * Errors are logged by name, not by walking their properties: a Google error (GaxiosError) carries
 * its request config and response, circular and full of headers, which pino's default serializer
 * cannot print ("unable to serialize") and which would hold the request's Authorization header.
 */
function serializeErr(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; status?: unknown; response?: { status?: unknown }; details?: { reason?: unknown; status?: unknown } };
  return {
    type: e.name,
    message: e.message,
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(e.status !== undefined || e.response?.status !== undefined ? { status: e.status ?? e.response?.status } : {}),
    ...(e.details?.reason !== undefined ? { reason: e.details.reason } : {}),
    ...(e.details?.status !== undefined ? { upstreamStatus: e.details.status } : {}),
    stack: e.stack,
  };
}

export function createLogger(opts: { level: string; destination?: pino.DestinationStream; name?: string }): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'calwatch',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeErr },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
