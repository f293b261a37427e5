// tRPC v11, no transformer (plain JSON, ISO date strings), bearer SERVICE_TOKEN on every procedure.
import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { z } from 'zod';
import type { Ctx } from '../context/index.ts';
import type { Logger } from '../log/index.ts';
import { isAppError, type ErrorCode } from '../errors/index.ts';
import { containsNul, NUL_MESSAGE } from './text-input.ts';

export interface TrpcContext {
  app: Ctx;
  log: Logger;
  requestId: string;
  authorized: boolean;
}

const TRPC_CODE: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  VALIDATION: 'BAD_REQUEST',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  UPSTREAM_GONE: 'BAD_GATEWAY',
  UPSTREAM_RATE_LIMITED: 'SERVICE_UNAVAILABLE',
  UPSTREAM_AUTH: 'BAD_GATEWAY',
  UPSTREAM_ERROR: 'BAD_GATEWAY',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/**
 * Whether an error's message is ours to show the caller: an AppError, a zod validation error, or a
 * TRPCError raised with its own words and no foreign cause (ours: unauthorized, NUL bytes; tRPC's
 * about the request itself: no such procedure, wrong method). Anything else (a Postgres error, a
 * driver's or a library's) is answered "Internal error" and logged (see createHttpApp).
 */
export function isOwnError(error: TRPCError): boolean {
  const cause = error.cause;
  if (isAppError(cause) || cause instanceof z.ZodError) return true;
  return cause === undefined && error.code !== 'INTERNAL_SERVER_ERROR';
}

/** What the caller reads instead of a foreign error's message (the code and status stay). */
const GENERIC_MESSAGE: Partial<Record<TRPC_ERROR_CODE_KEY, string>> = {
  PARSE_ERROR: 'Malformed request body',
  BAD_REQUEST: 'Bad request',
  PAYLOAD_TOO_LARGE: 'Request body too large',
  METHOD_NOT_SUPPORTED: 'Method not supported',
  NOT_FOUND: 'Not found',
};
export const INTERNAL_MESSAGE = 'Internal error';

/**
 * The error as it may be logged: by name, message and code (the logger's serializer), never with a
 * query's parameters. drizzle's DrizzleQueryError puts the statement *and its parameters* in its
 * message (sealed tokens, secrets, personal data): its cause, the driver's error, is logged instead,
 * with the statement's text (placeholders only).
 */
export function loggableError(err: unknown): { err: unknown; query?: string } {
  if (err instanceof Error && err.message.startsWith('Failed query:') && 'params' in err && 'query' in err) {
    return { err: err.cause ?? new Error('query failed'), query: String(err.query).slice(0, 2000) };
  }
  return { err };
}

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const own = isOwnError(error);
    return {
      ...shape,
      message: own ? shape.message : shape.data.httpStatus >= 500 ? INTERNAL_MESSAGE : (GENERIC_MESSAGE[error.code] ?? INTERNAL_MESSAGE),
      data: {
        ...shape.data,
        stack: undefined,
        appCode: isAppError(cause) ? cause.code : undefined,
        // zod issues, so that a caller sees which field was wrong
        issues: cause instanceof z.ZodError ? cause.issues : undefined,
      },
    };
  },
});

/** Maps our one error type to tRPC's codes; everything else stays an internal error (logged by the HTTP layer). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (isAppError(cause)) {
      const mapped = new TRPCError({ code: TRPC_CODE[cause.code], message: cause.message, cause });
      return { ...result, error: mapped };
    }
  }
  return result;
});

export const router = t.router;
export const mergeRouters = t.mergeRouters;

/** Every procedure of the service API: bearer SERVICE_TOKEN required (401 otherwise). */
export const serviceProcedure = t.procedure
  .use(mapErrors)
  .use(({ ctx, next }) => {
    if (!ctx.authorized) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Bearer SERVICE_TOKEN required' });
    return next();
  })
  .use(async ({ getRawInput, next }) => {
    if (containsNul(await getRawInput())) throw new TRPCError({ code: 'BAD_REQUEST', message: NUL_MESSAGE });
    return next();
  });
