// The Hono app: webhook and OAuth routes from the modules, /trpc, /graphql, health and metrics.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import type { AnyTRPCRouter } from '@trpc/server';
import type { GraphQLSchema } from 'graphql';
import type { Ctx } from '../context/index.ts';
import { safeEqual, randomToken } from '../crypto/index.ts';
import { HTTP_STATUS, isAppError } from '../errors/index.ts';
import { createGraphqlHandler } from './graphql.ts';
import { GRAPHIQL_ASSET_PREFIX, graphiqlAsset } from './graphiql.ts';
import { isOwnError, loggableError } from './trpc.ts';
import type { Logger } from '../log/index.ts';

export { router, mergeRouters, serviceProcedure, type TrpcContext } from './trpc.ts';
export { builder, type AdminContext } from './graphql-builder.ts';
export { systemRouter } from './system.ts';
export { MAX_QUERY_ALIASES, MAX_QUERY_DEPTH, MAX_QUERY_TOKENS } from './graphql.ts';
import './queues.ts'; // the queues' admin types join the builder, as the system's do above
export { loaderFor, loaderName, groupBy, oneBy } from './loaders.ts';
export {
  ExternalOwnerId, CalendarId, GoogleEventId, BookingId, SubscriptionId, OncallGroupId, ShiftId,
  Instant, InstantDate, TimeZone, Email, Url, PageLimit, PageCursor,
} from './inputs.ts';

/** `log` is made on first use: the webhook's hot path answers without building a child logger. */
type Vars = { Variables: { requestId: string; log: () => Logger } };

// Request ids: a random prefix per process and a counter (unique, and cheap on the hot path).
const REQUEST_ID_PREFIX = randomToken(4);
let requestCounter = 0;
const nextRequestId = () => `${REQUEST_ID_PREFIX}-${(++requestCounter).toString(36)}`;

export function bearer(header: string | undefined): string | undefined {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

/**
 * Constant-time check of an Authorization header against the expected token, or any of the
 * expected tokens (the current one and the one being rotated away from; unset ones are skipped).
 */
export function hasBearer(header: string | undefined, expected: string | ReadonlyArray<string | undefined>): boolean {
  const presented = bearer(header);
  if (presented === undefined) return false;
  let ok = false;
  // Every candidate compared, none skipped on a match: the time does not say which one matched.
  for (const token of typeof expected === 'string' ? [expected] : expected) if (token !== undefined && safeEqual(presented, token)) ok = true;
  return ok;
}

export function createHttpApp(opts: {
  ctx: Ctx;
  router: AnyTRPCRouter;
  adminSchema: GraphQLSchema;
  graphiqlTabs?: Array<{ query: string; variables?: string }>;
  routes: Hono[];
  /**
   * Routes on the hot path (Google's pushes): they run before, and without, the per-request
   * logger, request ids and body limit; only the request counter and an error answer.
   */
  hotRoutes?: Hono[];
  isReady: () => Promise<{ ok: boolean; checks: Record<string, boolean> }>;
}): Hono<Vars> {
  const { ctx } = opts;
  const app = new Hono<Vars>();

  // Registered first: a hot route answers before any middleware below runs.
  for (const hot of opts.hotRoutes ?? []) {
    for (const path of new Set(hot.routes.map((r) => r.path))) {
      app.use(path, async (c, next) => {
        try {
          await next();
        } catch (err) {
          ctx.log.error({ err, path: c.req.path }, 'unhandled error');
          c.res = c.json({ detail: 'Internal error' }, 500);
        }
        ctx.metrics.httpRequests.inc({ route: c.req.routePath, status: String(c.res.status) });
        if (c.res.status >= 400) ctx.log.info({ method: c.req.method, path: c.req.path, status: c.res.status }, 'request');
      });
    }
    app.route('/', hot);
  }

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : nextRequestId();
    let child: Logger | undefined;
    const log = () => (child ??= ctx.log.child({ requestId }));
    c.set('requestId', requestId);
    c.set('log', log);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    const route = c.req.routePath;
    ctx.metrics.httpRequests.inc({ route, status: String(c.res.status) });
    // The webhook is the hot path: its successes are counted, not logged line by line.
    if (c.res.status >= 400 || !route.startsWith('/webhooks/')) {
      log().info(
        { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  });

  // Nothing calwatch accepts is large; refuse big bodies before reading them.
  app.use('*', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ detail: 'Request body too large' }, 413) }));

  app.onError((err, c) => {
    if (isAppError(err)) return c.json({ detail: err.message, code: err.code }, HTTP_STATUS[err.code] as 400);
    c.get('log')?.().error({ err }, 'unhandled error');
    return c.json({ detail: 'Internal error' }, 500);
  });
  app.notFound((c) => {
    // A known path asked with another method (GET on the webhook...): 405 naming the methods it
    // takes (RFC 9110 §15.5.6), not a 404 that says the path does not exist.
    const allowed = [...new Set(app.routes.filter((r) => r.path === c.req.path && r.method !== 'ALL').map((r) => r.method))];
    if (allowed.length > 0) return c.json({ detail: 'Method not allowed' }, 405, { Allow: allowed.join(', ') });
    return c.json({ detail: 'Not found' }, 404);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const r = await opts.isReady();
    return c.json({ status: r.ok ? 'ready' : 'unavailable', checks: r.checks }, r.ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    // Budgets paused by a daily quotaExceeded, read from the shared buckets at each scrape.
    try {
      const quota = await ctx.quota.status();
      ctx.metrics.googleQuotaPaused.reset();
      ctx.metrics.googleQuotaPaused.set({ budget: 'project' }, quota.project?.pausedUntil && quota.project.pausedUntil > new Date() ? 1 : 0);
      if (quota.pausedUsers.length > 0) ctx.metrics.googleQuotaPaused.set({ budget: 'user' }, quota.pausedUsers.length);
    } catch {
      // The database is down: /readyz says so; the rest of the metrics still answer.
    }
    const body = await ctx.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': ctx.metrics.registry.contentType });
  });

  for (const routes of opts.routes) app.route('/', routes);

  // CORS, explicitly: none. /trpc and /graphql are for servers holding a bearer token, and GraphiQL
  // is served from /graphql itself (same origin, no CORS needed). No answer carries an
  // Access-Control-Allow-* header (yoga's CORS is off, tRPC's fetch adapter has none), and a
  // browser's preflight from another origin is refused outright, so its call is never sent.
  for (const path of ['/graphql', '/trpc/*']) {
    app.use(path, async (c, next) => {
      if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
        return c.json({ detail: 'Cross-origin browser requests are not allowed: this API is for servers (GraphiQL is served at /graphql itself)' }, 403);
      }
      await next();
    });
  }

  app.all('/trpc/*', (c) =>
    fetchRequestHandler({
      endpoint: '/trpc',
      req: c.req.raw,
      router: opts.router,
      // Every error whose message the caller does not see (see isOwnError), and every internal
      // one, is logged here, once, with the request's logger.
      onError: ({ error, path }) => {
        if (!isOwnError(error) || error.code === 'INTERNAL_SERVER_ERROR') c.get('log')().error({ ...loggableError(error.cause ?? error), path, trpcCode: error.code }, 'procedure failed');
      },
      createContext: () => ({
        app: ctx,
        log: c.get('log')(),
        requestId: c.get('requestId'),
        authorized: hasBearer(c.req.header('authorization'), [ctx.config.serviceToken, ctx.config.serviceTokenPrevious]),
      }),
    }),
  );

  const yoga = createGraphqlHandler({ schema: opts.adminSchema, log: ctx.log, defaultTabs: opts.graphiqlTabs });
  app.get(`${GRAPHIQL_ASSET_PREFIX}:name`, async (c) => (await graphiqlAsset(c.req.param('name'))) ?? c.json({ detail: 'Not found' }, 404));
  app.all('/graphql', async (c) => {
    const admin = hasBearer(c.req.header('authorization'), [ctx.config.adminToken, ctx.config.adminTokenPrevious]);
    const isBrowserPage = c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
    if (!admin && !isBrowserPage) {
      return c.json(
        { errors: [{ message: 'Authorization: Bearer ADMIN_TOKEN required', extensions: { code: 'UNAUTHENTICATED' } }] },
        401,
      );
    }
    return yoga.fetch(c.req.raw, { app: ctx, log: c.get('log')(), admin, loaders: new Map() });
  });

  return app;
}
