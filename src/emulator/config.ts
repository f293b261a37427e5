// Runtime settings, adjustable through POST /_emulator/config.

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  hostname?: string;
  /** Lifetime of issued access tokens (Google: about 3600 s). */
  accessTokenTtlSeconds?: number;
  /** Upper bound for watch channel lifetimes (Google documents the 604800 s default, not a maximum). */
  defaultMaxChannelTtlSeconds?: number;
}

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
}

export function initialConfig(opts: EmulatorOptions): RuntimeConfig {
  return {
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
    defaultMaxChannelTtlSeconds: opts.defaultMaxChannelTtlSeconds ?? 604_800,
    notificationRetries: 3,
    notificationRetryBaseMs: 200,
    notificationTimeoutMs: 5000,
    nextConsentError: undefined,
  };
}
