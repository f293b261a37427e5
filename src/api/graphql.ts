// graphql-yoga serving the admin schema: GraphiQL on a browser GET (no token needed to load the
// page), bearer ADMIN_TOKEN for every operation, our error codes in `extensions.code`.
import { createYoga } from 'graphql-yoga';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { AdminContext } from './graphql-builder.ts';
import { isAppError } from '../errors/index.ts';

export function createGraphqlHandler(opts: {
  schema: GraphQLSchema;
  context: (request: Request) => AdminContext;
  defaultQuery?: string;
}) {
  return createYoga<{ adminContext: AdminContext }>({
    schema: opts.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'calwatch admin', defaultQuery: opts.defaultQuery, headers: '{"Authorization": "Bearer <ADMIN_TOKEN>"}' },
    context: ({ adminContext }) => adminContext,
    maskedErrors: {
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (isAppError(original)) {
          return new GraphQLError(original.message, { extensions: { code: original.code } });
        }
        if (error instanceof GraphQLError && error.extensions?.code) return error;
        return new GraphQLError(message, { extensions: { code: 'INTERNAL' } });
      },
    },
  });
}
