// graphql-yoga serving the admin schema: GraphiQL on a browser GET (no token needed to load the
// page), bearer ADMIN_TOKEN for every operation, our error codes in `extensions.code`.
import { createYoga } from 'graphql-yoga';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { AdminContext } from './graphql-builder.ts';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { isAppError } from '../errors/index.ts';
import { renderGraphiQL } from './graphiql.ts';
import { containsNul, NUL_MESSAGE } from './text-input.ts';

/** Deep or costly queries are refused before they run (a hostile or careless admin client). */
export const MAX_QUERY_DEPTH = 10;
export const MAX_QUERY_COST = 20000;

const HEADERS_HINT = JSON.stringify({ Authorization: 'Bearer <ADMIN_TOKEN>' }, null, 2);

export function createGraphqlHandler(opts: {
  schema: GraphQLSchema;
  context: (request: Request) => AdminContext;
  defaultTabs?: Array<{ query: string; variables?: string }>;
}) {
  return createYoga<{ adminContext: AdminContext }>({
    schema: opts.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
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
      maxDepthPlugin({ n: MAX_QUERY_DEPTH, flattenFragments: true, propagateOnRejection: true }),
      costLimitPlugin({ maxCost: MAX_QUERY_COST, propagateOnRejection: true }),
    ],
    maskedErrors: {
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (isAppError(original)) {
          return new GraphQLError(original.message, { extensions: { code: original.code } });
        }
        if (error instanceof GraphQLError && error.extensions?.code) return error;
        // Errors of the request itself (syntax, validation, depth and cost limits) carry no
        // original error: their message is for the client.
        if (error instanceof GraphQLError && !error.originalError) {
          return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: 'VALIDATION' } });
        }
        return new GraphQLError(message, { extensions: { code: 'INTERNAL' } });
      },
    },
  });
}
