// `bun run admin-schema`: prints the admin GraphQL schema into schema/admin.graphql (the committed
// reference; tests/admin fails when the code and the file drift apart).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import './service.ts'; // every module registers its admin types on import
import { printAdminSchema } from './admin-schema.ts';

export const ADMIN_SCHEMA_FILE = fileURLToPath(new URL('../../schema/admin.graphql', import.meta.url));

if (import.meta.main) {
  writeFileSync(ADMIN_SCHEMA_FILE, `${printAdminSchema()}\n`);
  console.log(`wrote ${ADMIN_SCHEMA_FILE}`);
}
