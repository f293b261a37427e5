// Google Calendar's usage limits, enforced as Google describes them so that a client's own pacing can be
// proven against the emulator.
//
// Sources:
// - Calendar quota guide, https://developers.google.com/workspace/calendar/api/guides/quota (FACTS §3):
//   quotas are "per minute per project" and "per minute per user per project", computed over a sliding
//   window; the defaults shown are 10,000 and 600 requests/minute; exceeding one gives "a 403 usageLimits
//   status code or a 429 usageLimits status code".
// - Calendar errors guide, https://developers.google.com/workspace/calendar/api/guides/errors: 403
//   userRateLimitExceeded "User Rate Limit Exceeded", 403 rateLimitExceeded "Rate Limit Exceeded", 429
//   rateLimitExceeded "Rate Limit Exceeded" ("can return either 403 or 429 ... functionally similar") and 403
//   quotaExceeded "Calendar usage limits exceeded." (bodies: ../shared/google/doc-examples/error-4*-*.json).
//   Google documents no Retry-After header on any of them, so none is sent.
//
// The emulator is ONE project: every OAuth client registered with it shares the project window. The user of
// a request is the Google user its access token belongs to (calendar-api.ts `authenticate`).
//
// Choices where Google says nothing (UNVERIFIED):
// - Rejected requests do not count toward either window (nor toward the daily limit): a client that keeps
//   hammering is let in again as soon as the window has slid past its admitted requests. Whether Google
//   counts refused requests is not documented; not counting them is the lenient reading.
// - Checks run daily limit, then project, then user: when both minute limits are exhausted the answer is
//   the project's rateLimitExceeded.
// - Requests that fail authentication (401) are not counted: they are refused before a user or project is
//   known. Everything after authentication counts, whatever its answer (403 insufficientPermissions, 404,
//   injected faults, ...).
// - The daily limit is not a calendar day (Google resets at midnight Pacific): it counts admitted requests
//   since the last quota reset (POST /_emulator/quota {"reset":true} or POST /_emulator/reset).
//
// Window: a request at time t is admitted iff fewer than `limit` requests were admitted in (t - windowMs, t]
// for the project and for its user. Each key keeps a ring of the timestamps admitted within the last
// window only, so memory is bounded by the admitted rate and each request costs O(1) amortized.

import { rateLimited, type GoogleApiError } from './errors.ts';

export type ProjectLimitStatus = 403 | 429 | 'alternate';

export interface QuotaSettings {
  /** Admitted requests per window for the whole project; null = unlimited. */
  projectPerMinute: number | null;
  /** Admitted requests per window per Google user; null = unlimited. */
  userPerMinute: number | null;
  /** Admitted requests since the last reset before every request answers 403 quotaExceeded; null = unlimited. */
  dailyPerProject: number | null;
  /** Status of the project limit's rateLimitExceeded: 403, 429, or alternating 403, 429, 403, ... */
  projectLimitStatus: ProjectLimitStatus;
  /** Length of the sliding window (Google: one minute). Shorter windows are for tests. */
  windowMs: number;
}

export const DEFAULT_QUOTA_SETTINGS: Readonly<QuotaSettings> = {
  projectPerMinute: null,
  userPerMinute: null,
  dailyPerProject: null,
  projectLimitStatus: 403,
  windowMs: 60_000,
};

/** Timestamps in increasing order, in a power-of-two ring that grows when full. */
export class TimeRing {
  private buf = new Float64Array(16);
  private head = 0;
  size = 0;

  push(t: number): void {
    if (this.size === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)] ?? 0;
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.size) & (this.buf.length - 1)] = t;
    this.size++;
  }

  /** Drops every timestamp <= cutoff. */
  evictThrough(cutoff: number): void {
    const mask = this.buf.length - 1;
    while (this.size > 0 && (this.buf[this.head] ?? 0) <= cutoff) {
      this.head = (this.head + 1) & mask;
      this.size--;
    }
    if (this.size === 0) this.head = 0;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}

interface KeyStats {
  window: TimeRing;
  admitted: number;
  rejected: number;
  peak: number;
}

const newStats = (): KeyStats => ({ window: new TimeRing(), admitted: 0, rejected: 0, peak: 0 });

interface Bucket {
  start: number;
  wall: number;
  admitted: number;
  rejected: number;
}

/** How many fixed windows `perMinute` keeps (the most recent ones with any request). */
export const PER_MINUTE_BUCKETS = 60;

export type RejectReason = 'rateLimitExceeded' | 'userRateLimitExceeded' | 'quotaExceeded';

export class QuotaKeeper {
  settings: QuotaSettings;
  private project = newStats();
  private users = new Map<string, KeyStats>();
  private rejected: Record<RejectReason, number> = { rateLimitExceeded: 0, userRateLimitExceeded: 0, quotaExceeded: 0 };
  private peakUser = 0;
  private buckets: Bucket[] = [];
  private bucketEpoch: number;
  private last = -Infinity;

  /** `clock` is monotonic milliseconds (performance.now by default; Date.now can be set back by tests). */
  constructor(settings: Partial<QuotaSettings> = {}, private readonly clock: () => number = () => performance.now()) {
    this.settings = { ...DEFAULT_QUOTA_SETTINGS, ...settings };
    this.bucketEpoch = clock();
  }

  configure(patch: Partial<QuotaSettings>): void {
    const windowChanged = patch.windowMs !== undefined && patch.windowMs !== this.settings.windowMs;
    Object.assign(this.settings, patch);
    if (windowChanged) this.bucketEpoch = this.now();
  }

  /** Forgets every counter, window and the daily usage; settings stay. */
  resetCounters(): void {
    this.project = newStats();
    this.users.clear();
    this.rejected = { rateLimitExceeded: 0, userRateLimitExceeded: 0, quotaExceeded: 0 };
    this.peakUser = 0;
    this.buckets = [];
    this.bucketEpoch = this.now();
  }

  private now(): number {
    // Never let time run backwards inside the windows.
    const t = this.clock();
    if (t > this.last) this.last = t;
    return this.last;
  }

  /** Admits one Calendar API request by `user`, or returns the error Google would answer instead. */
  admit(user: string): GoogleApiError | undefined {
    const t = this.now();
    const s = this.settings;
    const cutoff = t - s.windowMs;
    let u = this.users.get(user);
    if (!u) {
      u = newStats();
      this.users.set(user, u);
    }
    this.project.window.evictThrough(cutoff);
    u.window.evictThrough(cutoff);

    let reason: RejectReason | undefined;
    let status: 403 | 429 = 403;
    if (s.dailyPerProject !== null && this.project.admitted >= s.dailyPerProject) reason = 'quotaExceeded';
    else if (s.projectPerMinute !== null && this.project.window.size >= s.projectPerMinute) {
      reason = 'rateLimitExceeded';
      status = s.projectLimitStatus === 'alternate' ? (this.rejected.rateLimitExceeded % 2 === 0 ? 403 : 429) : s.projectLimitStatus;
    } else if (s.userPerMinute !== null && u.window.size >= s.userPerMinute) reason = 'userRateLimitExceeded';

    const bucket = this.bucketAt(t);
    if (reason !== undefined) {
      this.rejected[reason]++;
      this.project.rejected++;
      u.rejected++;
      bucket.rejected++;
      return rateLimited(status, reason);
    }
    this.project.window.push(t);
    u.window.push(t);
    this.project.admitted++;
    u.admitted++;
    bucket.admitted++;
    // The window ending now holds exactly `size` admissions; a window's count only rises at an admission, so
    // the maximum over these is the exact peak over every window position.
    if (this.project.window.size > this.project.peak) this.project.peak = this.project.window.size;
    if (u.window.size > u.peak) u.peak = u.window.size;
    if (u.peak > this.peakUser) this.peakUser = u.peak;
    return undefined;
  }

  private bucketAt(t: number): Bucket {
    const len = this.settings.windowMs;
    const start = this.bucketEpoch + Math.floor((t - this.bucketEpoch) / len) * len;
    const lastBucket = this.buckets[this.buckets.length - 1];
    if (lastBucket && lastBucket.start === start) return lastBucket;
    const b: Bucket = { start, wall: Date.now() - (t - start), admitted: 0, rejected: 0 };
    this.buckets.push(b);
    if (this.buckets.length > PER_MINUTE_BUCKETS) this.buckets.shift();
    return b;
  }

  snapshot(): Record<string, unknown> {
    const t = this.now();
    const cutoff = t - this.settings.windowMs;
    this.project.window.evictThrough(cutoff);
    const users: Record<string, unknown> = {};
    for (const [email, u] of this.users) {
      u.window.evictThrough(cutoff);
      users[email] = { admitted: u.admitted, rejected: u.rejected, peakPerMinute: u.peak, currentPerMinute: u.window.size };
    }
    return {
      ...this.settings,
      admitted: this.project.admitted,
      rejected: { ...this.rejected },
      peakPerMinute: this.project.peak,
      peakUserPerMinute: this.peakUser,
      currentPerMinute: this.project.window.size,
      dailyRemaining: this.settings.dailyPerProject === null ? null : Math.max(0, this.settings.dailyPerProject - this.project.admitted),
      users,
      perMinute: this.buckets.map((b) => ({ start: new Date(b.wall).toISOString(), admitted: b.admitted, rejected: b.rejected })),
    };
  }
}
