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
  UPSTREAM_GONE: 'BAD_GATEWAY',
  UPSTREAM_RATE_LIMITED: 'SERVICE_UNAVAILABLE',
  UPSTREAM_AUTH: 'BAD_GATEWAY',
  UPSTREAM_ERROR: 'BAD_GATEWAY',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
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

/** Maps our one error type to tRPC's codes; everything else stays an internal error. */
const mapErrors = t.middleware(async ({ next, ctx }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (isAppError(cause)) {
      const mapped = new TRPCError({ code: TRPC_CODE[cause.code], message: cause.message, cause });
      return { ...result, error: mapped };
    }
    if (result.error.code === 'INTERNAL_SERVER_ERROR') ctx.log.error({ err: cause ?? result.error }, 'procedure failed');
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
