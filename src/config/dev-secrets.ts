// Development only: secrets not given in the environment are generated once and kept under DATA_DIR,
// so a restart keeps the same encryption key (stored tokens stay readable) and the same API tokens.
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

interface StoredSecrets {
  encryptionKey: string;
  serviceToken: string;
  adminToken: string;
}

export interface DevSecrets extends StoredSecrets {
  generated: { serviceToken?: string; adminToken?: string };
}

const token = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

export function loadDevSecrets(
  dataDir: string,
  env: { ENCRYPTION_KEY?: string; SERVICE_TOKEN?: string; ADMIN_TOKEN?: string },
): DevSecrets {
  const file = join(dataDir, 'secrets.json');
  const created = !existsSync(file);
  let stored: StoredSecrets;
  if (created) {
    stored = {
      encryptionKey: randomBytes(32).toString('base64'),
      serviceToken: token('cws'),
      adminToken: token('cwa'),
    };
    // Only write what the environment does not provide; values from the environment never reach disk.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  } else {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredSecrets;
  }
  return {
    ...stored,
    generated: created
      ? {
          ...(env.SERVICE_TOKEN ? {} : { serviceToken: stored.serviceToken }),
          ...(env.ADMIN_TOKEN ? {} : { adminToken: stored.adminToken }),
        }
      : {},
  };
}
