// Google's Calendar quota, kept by calwatch itself: a budget per project (GOOGLE_QUOTA_PER_MINUTE)
// and per Google user (GOOGLE_USER_QUOTA_PER_MINUTE), token buckets in the database so that every
// process on it shares them, taken before each Calendar request (src/google's client interceptor).
//
// Google counts "per minute" over a sliding window (Calendar guide "Manage quotas"). A bucket that
// holds at most `burst` tokens and refills at (limit - burst) per minute admits at most
// burst + (limit - burst) = limit requests in any 60 s: the limit is never exceeded, whatever the
// window's phase, and a steady load runs at (limit - burst) / limit of it (98-99 %).
//
// Out of budget, a caller waits its turn (it does not fail). Work someone waits for goes first:
// background takers leave a reserve in each bucket that only interactive takers may spend, so as
// tokens trickle back the interactive ones get them. The reserve shrinks as a background taker
// waits (gone after BACKGROUND_PATIENCE_MS): a user whose own changes use the whole budget still
// gets their channels renewed and stopped. A quotaExceeded answer (a daily limit) pauses
// the budget it names: 5 minutes, doubling to an hour, until a request succeeds.
import { sql } from 'drizzle-orm';
import type { Database } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { googleQuotaBuckets } from '../../schema/quota.ts';

export type QuotaPriority = 'interactive' | 'background';

export interface QuotaLimits {
  projectPerMinute: number;
  userPerMinute: number;
  /** Length of Google's window: 60 s. Shorter only in tests, against an emulator set alike. */
  windowSeconds?: number;
}

export interface QuotaBudgetStatus {
  key: string;
  perMinute: number;
  tokens: number;
  pausedUntil: Date | null;
  pausedReason: string | null;
}

export interface QuotaStatus {
  projectPerMinute: number;
  userPerMinute: number;
  /** Requests taken by this process, and how long they waited in all. */
  taken: number;
  waited: number;
  waitedMs: number;
  project: QuotaBudgetStatus | null;
  /** User budgets paused by a daily limit. */
  pausedUsers: QuotaBudgetStatus[];
}

/** Share of each bucket's burst that only interactive work may spend. */
const INTERACTIVE_RESERVE = 0.2;
/** A background taker that has waited this long competes as an equal (no starvation). */
const BACKGROUND_PATIENCE_MS = 2000;
/** A wait longer than this is handed back to the job queue (a retry at that time) instead of held. */
export const QUOTA_MAX_HOLD_MS = 60_000;
const FIRST_PAUSE_SECONDS = 300;
const MAX_PAUSE_SECONDS = 3600;

interface Shape {
  burst: number;
  /** Tokens per second. */
  rate: number;
}

/** Burst one second's worth (at least 1); refill the rest of the window's limit over the window. */
export function bucketShape(perWindow: number, windowSeconds = 60): Shape {
  const burst = Math.max(1, Math.floor(perWindow / windowSeconds));
  return { burst, rate: Math.max(perWindow - burst, 1) / windowSeconds };
}

/** Tokens a taker needs in a bucket: one, plus the interactive reserve for background work (never the whole burst). */
function need(shape: Shape, reserve: number): number {
  return 1 + Math.min(shape.burst - 1, Math.floor(shape.burst * reserve));
}

export class GoogleQuota {
  private readonly project: Shape;
  private readonly user: Shape;
  private readonly known = new Set<string>();
  private taken = 0;
  private waited = 0;
  private waitedMs = 0;
  private stopped = false;

  constructor(
    private readonly db: Database,
    readonly limits: QuotaLimits,
    private readonly onWait?: (priority: QuotaPriority) => void,
  ) {
    this.project = bucketShape(limits.projectPerMinute, limits.windowSeconds);
    this.user = bucketShape(limits.userPerMinute, limits.windowSeconds);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Takes one request from the project's budget and the user's, waiting for both. A wait beyond
   * QUOTA_MAX_HOLD_MS (a paused budget) throws a retryable UPSTREAM_RATE_LIMITED with the time.
   */
  async take(userKey: string, priority: QuotaPriority = 'background'): Promise<void> {
    const ukey = `user:${userKey}`;
    await this.ensure(ukey);
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      const patience = Math.max(0, 1 - (performance.now() - started) / BACKGROUND_PATIENCE_MS);
      const reserve = priority === 'interactive' ? 0 : INTERACTIVE_RESERVE * patience;
      const waitMs = await this.tryTake(ukey, reserve);
      if (waitMs === 0) {
        this.taken++;
        if (attempt > 0) {
          this.onWait?.(priority);
          this.waited++;
          this.waitedMs += performance.now() - started;
        }
        return;
      }
      const heldMs = performance.now() - started;
      if (this.stopped || heldMs + waitMs > QUOTA_MAX_HOLD_MS) {
        throw new AppError('UPSTREAM_RATE_LIMITED', 'Google quota: budget exhausted or paused; retrying later', {
          retryAfterSeconds: Math.ceil(waitMs / 1000),
          reason: 'calwatchQuota',
        });
      }
      // Jittered so that waiters of many processes do not all come back in the same millisecond.
      await Bun.sleep(Math.min(waitMs, 1000) * (1 + Math.random() * 0.25));
    }
  }

  /** One statement: both buckets refilled, locked in key order, and taken from if both can give. */
  private async tryTake(ukey: string, reserve: number): Promise<number> {
    const p = this.project;
    const u = this.user;
    const [row] = await this.db.execute<{ ok: boolean; wait_ms: number }>(sql`
      with shape(key, burst, rate, need) as (
        values ('project', ${p.burst}::float8, ${p.rate}::float8, ${need(p, reserve)}::float8),
               (${ukey}, ${u.burst}::float8, ${u.rate}::float8, ${need(u, reserve)}::float8)
      ),
      cur as (
        select b.key, s.rate, s.need,
               least(s.burst, b.tokens + extract(epoch from clock_timestamp() - b.refilled_at) * s.rate) as avail,
               greatest(0, extract(epoch from b.paused_until - clock_timestamp()) * 1000) as paused_ms
        from ${googleQuotaBuckets} b join shape s on s.key = b.key
        order by b.key
        for update of b
      ),
      verdict as (
        select bool_and(avail >= need and paused_ms = 0) as ok,
               max(greatest(paused_ms, case when avail >= need then 0 else (need - avail) / rate * 1000 end)) as wait_ms
        from cur
      ),
      took as (
        update ${googleQuotaBuckets} b set tokens = cur.avail - 1, refilled_at = clock_timestamp()
        from cur, verdict where b.key = cur.key and verdict.ok
        returning b.key
      )
      select verdict.ok, verdict.wait_ms::float8 as wait_ms, (select count(*) from took)::int as n from verdict`);
    if (!row) return 1000;
    return row.ok ? 0 : Math.max(1, Math.ceil(Number(row.wait_ms)));
  }

  private async ensure(ukey: string): Promise<void> {
    if (this.known.has(ukey) && this.known.has('project')) return;
    await this.db.execute(sql`
      insert into ${googleQuotaBuckets} (key, tokens) values ('project', ${this.project.burst}), (${ukey}, ${this.user.burst})
      on conflict (key) do nothing`);
    this.known.add('project');
    if (this.known.size > 100_000) this.known.clear();
    this.known.add(ukey);
  }

  /**
   * Google answered a rate limit anyway (another client of the project, a quota lowered in the
   * console): the budget it names is emptied for every process, so that all of them slow down.
   */
  async exhausted(userKey: string, reason: string): Promise<void> {
    const key = reason === 'userRateLimitExceeded' ? `user:${userKey}` : 'project';
    await this.db.execute(sql`update ${googleQuotaBuckets} set tokens = least(tokens, 0), refilled_at = clock_timestamp() where key = ${key}`);
  }

  /**
   * Google answered quotaExceeded (a daily limit): the budget pauses, longer each time in a row.
   * Returns the seconds the budget stays paused (for the job queue's retry).
   */
  async pause(userKey: string, reason: string, message: string): Promise<number> {
    const key = reason === 'userRateLimitExceeded' ? `user:${userKey}` : 'project';
    await this.db.execute(sql`
      update ${googleQuotaBuckets} set
        paused_until = clock_timestamp() + make_interval(secs => least(${MAX_PAUSE_SECONDS}, ${FIRST_PAUSE_SECONDS} * power(2, pause_streak))),
        paused_reason = ${message.slice(0, 500)},
        pause_streak = pause_streak + 1
      where key = ${key} and (paused_until is null or paused_until < clock_timestamp())`);
    this.pauseSeen = true;
    const [row] = await this.db.execute<{ s: number | null }>(sql`
      select greatest(0, extract(epoch from paused_until - clock_timestamp()))::float8 as s from ${googleQuotaBuckets} where key = ${key}`);
    return Math.ceil(Number(row?.s ?? 0));
  }

  /** A request went through: a pause streak is over. */
  async succeeded(): Promise<void> {
    if (!this.pauseSeen) return;
    this.pauseSeen = false;
    await this.db.execute(sql`update ${googleQuotaBuckets} set pause_streak = 0, paused_reason = null where pause_streak > 0 and (paused_until is null or paused_until < clock_timestamp())`);
  }

  /** Set when this process paused a budget; cleared by the next success. */
  pauseSeen = false;

  async status(): Promise<QuotaStatus> {
    const rows = await this.db.execute<{ key: string; tokens: number; paused_until: Date | string | null; paused_reason: string | null }>(sql`
      select key, tokens, paused_until, paused_reason from ${googleQuotaBuckets}
      where key = 'project' or paused_until > clock_timestamp() order by key limit 101`);
    const view = (r: (typeof rows)[number]): QuotaBudgetStatus => ({
      key: r.key,
      perMinute: r.key === 'project' ? this.limits.projectPerMinute : this.limits.userPerMinute,
      tokens: Number(r.tokens),
      pausedUntil: r.paused_until ? new Date(r.paused_until) : null,
      pausedReason: r.paused_until && new Date(r.paused_until) > new Date() ? r.paused_reason : null,
    });
    const all = [...rows].map(view);
    return {
      projectPerMinute: this.limits.projectPerMinute,
      userPerMinute: this.limits.userPerMinute,
      taken: this.taken,
      waited: this.waited,
      waitedMs: Math.round(this.waitedMs),
      project: all.find((b) => b.key === 'project') ?? null,
      pausedUsers: all.filter((b) => b.key !== 'project' && b.pausedUntil && b.pausedUntil > new Date()),
    };
  }
}
