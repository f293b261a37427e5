// Builds the admin GraphQL schema once every module has added its types to the builder
// (each module's admin/index.ts is imported by its index.ts, which service.ts imports).
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from '../api/index.ts'; // with the platform's own admin types (system, queues)

let schema: GraphQLSchema | undefined;

export function adminSchema(): GraphQLSchema {
  schema ??= builder.toSchema();
  return schema;
}

/** The printed SDL kept in schema/admin.graphql (a test fails when they drift apart). */
export const printAdminSchema = () => printSchema(lexicographicSortSchema(adminSchema()));
