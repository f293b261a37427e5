import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/index.ts';

const key = Buffer.alloc(32, 1).toString('base64');
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u@db:5432/calwatch',
  PUBLIC_URL: 'https://calwatch.example.com',
  GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'secret',
  GOOGLE_REDIRECT_URI: 'https://calwatch.example.com/oauth/google/callback',
  ENCRYPTION_KEY: key,
  SERVICE_TOKEN: 'service-token-0123456789abcdefghijkl',
  ADMIN_TOKEN: 'admin-token-0123456789abcdefghijklmn',
};

describe('production refuses to start without what it needs, naming it', () => {
  for (const name of Object.keys(production).filter((k) => k !== 'NODE_ENV')) {
    test(`missing ${name}`, () => {
      const env: Record<string, string> = { ...production };
      delete env[name];
      expect(() => loadConfig(env)).toThrow(new ConfigError(`missing ${name}: required when NODE_ENV=production`));
    });
  }

  test('malformed values are named in one line', () => {
    expect(() => loadConfig({ ...production, ENCRYPTION_KEY: 'short' })).toThrow(/^invalid ENCRYPTION_KEY: must be 32 bytes/);
    expect(() => loadConfig({ ...production, DATABASE_URL: 'mysql://x' })).toThrow(/^invalid DATABASE_URL/);
    expect(() => loadConfig({ ...production, PORT: 'eighty' })).toThrow(/^invalid PORT/);
    expect(() => loadConfig({ ...production, PUBLIC_URL: 'http://calwatch.example.com' })).toThrow(/^invalid PUBLIC_URL: Google only delivers/);
  });

  test('a complete production environment loads, with no emulator and nothing generated', () => {
    const config = loadConfig(production);
    expect(config.production).toBe(true);
    expect(config.useEmulator).toBe(false);
    expect(config.generated).toEqual({});
    expect(config.google.apiUrl).toBe('https://www.googleapis.com/');
    expect(config.fanout.allowPrivate).toBe(false);
  });
});

describe('development defaults', () => {
  test('secrets are generated once under DATA_DIR, shown once, and kept across restarts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-config-'));
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.useEmulator).toBe(true);
    expect(first.generated.serviceToken).toBe(first.serviceToken);
    expect(first.generated.adminToken).toBe(first.adminToken);
    expect(first.encryptionKey.length).toBe(32);
    const file = join(dir, 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = loadConfig({ DATA_DIR: dir });
    expect(second.serviceToken).toBe(first.serviceToken);
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    expect(second.generated).toEqual({});
  });

  test('a value given in the environment is used, never written to disk nor marked for display', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-config-'));
    const config = loadConfig({ DATA_DIR: dir, SERVICE_TOKEN: 'given-service-token-123456' });
    expect(config.serviceToken).toBe('given-service-token-123456');
    expect(config.generated.serviceToken).toBeUndefined();
    expect(readFileSync(join(dir, 'secrets.json'), 'utf8')).not.toContain('given-service-token-123456');
  });

  test('the emulator is used in development when no Google client is configured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-config-'));
    const config = loadConfig({ DATA_DIR: dir, EMULATOR_PORT: '9999', PORT: '9000' });
    expect(config.google.apiUrl).toBe('http://127.0.0.1:9999/');
    expect(config.google.tokenUrl).toBe('http://127.0.0.1:9999/token');
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:9999/slack/api/');
    expect(config.publicUrl).toBe('http://127.0.0.1:9000');
  });
});

describe("Google's quota budgets", () => {
  test('default to Google\'s own (10,000 a minute per project, 600 per user), and take positive integers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-quota-'));
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dir }).google.quota).toEqual({ projectPerMinute: 10000, userPerMinute: 600, windowSeconds: 60 });
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, GOOGLE_QUOTA_PER_MINUTE: '30000', GOOGLE_USER_QUOTA_PER_MINUTE: '1200' }).google.quota).toMatchObject({
      projectPerMinute: 30000,
      userPerMinute: 1200,
    });
  });

  for (const [name, value] of [
    ['GOOGLE_QUOTA_PER_MINUTE', '0'],
    ['GOOGLE_QUOTA_PER_MINUTE', '-5'],
    ['GOOGLE_QUOTA_PER_MINUTE', '1.5'],
    ['GOOGLE_QUOTA_PER_MINUTE', 'lots'],
    ['GOOGLE_USER_QUOTA_PER_MINUTE', '0'],
    ['GOOGLE_USER_QUOTA_PER_MINUTE', 'ten'],
    ['GOOGLE_QUOTA_WINDOW_SECONDS', '600'],
  ] as const) {
    test(`${name}=${value} stops the boot naming the variable`, () => {
      expect(() => loadConfig({ NODE_ENV: 'test', [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: 'test', [name]: value })).toThrow(new RegExp(`invalid ${name}`));
    });
  }
});
