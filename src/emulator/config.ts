// Runtime settings, adjustable through POST /_emulator/config, and the initial quota settings (quota.ts),
// adjustable through POST /_emulator/quota.

import { DEFAULT_QUOTA_SETTINGS, type QuotaSettings } from './quota.ts';

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  hostname?: string;
  /** Lifetime of issued access tokens (Google: about 3600 s). */
  accessTokenTtlSeconds?: number;
  /** Upper bound for watch channel lifetimes (Google documents the 604800 s default, not a maximum). */
  defaultMaxChannelTtlSeconds?: number;
  /** Calendar API requests per sliding minute for the project; null = unlimited. Default: EMULATOR_QUOTA_PER_MINUTE, else unlimited. */
  quotaPerMinute?: number | null;
  /** Calendar API requests per sliding minute per Google user; null = unlimited. Default: EMULATOR_USER_QUOTA_PER_MINUTE, else unlimited. */
  userQuotaPerMinute?: number | null;
  /** Sync tokens older than this answer 410 fullSyncRequired. Default: EMULATOR_SYNC_TOKEN_TTL_SECONDS, else 7 days. */
  syncTokenTtlSeconds?: number;
  /** A listing whose first page is older than this refuses its page tokens (400). Default: EMULATOR_PAGE_TOKEN_TTL_SECONDS, else 1 h. */
  pageTokenTtlSeconds?: number;
  /** Where the EMULATOR_* quota and token variables are read; default process.env. */
  env?: Record<string, string | undefined>;
  /** How unreliable push is (see PushModes); also set at run time with POST /_emulator/push. */
  push?: Partial<PushModes>;
  /** How many times a push answered 500/502/503/504 is retried (default 3; 0 = never, which Google may well do). */
  pushRetries?: number;
}

/**
 * Push as unreliable as Google says it may be ("Notifications are not 100% reliable", push guide,
 * Special considerations; no retry schedule is documented, only "exponential backoff"). All off by
 * default except the retries, which keep their historical 3.
 */
export interface PushModes {
  /**
   * A change is pushed at once but listed by events.list / calendarList.list only this long after
   * it was made (0: at once). Google gives no consistency promise between a notification and the
   * list that follows it; changes have been seen listed only after a later change
   * (github.com/KeepSoftwareSimple/compass-calendar/issues/1190).
   */
  listableDelayMs: number;
  /** Drops the first `exists` message of every channel (a push Google never sends). */
  dropFirstPush: boolean;
  /**
   * The next `remaining` events.watch calls (on `calendarId` only, when given) answer 403 forbidden or
   * 404 notFound, as Google does for a calendar the caller may list but not watch at that moment.
   */
  refuseWatches: { status: 403 | 404; remaining: number; calendarId?: string } | null;
}

export const DEFAULT_PUSH_MODES: PushModes = { listableDelayMs: 0, dropFirstPush: false, refuseWatches: null };

export interface RuntimeConfig {
  accessTokenTtlSeconds: number;
  defaultMaxChannelTtlSeconds: number;
  /** How many times a notification answered 500/502/503/504 is retried. */
  notificationRetries: number;
  /** First retry delay; doubles per attempt (the push guide says "exponential backoff", no schedule). */
  notificationRetryBaseMs: number;
  /** Per-attempt delivery timeout. */
  notificationTimeoutMs: number;
  /** When set, the next consent answers this error (e.g. "access_denied") instead of a code. */
  nextConsentError: string | undefined;
  /** Push modes (PushModes). */
  push: PushModes;
  /**
   * Age at which a sync token stops working (410 fullSyncRequired), and at which updatedMin is "too far in
   * the past" (410 updatedMinTooLongAgo). Google documents that tokens expire ("token expiration", sync
   * guide) but not when; 7 days by default, EMULATOR_SYNC_TOKEN_TTL_SECONDS or POST /_emulator/config.
   */
  syncTokenTtlSeconds: number;
  /**
   * Age of a listing (from its first page) after which its page tokens are refused with 400 Invalid Value.
   * Google documents no lifetime; 1 h by default, EMULATOR_PAGE_TOKEN_TTL_SECONDS or POST /_emulator/config.
   */
  pageTokenTtlSeconds: number;
}

export const TOKEN_ENV = { syncTokenTtl: 'EMULATOR_SYNC_TOKEN_TTL_SECONDS', pageTokenTtl: 'EMULATOR_PAGE_TOKEN_TTL_SECONDS' } as const;
export const DEFAULT_SYNC_TOKEN_TTL_SECONDS = 7 * 86_400;
export const DEFAULT_PAGE_TOKEN_TTL_SECONDS = 3600;

export function initialConfig(opts: EmulatorOptions): RuntimeConfig {
  return {
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
    defaultMaxChannelTtlSeconds: opts.defaultMaxChannelTtlSeconds ?? 604_800,
    // "no retries" is a push mode too: notificationRetries 0 (startEmulator's pushRetries, POST /_emulator/push {retries}).
    notificationRetries: opts.pushRetries ?? 3,
    notificationRetryBaseMs: 200,
    notificationTimeoutMs: 5000,
    nextConsentError: undefined,
    push: { ...DEFAULT_PUSH_MODES, ...opts.push },
    syncTokenTtlSeconds: opts.syncTokenTtlSeconds ?? envLimit(opts.env ?? process.env, TOKEN_ENV.syncTokenTtl) ?? DEFAULT_SYNC_TOKEN_TTL_SECONDS,
    pageTokenTtlSeconds: opts.pageTokenTtlSeconds ?? envLimit(opts.env ?? process.env, TOKEN_ENV.pageTokenTtl) ?? DEFAULT_PAGE_TOKEN_TTL_SECONDS,
  };
}

export const QUOTA_ENV = { project: 'EMULATOR_QUOTA_PER_MINUTE', user: 'EMULATOR_USER_QUOTA_PER_MINUTE' } as const;

/** A positive integer from the environment; unset or empty = unlimited (null). Anything else is refused. */
function envLimit(env: Record<string, string | undefined>, name: string): number | null {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return null;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(env[name])}`);
  }
  return Number(raw);
}

/** The quota settings the emulator starts with and returns to on reset. Options win over the environment. */
export function initialQuotaSettings(opts: EmulatorOptions): QuotaSettings {
  const env = opts.env ?? process.env;
  for (const [name, v] of [['quotaPerMinute', opts.quotaPerMinute], ['userQuotaPerMinute', opts.userQuotaPerMinute]] as const) {
    if (v !== undefined && v !== null && !(Number.isSafeInteger(v) && v > 0)) throw new Error(`${name} must be a positive integer or null, got ${v}`);
  }
  return {
    ...DEFAULT_QUOTA_SETTINGS,
    projectPerMinute: opts.quotaPerMinute !== undefined ? opts.quotaPerMinute : envLimit(env, QUOTA_ENV.project),
    userPerMinute: opts.userQuotaPerMinute !== undefined ? opts.userQuotaPerMinute : envLimit(env, QUOTA_ENV.user),
  };
}
