// The only reader of process.env: one zod schema, read once at boot, handed to everything else.
import { z } from 'zod';
import { loadDevSecrets } from './dev-secrets.ts';

const bool = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes encoded in base64');

const url = z.url();
const secretToken = z.string().min(16, 'must be at least 16 characters');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DATA_DIR: z.string().min(1).default('./.calwatch'),
  PUBLIC_URL: url.optional(),
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_REDIRECT_URI: url.optional(),
  GOOGLE_API_URL: url.default('https://www.googleapis.com/'),
  GOOGLE_AUTH_URL: url.default('https://accounts.google.com/o/oauth2/v2/auth'),
  GOOGLE_TOKEN_URL: url.default('https://oauth2.googleapis.com/token'),
  GOOGLE_REVOKE_URL: url.default('https://oauth2.googleapis.com/revoke'),
  /** `write` asks for calendar read/write (bookings, on-call); `read` only for read-only scopes. */
  GOOGLE_ACCESS: z.enum(['read', 'write']).default('write'),
  GOOGLE_WEBHOOK_TOKEN: z.string().min(1).max(256).optional(),
  GOOGLE_INVITES: bool.default(true),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_API_URL: url.default('https://slack.com/api/'),
  ENCRYPTION_KEY: base64Key.optional(),
  /** The key being rotated away from: still readable, never written. */
  ENCRYPTION_KEY_PREVIOUS: base64Key.optional(),
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  SERVICE_TOKEN: secretToken.optional(),
  ADMIN_TOKEN: secretToken.optional(),
  /** The token being rotated away from: still accepted on /trpc until removed. */
  SERVICE_TOKEN_PREVIOUS: secretToken.optional(),
  /** The token being rotated away from: still accepted on /graphql until removed. */
  ADMIN_TOKEN_PREVIOUS: secretToken.optional(),
  /** Shared secret accepted in X-Calwatch-Secret on POST /link-events (WebhookDB migration path). */
  LINK_EVENTS_SECRET: secretToken.optional(),
  /** Standard Webhooks secret (`whsec_` + base64) for signed link events (webhook-id, -timestamp, -signature). */
  LINK_EVENTS_SIGNING_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'must be whsec_ followed by base64 (at least 18 bytes)').optional(),
  /** Refuse unsigned link events (the shared-secret headers and the bearer token no longer suffice). */
  LINK_EVENTS_REQUIRE_SIGNATURE: bool.optional(),
  /** Comma-separated origins that OAuth may redirect back to (returnTo). */
  OAUTH_RETURN_ORIGINS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CHANNEL_TTL_SECONDS: z.coerce.number().int().positive().default(604800),
  CHANNEL_RENEW_MARGIN_SECONDS: z.coerce.number().int().positive().default(86400),
  /** A push whose sync found nothing is checked again this long after the latest notification (0: never). */
  CHANNEL_PUSH_RECHECK_SECONDS: z.coerce.number().int().min(0).default(60),
  /** First wait before a watch refused with 403/404 is tried again; doubles per refusal, at most a day. */
  CHANNEL_WATCH_RETRY_SECONDS: z.coerce.number().int().positive().default(900),
  SYNC_SILENT_THRESHOLD_SECONDS: z.coerce.number().int().positive().default(900),
  SYNC_POLL_INTERVAL_SECONDS: z.coerce.number().int().positive().default(21600),
  /** Start-up catch-up: how many calendars per second get their incremental sync. */
  SYNC_CATCHUP_PER_SECOND: z.coerce.number().positive().default(50),
  /** events.list page size of the event sync (Google's maximum, 2500, unless tests ask for small pages). */
  SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(2500).default(2500),
  /** Calendar properties (time zone, title, access role) are re-read with a full calendar list this often. */
  SYNC_CALENDAR_REFRESH_SECONDS: z.coerce.number().int().positive().default(21600),
  /** An interrupted full sync resumes from its page token while its first page is younger than this. */
  SYNC_RESUME_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(1800),
  FANOUT_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  FANOUT_MAX_ATTEMPTS: z.coerce.number().int().positive().default(8),
  /** Allow subscriber URLs in private / loopback ranges (on by default outside production). */
  FANOUT_ALLOW_PRIVATE: bool.optional(),
  /** First retry delay of a failed delivery; each next one is 4x longer (with jitter). */
  FANOUT_RETRY_BASE_SECONDS: z.coerce.number().min(0).default(15),
  /** A subscription whose every delivery failed for this long is disabled. */
  FANOUT_DISABLE_AFTER_SECONDS: z.coerce.number().int().positive().default(86400),
  /** The changes feed keeps this many days; an older cursor is told to resync from events.list. */
  CHANGES_RETENTION_DAYS: z.coerce.number().positive().default(30),
  AVAILABILITY_HORIZON_DAYS: z.coerce.number().int().positive().default(180),
  /** Connections per pool (the app's and pg-boss's each); the embedded database uses fewer. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  /** Poll interval of pg-boss workers; local work is woken at once anyway. */
  JOBS_POLL_SECONDS: z.coerce.number().positive().default(2),
  /** Calendar requests per minute for the whole Cloud project, shared by every process (Google's default 10,000). */
  GOOGLE_QUOTA_PER_MINUTE: z.coerce.number().int().positive().default(10000),
  /** Calendar requests per minute per Google user (Google's default 600). */
  GOOGLE_USER_QUOTA_PER_MINUTE: z.coerce.number().int().positive().default(600),
  /** The quota's window (Google's is 60 s): shorter only for tests against an emulator set alike. */
  GOOGLE_QUOTA_WINDOW_SECONDS: z.coerce.number().int().positive().max(60).default(60),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  publicUrl: string | undefined;
  /** Development with no Google client configured: run the built-in emulator in-process. */
  useEmulator: boolean;
  emulatorPort: number;
  google: {
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    apiUrl: string;
    authUrl: string;
    tokenUrl: string;
    revokeUrl: string;
    access: 'read' | 'write';
    webhookToken: string | undefined;
    invites: boolean;
    /** Per-minute budgets kept by src/quota. */
    quota: { projectPerMinute: number; userPerMinute: number; windowSeconds: number };
  };
  slack: { botToken: string | undefined; apiUrl: string };
  encryptionKey: Buffer;
  encryptionKeyPrevious: Buffer | undefined;
  serviceToken: string;
  adminToken: string;
  /** Also accepted while SERVICE_TOKEN / ADMIN_TOKEN are rotated. */
  serviceTokenPrevious: string | undefined;
  adminTokenPrevious: string | undefined;
  linkEventsSecret: string | undefined;
  linkEventsSigningSecret: string | undefined;
  linkEventsRequireSignature: boolean;
  oauthReturnOrigins: string[];
  logLevel: Env['LOG_LEVEL'];
  channels: { ttlSeconds: number; renewMarginSeconds: number; pushRecheckSeconds: number; watchRetrySeconds: number };
  sync: {
    silentThresholdSeconds: number;
    pollIntervalSeconds: number;
    catchupPerSecond: number;
    pageSize: number;
    calendarRefreshSeconds: number;
    resumeMaxAgeSeconds: number;
  };
  fanout: { timeoutMs: number; maxAttempts: number; allowPrivate: boolean; retryBaseSeconds: number; disableAfterSeconds: number };
  changes: { retentionDays: number };
  availability: { horizonDays: number };
  shutdownTimeoutMs: number;
  jobsPollSeconds: number;
  /** Secrets generated for development this boot (shown once in the banner, never logged). */
  generated: { serviceToken?: string; adminToken?: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables production cannot do without; each named in the error when missing. */
const PRODUCTION_REQUIRED = [
  'DATABASE_URL',
  'PUBLIC_URL',
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'GOOGLE_REDIRECT_URI',
  'ENCRYPTION_KEY',
  'SERVICE_TOKEN',
  'ADMIN_TOKEN',
] as const;

/** The emulator's OAuth client id: not a real Google client. */
export const EMULATOR_CLIENT_ID = 'calwatch-dev';
/** Minimum length of SERVICE_TOKEN and ADMIN_TOKEN (and their _PREVIOUS) in production. */
export const PRODUCTION_TOKEN_MIN = 32;

/**
 * What makes a configuration without NODE_ENV look like production: at least two of a
 * DATABASE_URL, a GOOGLE_CLIENT_ID other than the emulator's, an https:// PUBLIC_URL. One alone is
 * a developer trying something (their own Postgres, a real client on localhost); two is a deployment
 * that forgot NODE_ENV, and development mode would generate secrets, allow private subscriber
 * addresses and send cookies without Secure.
 */
export function productionSignals(env: Pick<Env, 'DATABASE_URL' | 'GOOGLE_CLIENT_ID' | 'PUBLIC_URL'>): string[] {
  return [
    env.DATABASE_URL !== undefined ? 'DATABASE_URL is set' : undefined,
    env.GOOGLE_CLIENT_ID !== undefined && env.GOOGLE_CLIENT_ID !== EMULATOR_CLIENT_ID ? 'GOOGLE_CLIENT_ID is a real client' : undefined,
    env.PUBLIC_URL?.startsWith('https://') ? 'PUBLIC_URL is https' : undefined,
  ].filter((s): s is string => s !== undefined);
}

function checkProduction(env: Env): void {
  for (const name of PRODUCTION_REQUIRED) {
    if (env[name] === undefined) throw new ConfigError(`missing ${name}: required when NODE_ENV=production`);
  }
  if (!env.PUBLIC_URL!.startsWith('https://')) {
    throw new ConfigError('invalid PUBLIC_URL: Google only delivers push notifications to https:// addresses');
  }
  for (const name of ['SERVICE_TOKEN', 'ADMIN_TOKEN', 'SERVICE_TOKEN_PREVIOUS', 'ADMIN_TOKEN_PREVIOUS'] as const) {
    const value = env[name];
    if (value !== undefined && value.length < PRODUCTION_TOKEN_MIN) {
      throw new ConfigError(`invalid ${name}: must be at least ${PRODUCTION_TOKEN_MIN} characters when NODE_ENV=production (openssl rand -base64 32)`);
    }
  }
  for (const origin of (env.OAUTH_RETURN_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.protocol !== 'https:' || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(`invalid OAUTH_RETURN_ORIGINS: ${JSON.stringify(origin)} is not an https:// origin (scheme and host only); production allows only https`);
    }
  }
}

/** A service token must never open the admin API, nor an admin token the service API. */
function checkTokensDistinct(env: Env): void {
  const service = [env.SERVICE_TOKEN, env.SERVICE_TOKEN_PREVIOUS].filter((t) => t !== undefined);
  const admin: Array<[string, string | undefined]> = [['ADMIN_TOKEN', env.ADMIN_TOKEN], ['ADMIN_TOKEN_PREVIOUS', env.ADMIN_TOKEN_PREVIOUS]];
  for (const [name, value] of admin) {
    if (value !== undefined && service.includes(value)) {
      throw new ConfigError(`invalid ${name}: must differ from SERVICE_TOKEN and SERVICE_TOKEN_PREVIOUS (the service token would open the admin API)`);
    }
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset: `FOO= bun run start` should not fail a URL check.
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid ${String(issue.path[0])}: ${issue.message}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  if (raw.NODE_ENV === undefined) {
    const signals = productionSignals(env);
    if (signals.length >= 2) {
      throw new ConfigError(
        `NODE_ENV is not set but the configuration looks like production (${signals.join(', ')}): refusing to start in ` +
          'development mode (generated secrets, private subscriber addresses allowed, cookies without Secure). ' +
          'Set NODE_ENV=production, or NODE_ENV=development to insist.',
      );
    }
  }
  if (production) checkProduction(env);
  checkTokensDistinct(env);
  if (env.LINK_EVENTS_REQUIRE_SIGNATURE && !env.LINK_EVENTS_SIGNING_SECRET) {
    throw new ConfigError('invalid LINK_EVENTS_REQUIRE_SIGNATURE: set LINK_EVENTS_SIGNING_SECRET (whsec_...) to verify the signatures it requires');
  }

  const useEmulator = !production && env.GOOGLE_CLIENT_ID === undefined;
  const needsDev = !production && (!env.ENCRYPTION_KEY || !env.SERVICE_TOKEN || !env.ADMIN_TOKEN);
  const dev = needsDev ? loadDevSecrets(env.DATA_DIR, env) : undefined;
  const emulatorUrl = `http://127.0.0.1:${env.EMULATOR_PORT}/`;
  const selfUrl = `http://127.0.0.1:${env.PORT}`;

  return {
    env: env.NODE_ENV,
    production,
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    databaseUrl: env.DATABASE_URL,
    databasePoolMax: env.DATABASE_POOL_MAX,
    // With the emulator, Google's pushes come back to this very process.
    publicUrl: env.PUBLIC_URL ?? (useEmulator ? selfUrl : undefined),
    useEmulator,
    emulatorPort: env.EMULATOR_PORT,
    google: useEmulator
      ? {
          clientId: EMULATOR_CLIENT_ID,
          clientSecret: 'calwatch-dev-secret',
          redirectUri: env.GOOGLE_REDIRECT_URI ?? `${selfUrl}/oauth/google/callback`,
          apiUrl: emulatorUrl,
          authUrl: `${emulatorUrl}o/oauth2/v2/auth`,
          tokenUrl: `${emulatorUrl}token`,
          revokeUrl: `${emulatorUrl}revoke`,
          access: env.GOOGLE_ACCESS,
          webhookToken: env.GOOGLE_WEBHOOK_TOKEN,
          invites: env.GOOGLE_INVITES,
          quota: { projectPerMinute: env.GOOGLE_QUOTA_PER_MINUTE, userPerMinute: env.GOOGLE_USER_QUOTA_PER_MINUTE, windowSeconds: env.GOOGLE_QUOTA_WINDOW_SECONDS },
        }
      : {
          clientId: env.GOOGLE_CLIENT_ID ?? '',
          clientSecret: env.GOOGLE_CLIENT_SECRET ?? '',
          redirectUri: env.GOOGLE_REDIRECT_URI ?? `${selfUrl}/oauth/google/callback`,
          apiUrl: env.GOOGLE_API_URL,
          authUrl: env.GOOGLE_AUTH_URL,
          tokenUrl: env.GOOGLE_TOKEN_URL,
          revokeUrl: env.GOOGLE_REVOKE_URL,
          access: env.GOOGLE_ACCESS,
          webhookToken: env.GOOGLE_WEBHOOK_TOKEN,
          invites: env.GOOGLE_INVITES,
          quota: { projectPerMinute: env.GOOGLE_QUOTA_PER_MINUTE, userPerMinute: env.GOOGLE_USER_QUOTA_PER_MINUTE, windowSeconds: env.GOOGLE_QUOTA_WINDOW_SECONDS },
        },
    slack: {
      botToken: env.SLACK_BOT_TOKEN ?? (useEmulator ? 'xoxb-calwatch-dev' : undefined),
      apiUrl: env.SLACK_API_URL !== 'https://slack.com/api/' || !useEmulator ? env.SLACK_API_URL : `${emulatorUrl}slack/api/`,
    },
    encryptionKey: Buffer.from(env.ENCRYPTION_KEY ?? dev!.encryptionKey, 'base64'),
    encryptionKeyPrevious: env.ENCRYPTION_KEY_PREVIOUS ? Buffer.from(env.ENCRYPTION_KEY_PREVIOUS, 'base64') : undefined,
    serviceToken: env.SERVICE_TOKEN ?? dev!.serviceToken,
    adminToken: env.ADMIN_TOKEN ?? dev!.adminToken,
    serviceTokenPrevious: env.SERVICE_TOKEN_PREVIOUS,
    adminTokenPrevious: env.ADMIN_TOKEN_PREVIOUS,
    linkEventsSecret: env.LINK_EVENTS_SECRET,
    linkEventsSigningSecret: env.LINK_EVENTS_SIGNING_SECRET,
    linkEventsRequireSignature: env.LINK_EVENTS_REQUIRE_SIGNATURE ?? false,
    oauthReturnOrigins: (env.OAUTH_RETURN_ORIGINS ?? (production ? '' : `${selfUrl},http://localhost:${env.PORT}`))
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    logLevel: env.LOG_LEVEL,
    channels: {
      ttlSeconds: env.CHANNEL_TTL_SECONDS,
      renewMarginSeconds: env.CHANNEL_RENEW_MARGIN_SECONDS,
      pushRecheckSeconds: env.CHANNEL_PUSH_RECHECK_SECONDS,
      watchRetrySeconds: env.CHANNEL_WATCH_RETRY_SECONDS,
    },
    sync: {
      silentThresholdSeconds: env.SYNC_SILENT_THRESHOLD_SECONDS,
      pollIntervalSeconds: env.SYNC_POLL_INTERVAL_SECONDS,
      catchupPerSecond: env.SYNC_CATCHUP_PER_SECOND,
      pageSize: env.SYNC_PAGE_SIZE,
      calendarRefreshSeconds: env.SYNC_CALENDAR_REFRESH_SECONDS,
      resumeMaxAgeSeconds: env.SYNC_RESUME_MAX_AGE_SECONDS,
    },
    fanout: {
      timeoutMs: env.FANOUT_TIMEOUT_MS,
      maxAttempts: env.FANOUT_MAX_ATTEMPTS,
      allowPrivate: env.FANOUT_ALLOW_PRIVATE ?? !production,
      retryBaseSeconds: env.FANOUT_RETRY_BASE_SECONDS,
      disableAfterSeconds: env.FANOUT_DISABLE_AFTER_SECONDS,
    },
    changes: { retentionDays: env.CHANGES_RETENTION_DAYS },
    availability: { horizonDays: env.AVAILABILITY_HORIZON_DAYS },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    jobsPollSeconds: env.JOBS_POLL_SECONDS,
    generated: dev?.generated ?? {},
  };
}
