// graphql-yoga serving the admin schema: GraphiQL on a browser GET (no token needed to load the
// page), bearer ADMIN_TOKEN for every operation, our error codes in `extensions.code`.
//
// Limits, all checked before anything runs (a hostile or careless admin client): at most
// MAX_QUERY_TOKENS lexical tokens in the document (checked while parsing), MAX_QUERY_ALIASES
// aliases per operation (`__typename` included), MAX_QUERY_DEPTH levels and MAX_QUERY_COST of cost;
// no batching (one operation per request, yoga's default). No CORS: the API is for servers with the
// token, and GraphiQL is served from /graphql itself (same origin); see createHttpApp.
//
// Errors: ours (AppError) keep their message and code; errors of the request itself (syntax,
// validation, the limits) say what was wrong; anything else is masked as "Unexpected error." with
// code INTERNAL, and the original is logged with the request's logger (request id, the field's
// path), by name, message and code: never a driver's query parameters or a client's config.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createYoga, type YogaLogger } from 'graphql-yoga';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { AdminContext } from './graphql-builder.ts';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { isAppError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { renderGraphiQL } from './graphiql.ts';
import { containsNul, NUL_MESSAGE } from './text-input.ts';
import { loggableError } from './trpc.ts';

export const MAX_QUERY_DEPTH = 10;
export const MAX_QUERY_COST = 20000;
/** Aliases per operation: a handful is all a person writes; thousands are an amplification attack. */
export const MAX_QUERY_ALIASES = 20;
/** Tokens per document: GraphiQL's introspection query takes under 200. */
export const MAX_QUERY_TOKENS = 1000;

const HEADERS_HINT = JSON.stringify({ Authorization: 'Bearer <ADMIN_TOKEN>' }, null, 2);

/** The request's logger while yoga handles it, for the errors it masks (maskError has no context). */
const requestLog = new AsyncLocalStorage<Logger>();

export interface GraphqlHandler {
  /** Handles one request; `adminContext.log` (the request's logger) logs what is masked. */
  fetch(request: Request, adminContext: AdminContext): Promise<Response>;
}

export function createGraphqlHandler(opts: {
  schema: GraphQLSchema;
  /** Logs what happens outside a request's handling (yoga's own warnings). */
  log: Logger;
  defaultTabs?: Array<{ query: string; variables?: string }>;
}): GraphqlHandler {
  /**
   * Errors maskError has dealt with: yoga logs every error maskError replaces, and should log none
   * (the masked ones are logged here, the client's own mistakes need no log line).
   */
  const handled = new WeakSet<object>();
  const handle = (error: unknown) => {
    if (typeof error === 'object' && error !== null) handled.add(error);
  };

  function logMasked(error: unknown) {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    const log = requestLog.getStore() ?? opts.log;
    log.error({ ...loggableError(original), ...(error instanceof GraphQLError && error.path ? { path: error.path.join('.') } : {}) }, 'graphql error masked');
  }

  // yoga's own logger: its debug chatter dropped, its warnings and errors through ours (serialized
  // by name and message, not printed whole to the console), masked errors not twice.
  const yogaLog: YogaLogger = {
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => (requestLog.getStore() ?? opts.log).warn({ detail: args.map((a) => (a instanceof Error ? a.message : String(a))) }, 'graphql-yoga warning'),
    error: (...args: unknown[]) => {
      for (const a of args) {
        if (typeof a === 'object' && a !== null && handled.has(a)) continue;
        (requestLog.getStore() ?? opts.log).error(loggableError(a), 'graphql-yoga error');
      }
    },
  };

  const yoga = createYoga<{ adminContext: AdminContext }>({
    schema: opts.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // No Access-Control-* header on any answer: a browser on another origin cannot call the admin
    // API (yoga's default would reflect any Origin, credentials allowed).
    cors: false,
    logging: yogaLog,
    graphiql: {
      title: 'calwatch admin',
      defaultTabs: opts.defaultTabs?.map((tab) => ({ ...tab, headers: HEADERS_HINT })),
      headers: HEADERS_HINT,
      defaultEditorToolsVisibility: 'headers',
    },
    renderGraphiQL,
    context: ({ adminContext }) => adminContext,
    plugins: [
      {
        // No U+0000 in variables or in the document's string literals (Postgres cannot store it).
        onParams({ params, setResult }) {
          const query = typeof params.query === 'string' ? params.query : '';
          if (containsNul(params.variables) || query.includes('\\u0000') || query.includes('\u0000')) {
            setResult({ errors: [new GraphQLError(NUL_MESSAGE, { extensions: { code: 'VALIDATION' } })] });
          }
        },
      },
      maxTokensPlugin({ n: MAX_QUERY_TOKENS, propagateOnRejection: true }),
      // `__typename` counts too: armor leaves it out by default, and it is the cheapest field to repeat.
      maxAliasesPlugin({ n: MAX_QUERY_ALIASES, allowList: [], propagateOnRejection: true }),
      maxDepthPlugin({ n: MAX_QUERY_DEPTH, flattenFragments: true, propagateOnRejection: true }),
      costLimitPlugin({ maxCost: MAX_QUERY_COST, propagateOnRejection: true }),
    ],
    maskedErrors: {
      maskError(error, message) {
        handle(error);
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (isAppError(original)) {
          return new GraphQLError(original.message, { extensions: { code: original.code } });
        }
        if (error instanceof GraphQLError && error.extensions?.code) return error;
        // Errors of the request itself (syntax, validation, depth, alias, token and cost limits)
        // carry no original error: their message is for the client.
        if (error instanceof GraphQLError && !error.originalError) {
          return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: 'VALIDATION' } });
        }
        logMasked(error);
        return new GraphQLError(message, { extensions: { code: 'INTERNAL' } });
      },
    },
  });

  return {
    fetch: (request, adminContext) => requestLog.run(adminContext.log, () => Promise.resolve(yoga.fetch(request, { adminContext }))),
  };
}
