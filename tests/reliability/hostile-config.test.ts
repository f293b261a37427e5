// Weak or careless configurations: production refuses short or shared API tokens and plain-http
// OAuth return origins; a configuration that looks like production without NODE_ENV refuses to
// start in development mode (which would generate secrets, allow private subscriber addresses and
// send cookies without Secure) instead of quietly doing so; and SERVICE_TOKEN / ADMIN_TOKEN can be
// rotated without a moment where the old one is refused.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/index.ts';
import { TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, callGraphql, callTrpc, startTestService, type TestService } from '../support/service.ts';

const key = Buffer.alloc(32, 3).toString('base64');
const long = (prefix: string) => `${prefix}-${'x'.repeat(40)}`;
const production: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u@db:5432/calwatch',
  PUBLIC_URL: 'https://calwatch.example.com',
  GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'secret',
  GOOGLE_REDIRECT_URI: 'https://calwatch.example.com/oauth/google/callback',
  ENCRYPTION_KEY: key,
  SERVICE_TOKEN: long('service'),
  ADMIN_TOKEN: long('admin'),
};
const refused = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loaded: ${JSON.stringify(env)}`);
};

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'calwatch-hostile-config-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('production refuses weak set-ups', () => {
  test('the complete set-up loads', () => {
    expect(loadConfig(production).production).toBe(true);
  });

  test('attack: SERVICE_TOKEN or ADMIN_TOKEN (or their _PREVIOUS) shorter than 32 characters', () => {
    for (const name of ['SERVICE_TOKEN', 'ADMIN_TOKEN', 'SERVICE_TOKEN_PREVIOUS', 'ADMIN_TOKEN_PREVIOUS']) {
      expect(refused({ ...production, [name]: 'sixteen-chars-ok-but-31-is-short'.slice(0, 31) })).toBe(
        `invalid ${name}: must be at least 32 characters when NODE_ENV=production (openssl rand -base64 32)`,
      );
    }
    expect(loadConfig({ ...production, SERVICE_TOKEN: 's'.repeat(32), ADMIN_TOKEN: 'a'.repeat(32) }).serviceToken).toBe('s'.repeat(32));
  });

  test('attack: one token for both APIs (the service token would open the admin API)', () => {
    expect(refused({ ...production, ADMIN_TOKEN: production.SERVICE_TOKEN! })).toMatch(/^invalid ADMIN_TOKEN: must differ from SERVICE_TOKEN/);
    expect(refused({ ...production, ADMIN_TOKEN_PREVIOUS: production.SERVICE_TOKEN! })).toMatch(/^invalid ADMIN_TOKEN_PREVIOUS: must differ/);
    expect(refused({ ...production, SERVICE_TOKEN_PREVIOUS: long('old'), ADMIN_TOKEN: long('old') })).toMatch(/^invalid ADMIN_TOKEN: must differ/);
    // outside production too: never a legitimate set-up
    expect(refused({ NODE_ENV: 'development', DATA_DIR: dataDir(), SERVICE_TOKEN: long('same'), ADMIN_TOKEN: long('same') })).toMatch(/^invalid ADMIN_TOKEN/);
  });

  test('attack: OAUTH_RETURN_ORIGINS with a plain-http (or not-an-origin) entry', () => {
    for (const origins of ['http://app.example.com', 'https://app.example.com,http://localhost:3000', 'app.example.com', 'https://app.example.com/after-login', 'javascript:alert(1)']) {
      expect(refused({ ...production, OAUTH_RETURN_ORIGINS: origins })).toMatch(/^invalid OAUTH_RETURN_ORIGINS: .* is not an https:\/\/ origin/);
    }
    const ok = loadConfig({ ...production, OAUTH_RETURN_ORIGINS: 'https://app.example.com, https://admin.example.com:8443/' });
    expect(ok.oauthReturnOrigins).toEqual(['https://app.example.com', 'https://admin.example.com:8443/']);
  });
});

describe('NODE_ENV unset but the configuration looks like production', () => {
  const signals = {
    DATABASE_URL: 'postgres://u@db:5432/calwatch',
    GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
    PUBLIC_URL: 'https://calwatch.example.com',
  };
  const pairs: Array<Array<keyof typeof signals>> = [
    ['DATABASE_URL', 'GOOGLE_CLIENT_ID'],
    ['DATABASE_URL', 'PUBLIC_URL'],
    ['GOOGLE_CLIENT_ID', 'PUBLIC_URL'],
    ['DATABASE_URL', 'GOOGLE_CLIENT_ID', 'PUBLIC_URL'],
  ];

  test('attack: any two of a DATABASE_URL, a real GOOGLE_CLIENT_ID and an https PUBLIC_URL: refused, naming what to set, nothing generated', () => {
    for (const pair of pairs) {
      const dir = dataDir();
      const message = refused({ DATA_DIR: dir, ...Object.fromEntries(pair.map((k) => [k, signals[k]])) });
      expect(message).toStartWith('NODE_ENV is not set but the configuration looks like production (');
      expect(message).toContain('Set NODE_ENV=production, or NODE_ENV=development to insist.');
      if (pair.includes('DATABASE_URL')) expect(message).toContain('DATABASE_URL is set');
      if (pair.includes('GOOGLE_CLIENT_ID')) expect(message).toContain('GOOGLE_CLIENT_ID is a real client');
      if (pair.includes('PUBLIC_URL')) expect(message).toContain('PUBLIC_URL is https');
      expect(existsSync(join(dir, 'secrets.json'))).toBe(false);
    }
  });

  test('attack, as `bun run start`: the process exits 1 with that message, before generating anything or listening', async () => {
    const dir = dataDir();
    const proc = Bun.spawn(['bun', join(import.meta.dir, '..', '..', 'src', 'composition', 'main.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dir, PORT: '0', EMULATOR_PORT: '0', ...signals },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(1);
    expect(err).toContain('calwatch: NODE_ENV is not set but the configuration looks like production');
    expect(err).toContain('NODE_ENV=production');
    expect(out).not.toContain('calwatch is up');
    expect(existsSync(join(dir, 'secrets.json'))).toBe(false);
  }, 30_000);

  test('one signal alone is a developer trying something: development as before', () => {
    for (const k of Object.keys(signals) as Array<keyof typeof signals>) {
      const config = loadConfig({ DATA_DIR: dataDir(), [k]: signals[k] });
      expect(config.env).toBe('development');
    }
  });

  test("NODE_ENV=development insists; the test suites' set-up (NODE_ENV=test, the emulator's calwatch-dev, http) and nothing at all still load", () => {
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir(), ...signals }).env).toBe('development');
    expect(loadConfig({ DATA_DIR: dataDir() }).env).toBe('development');
    // the emulator's client id is not a real one: DATABASE_URL + calwatch-dev + http is development
    expect(loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: signals.DATABASE_URL, GOOGLE_CLIENT_ID: 'calwatch-dev', PUBLIC_URL: 'http://127.0.0.1:8787' }).env).toBe('development');
    expect(
      loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: signals.DATABASE_URL,
        GOOGLE_CLIENT_ID: 'calwatch-dev',
        PUBLIC_URL: 'http://127.0.0.1:8787',
        SERVICE_TOKEN: TEST_SERVICE_TOKEN,
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        ENCRYPTION_KEY: key,
      }).env,
    ).toBe('test');
  });
});

describe('rotating SERVICE_TOKEN and ADMIN_TOKEN: the previous ones are accepted until removed', () => {
  const SERVICE_PREVIOUS = long('old-service');
  const ADMIN_PREVIOUS = long('old-admin');
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      name: 'hostile-config-rotation',
      env: { SERVICE_TOKEN_PREVIOUS: SERVICE_PREVIOUS, ADMIN_TOKEN_PREVIOUS: ADMIN_PREVIOUS },
      skipStartHooks: true,
    });
  }, 30_000);
  afterAll(() => t?.stop(), 30_000);
  const info = (token: string) => callTrpc(t.url, 'system.info', undefined, { token }).then((r) => r.status);
  const admin = (token: string) => callGraphql(t.url, '{ system { version } }', undefined, { token }).then((r) => r.status);

  test('current and previous service tokens open /trpc; admin tokens and strangers do not', async () => {
    expect(await info(TEST_SERVICE_TOKEN)).toBe(200);
    expect(await info(SERVICE_PREVIOUS)).toBe(200);
    expect(await info(ADMIN_PREVIOUS)).toBe(401);
    expect(await info(TEST_ADMIN_TOKEN)).toBe(401);
    expect(await info(long('stranger'))).toBe(401);
    expect(await info(SERVICE_PREVIOUS.slice(0, -1))).toBe(401);
  });

  test('current and previous admin tokens open /graphql; service tokens and strangers do not', async () => {
    expect(await admin(TEST_ADMIN_TOKEN)).toBe(200);
    expect(await admin(ADMIN_PREVIOUS)).toBe(200);
    expect(await admin(SERVICE_PREVIOUS)).toBe(401);
    expect(await admin(TEST_SERVICE_TOKEN)).toBe(401);
    expect(await admin(long('stranger'))).toBe(401);
  });
});
