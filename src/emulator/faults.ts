// Injected failures: the next N Calendar API calls answer an error status with Google's body, and push
// notifications can be dropped or duplicated (the push guide warns "Notifications are not 100% reliable").

import { backendError, FrontEndError, rateLimited, serviceUnavailable, type GoogleApiError, type RateLimitReason } from './errors.ts';

/** 5xx as Google sends them: 500 backendError (JSON), 502 the front end's HTML page, 503 UNAVAILABLE (JSON). */
export type FaultStatus = 429 | 403 | 500 | 502 | 503;

export interface FaultSettings {
  status?: FaultStatus;
  reason?: RateLimitReason;
  count?: number;
  paths?: string;
  /** Only requests with this HTTP method (GET, POST, ...) take the fault. */
  method?: string;
  dropNotifications?: number;
  duplicateNotifications?: number;
  maxChannelTtlSeconds?: number | null;
}

export class Faults {
  status: FaultStatus | undefined;
  reason: RateLimitReason = 'rateLimitExceeded';
  remaining = 0;
  paths: string | undefined;
  method: string | undefined;
  dropNotifications = 0;
  duplicateNotifications = 0;
  maxChannelTtlSeconds: number | undefined;

  /** Merges settings: only the fields given change. `status` (re)arms the counter (default 1 call). */
  configure(s: FaultSettings): void {
    if (s.status !== undefined) {
      this.status = s.status;
      this.reason = s.reason ?? 'rateLimitExceeded';
      this.remaining = s.count ?? 1;
      this.paths = s.paths;
      this.method = s.method?.toUpperCase();
    } else if (s.count !== undefined) {
      this.remaining = s.count;
      if (s.paths !== undefined) this.paths = s.paths;
    }
    if (s.dropNotifications !== undefined) this.dropNotifications = s.dropNotifications;
    if (s.duplicateNotifications !== undefined) this.duplicateNotifications = s.duplicateNotifications;
    if (s.maxChannelTtlSeconds !== undefined) this.maxChannelTtlSeconds = s.maxChannelTtlSeconds ?? undefined;
  }

  /** The error the next Calendar API call at `path` must answer, consuming one from the counter. */
  take(path: string, method = 'GET'): GoogleApiError | undefined {
    if (this.status === undefined || this.remaining <= 0) return undefined;
    if (this.paths !== undefined && !path.includes(this.paths)) return undefined;
    if (this.method !== undefined && method.toUpperCase() !== this.method) return undefined;
    this.remaining--;
    if (this.status === 500) return backendError();
    if (this.status === 502) return new FrontEndError(502);
    if (this.status === 503) return serviceUnavailable();
    // A 403 usage-limit fault is Google's rateLimitExceeded unless another reason was asked for.
    return rateLimited(this.status, this.reason);
  }

  snapshot(): Record<string, unknown> {
    return {
      status: this.status ?? null,
      reason: this.reason,
      remaining: this.remaining,
      paths: this.paths ?? null,
      method: this.method ?? null,
      dropNotifications: this.dropNotifications,
      duplicateNotifications: this.duplicateNotifications,
      maxChannelTtlSeconds: this.maxChannelTtlSeconds ?? null,
    };
  }
}
