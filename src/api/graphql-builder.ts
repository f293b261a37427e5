// The Pothos builder of the admin API. It defines no types of its own beyond the shared scalars;
// each module adds its types in src/<module>/admin/ (one file per type), and
// src/composition/admin-schema.ts builds the schema.
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type DataLoader from 'dataloader';
import type { Ctx } from '../context/index.ts';
import type { Logger } from '../log/index.ts';

export interface AdminContext {
  app: Ctx;
  /** The request's logger (it carries the request id). */
  log: Logger;
  admin: boolean;
  /** Per-request DataLoaders (see loaders.ts). */
  loaders: Map<string, DataLoader<unknown, unknown>>;
}

export const builder = new SchemaBuilder<{
  Context: AdminContext;
  AuthScopes: { admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    Date: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ admin: ctx.admin }),
    unauthorizedError: () =>
      new GraphQLError('Authorization: Bearer ADMIN_TOKEN required', { extensions: { code: 'UNAUTHENTICATED' } }),
  },
  relay: {},
});

builder.scalarType('DateTime', {
  description: 'An ISO 8601 date-time in UTC',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: (v) => {
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'VALIDATION' } });
    return d;
  },
});

builder.scalarType('Date', {
  description: 'A calendar date, YYYY-MM-DD',
  serialize: (v) => v,
  parseValue: (v) => {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) {
      throw new GraphQLError('Date must be YYYY-MM-DD', { extensions: { code: 'VALIDATION' } });
    }
    return v;
  },
});

// Every operation needs the admin scope; modules add fields with builder.queryField(...) and
// builder.mutationField(...).
builder.queryType({ authScopes: { admin: true } });
builder.mutationType({ authScopes: { admin: true } });
