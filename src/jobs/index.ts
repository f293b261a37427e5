// pg-boss in the same Postgres: declared jobs (name, zod payload, queue policy, retries, optional
// cron, a lazily loaded handler), each a typed handle whose `send` can join the caller's
// transaction (the outbox), and a way to wake the local worker at once instead of waiting for its
// next poll.
import { PgBoss, fromDrizzle, type QueuePolicy, type Job } from 'pg-boss';
import { sql as drizzleSql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Ctx } from '../context/index.ts';
import { afterCommit, type Executor } from '../db/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { isAppError } from '../errors/index.ts';

export interface JobInfo {
  id: string;
  name: string;
  /** How many times this job was retried before this attempt. */
  retryCount: number;
  /** True on the last attempt pg-boss will make. */
  lastAttempt: boolean;
  log: Logger;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  /** `<module>.<verb>`, also the pg-boss queue name. */
  name: string;
  schema: S;
  policy?: QueuePolicy;
  retryLimit?: number;
  /** Seconds; with `retryBackoff` the base of the exponential backoff (pg-boss adds jitter). */
  retryDelay?: number;
  retryBackoff?: boolean;
  retryDelayMax?: number;
  expireInSeconds?: number;
  /** Seconds without a heartbeat after which a running job counts as dead (default JOB_HEARTBEAT_SECONDS, at least 10). */
  heartbeatSeconds?: number;
  /** Parallel handlers in this process. */
  concurrency?: number;
  /** At most this many jobs of one group (SendOptions.group) run at once, across processes. */
  groupConcurrency?: number;

  /**
   * Jobs sent with `startAfter` by another process, or retried after a failure, that must start on
   * time: pg-boss sends no NOTIFY when a deferred job comes due, and with LISTEN/NOTIFY workers
   * otherwise poll only every 30 s. True: poll every JOBS_POLL_SECONDS even with LISTEN/NOTIFY on.
   * (A deferred job sent by this process wakes its worker when due, without a poll.)
   */
  pollDelayed?: boolean;
  /**
   * False: creating a job sends no Postgres NOTIFY. The sending process still wakes its own
   * workers (after the commit, `SendOptions.wake` of them); other processes find the job at their
   * next poll (JOBS_POLL_SECONDS). For a queue fed in bursts by many small transactions, where a
   * NOTIFY wakes every worker of every process for each of them (default true).
   */
  notify?: boolean;
  /** A cron expression (UTC): the job is sent with `cronData` on that schedule. */
  cron?: string;
  cronData?: z.input<S>;
  /**
   * Loads the handler, e.g. `() => import('./renew.ts').then((m) => m.runRenewJob)`: once per
   * process, on the first job of the queue. A module's jobs.ts then imports no handler file, so a
   * handler can send the jobs declared beside it without an import cycle.
   */
  handler: () => Promise<JobHandler<z.output<S>>>;
}

export type JobHandler<T> = (ctx: Ctx, data: T, job: JobInfo) => Promise<unknown>;

/**
 * A declared job: the one place that names its queue. Payloads are typed from the schema's input
 * (what `send` parses: defaults may be left out); the handler receives its output. `send` and the
 * worker both parse with the schema, so a payload built around the types (a cast, JSON) fails at
 * the sender, and one already queued under an older schema fails its job without retry.
 */
export interface JobHandle<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** What `Jobs.declare` takes (CalwatchModule.jobs lists the handles). */
  readonly definition: JobDefinition;
  /** Enqueues one job (inside `opts.tx` when given); null when pg-boss's policy collapsed it. */
  send(ctx: Pick<Ctx, 'jobs'>, data: z.input<S>, opts?: SendOptions): Promise<string | null>;
  /** Many jobs of this queue in one INSERT (inside `opts.tx` when given). */
  sendMany(ctx: Pick<Ctx, 'jobs'>, items: Array<SendManyItem<z.input<S>>>, opts?: SendManyOptions): Promise<void>;
  /** Wakes this process's workers for the queue now (see Jobs.wake). */
  wake(ctx: Pick<Ctx, 'jobs'>, count?: number): void;
}

/**
 * Every running job sends a heartbeat (pg-boss refreshes it every half period). A process killed
 * mid-job (SIGKILL, OOM, a lost machine) leaves its jobs `active`, and under the `stately`,
 * `singleton` and `key_strict_fifo` policies an active job holds its key (a calendar's syncs, a
 * group's swaps, a subscriber's stream) until it expires, up to an hour: found by the reliability
 * suite (tests/reliability/crash.test.ts). With a heartbeat, pg-boss's monitor fails such a job over
 * to its retry once the heartbeat is this stale. 10 s is pg-boss's minimum.
 */
export const JOB_HEARTBEAT_SECONDS = 10;
/** How often pg-boss looks for missed heartbeats and expired jobs (its default pass is every 60 s). */
export const JOB_MONITOR_SECONDS = 10;

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobHandle<S> {
  let loading: Promise<JobHandler<z.output<S>>> | undefined;
  // A failed import is not kept: the job's retry loads again.
  const handler = () =>
    (loading ??= def.handler().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
  const handle: JobHandle<S> = {
    name: def.name,
    // The payload type ends here: Jobs holds definitions of every schema side by side.
    definition: { ...def, handler } as unknown as JobDefinition,
    send: (ctx, data, opts) => ctx.jobs.send(handle, data, opts),
    sendMany: (ctx, items, opts) => ctx.jobs.sendMany(handle, items, opts),
    wake: (ctx, count) => ctx.jobs.wake(def.name, count),
  };
  return handle;
}

export interface SendOptions {
  /** Enqueue inside this transaction: the job exists only if the transaction commits. */
  tx?: Executor;
  singletonKey?: string;
  /** Seconds from now, or a date. */
  startAfter?: number | Date;
  id?: string;
  /** Higher runs first (pg-boss fetches by priority, then creation). See JOB_PRIORITY. */
  priority?: number;
  /** pg-boss group: with the queue's `groupConcurrency`, at most that many of one group run at once. */
  group?: { id: string; tier?: string };
  /** How many of this process's workers to wake for it, idle ones first (default: all of them). */
  wake?: number;
}

export type SendManyItem<T> = { data: T } & Omit<SendOptions, 'tx' | 'wake'>;
export type SendManyOptions = Pick<SendOptions, 'tx' | 'wake'>;

/**
 * Job priorities, shared by every queue: work someone waits for (a booking, a swap, a sync after a
 * push) before background work (first full syncs of a burst, catch-up, renewals, safety nets).
 */
export const JOB_PRIORITY = { interactive: 10, background: 0 } as const;

export interface QueueCounts {
  name: string;
  /** Ready to run now. */
  queued: number;
  /** Waiting for their start time (delayed renewals, spread syncs). */
  deferred: number;
  active: number;
  /** Failed once, waiting for their next attempt. */
  retrying: number;
  failed: number;
  oldestQueuedAgeSeconds: number | null;
}

export class Jobs {
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly workers = new Map<string, string[]>();
  /** Workers running a job right now. */
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(
    readonly boss: PgBoss,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  static async start(opts: { url: string; log: Logger; metrics: Metrics; embedded: boolean; poolMax?: number }): Promise<Jobs> {
    const boss = new PgBoss({
      connectionString: opts.url,
      schema: 'pgboss',
      max: opts.embedded ? Math.min(opts.poolMax ?? 4, 4) : (opts.poolMax ?? 10),
      // LISTEN/NOTIFY wakes workers in every process the moment a job is created.
      useListenNotify: !opts.embedded,
      superviseIntervalSeconds: JOB_MONITOR_SECONDS,
      monitorIntervalSeconds: JOB_MONITOR_SECONDS,
      openTelemetry: { enabled: false },
    } as ConstructorParameters<typeof PgBoss>[0]);
    boss.on('error', (err) => opts.log.error({ err }, 'pg-boss error'));
    await boss.start();
    return new Jobs(boss, opts.log, opts.metrics);
  }

  get queueNames(): string[] {
    return [...this.definitions.keys()].sort();
  }

  /** Creates the queues of these definitions (idempotent). */
  async declare(defs: JobDefinition[]): Promise<void> {
    const queues = await this.boss.getQueues();
    const existing = new Set(queues.map((q) => q.name));
    for (const def of defs) {
      if (this.definitions.has(def.name)) throw new Error(`job ${def.name} declared twice`);
      this.definitions.set(def.name, def);
      const options = {
        policy: def.policy ?? 'standard',
        retryLimit: def.retryLimit ?? 5,
        retryDelay: def.retryDelay ?? 2,
        retryBackoff: def.retryBackoff ?? true,
        retryDelayMax: def.retryDelayMax ?? 3600,
        expireInSeconds: def.expireInSeconds ?? 300,
        heartbeatSeconds: def.heartbeatSeconds ?? JOB_HEARTBEAT_SECONDS,
        notify: def.notify ?? true,
      };
      const current = queues.find((q) => q.name === def.name);
      if (current && current.heartbeatSeconds !== options.heartbeatSeconds) {
        // A queue created before heartbeats existed (or with another period): new jobs get this one.
        await this.boss.updateQueue(def.name, { heartbeatSeconds: options.heartbeatSeconds });
      }
      if (current && Boolean(current.notify) !== options.notify) await this.boss.updateQueue(def.name, { notify: options.notify });
      if (!existing.has(def.name)) {
        try {
          await this.boss.createQueue(def.name, options);
        } catch (err) {
          // Another process created it between our read and our create.
          if (!(await this.boss.getQueue(def.name))) throw err;
        }
      }
    }
  }

  /**
   * Starts the workers and cron schedules of every declared job, handing them this context.
   *
   * Every queue drains: a worker that has just run a job fetches the next one at once, and sleeps
   * its poll interval only when a fetch comes back empty. pg-boss skips its sleep only when a
   * worker is notified, and a NOTIFY that arrives while the worker is busy covers one fetch: a
   * burst of N jobs then drained at one job per slot per poll interval (30 s with LISTEN/NOTIFY).
   * pg-boss's own burst triggers do not cover it (`burstWhenBatchFull` is ignored at batchSize 1,
   * `burstWhenReadyExceeds` reads queue stats up to a minute old), so each slot is one pg-boss
   * worker that notifies itself after its job (`notifyWorker`).
   */
  async work(ctx: Ctx, pollSeconds: number): Promise<void> {
    for (const def of this.definitions.values()) {
      const slots = def.concurrency ?? 2;
      const ids: string[] = [];
      for (let slot = 0; slot < slots; slot++) {
        let self = '';
        const workerId = await this.boss.work(
          def.name,
          {
            batchSize: 1,
            localConcurrency: 1,
            pollingIntervalSeconds: pollSeconds,
            ...(def.pollDelayed ? { notifyPollingIntervalSeconds: pollSeconds } : {}),
            ...(def.groupConcurrency ? { groupConcurrency: def.groupConcurrency } : {}),
            perJobResults: true,
            includeMetadata: true,
          },
          async (jobs) => {
            this.busy.add(self);
            const results = await Promise.all(jobs.map((job) => this.run(ctx, def, job))).finally(() => this.busy.delete(self));
            // Notified while busy, the worker skips its sleep once pg-boss has recorded these results.
            if (!this.stopped) this.boss.notifyWorker(self);
            return results;
          },
        );
        self = workerId;
        ids.push(workerId);
      }
      this.workers.set(def.name, ids);
      if (def.cron) await this.boss.schedule(def.name, def.cron, (def.cronData ?? {}) as object, { tz: 'UTC' });
    }
  }

  private async run(
    ctx: Ctx,
    def: JobDefinition,
    job: Job<unknown> & { retryCount: number; retryLimit: number },
  ): Promise<{ id: string; status: 'completed' | 'failed' | 'deadletter'; output?: object }> {
    const log = this.log.child({ job: job.id, queue: def.name, attempt: job.retryCount });
    const started = performance.now();
    const parsed = def.schema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ issues: parsed.error.issues }, 'job payload invalid; failing without retry');
      this.metrics.jobs.inc({ queue: def.name, outcome: 'invalid' });
      return { id: job.id, status: 'deadletter', output: { error: 'invalid payload' } };
    }
    try {
      const handler = await def.handler();
      const output = await handler(ctx, parsed.data, {
        id: job.id,
        name: def.name,
        retryCount: job.retryCount,
        lastAttempt: job.retryCount >= job.retryLimit,
        log,
      });
      this.metrics.jobs.inc({ queue: def.name, outcome: 'completed' });
      return { id: job.id, status: 'completed', ...(output && typeof output === 'object' ? { output } : {}) };
    } catch (err) {
      const final = isAppError(err) && !err.retryable;
      log[final ? 'warn' : 'error']({ err: serializeError(err) }, final ? 'job failed for good' : 'job failed; will retry');
      this.metrics.jobs.inc({ queue: def.name, outcome: final ? 'final' : 'retry' });
      return {
        id: job.id,
        status: final ? 'deadletter' : 'failed',
        output: { error: err instanceof Error ? err.message : String(err) },
      };
    } finally {
      this.metrics.jobDuration.observe({ queue: def.name }, (performance.now() - started) / 1000);
    }
  }

  /**
   * Enqueues one job and wakes this process's workers for it: at once, after the commit of
   * `opts.tx`, or when a deferred job comes due (other processes hear of it through LISTEN/NOTIFY,
   * or poll on PGlite). Through the job's handle (`job.send(ctx, data)`), which names its queue.
   */
  async send<S extends z.ZodType>(job: JobHandle<S>, data: z.input<S>, opts: SendOptions = {}): Promise<string | null> {
    const name = job.name;
    const def = this.definitions.get(name);
    if (!def) throw new Error(`unknown job ${name}`);
    const payload = def.schema.parse(data) as object;
    const id = await this.boss.send(name, payload, {
      ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
      ...(opts.startAfter !== undefined ? { startAfter: opts.startAfter } : {}),
      ...(opts.id ? { id: opts.id } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.group ? { group: opts.group } : {}),
      ...(opts.tx ? { db: fromDrizzle(opts.tx as never, drizzleSql as never) } : {}),
    });
    this.wakeFor(name, opts.tx, [opts.startAfter], opts.wake);
    return id;
  }

  /** Many jobs of one queue in one INSERT (inside `opts.tx` when given): for fan-outs of hundreds. */
  async sendMany<S extends z.ZodType>(job: JobHandle<S>, jobs: Array<SendManyItem<z.input<S>>>, opts: SendManyOptions = {}): Promise<void> {
    const name = job.name;
    const def = this.definitions.get(name);
    if (!def) throw new Error(`unknown job ${name}`);
    if (jobs.length === 0) return;
    await this.boss.insert(
      name,
      jobs.map((j) => ({
        data: def.schema.parse(j.data) as object,
        ...(j.singletonKey ? { singletonKey: j.singletonKey } : {}),
        ...(j.startAfter !== undefined ? { startAfter: j.startAfter } : {}),
        ...(j.id ? { id: j.id } : {}),
        ...(j.priority !== undefined ? { priority: j.priority } : {}),
        ...(j.group ? { group: j.group } : {}),
      })),
      opts.tx ? { db: fromDrizzle(opts.tx as never, drizzleSql as never) } : {},
    );
    this.wakeFor(name, opts.tx, jobs.map((j) => j.startAfter), opts.wake);
  }

  /** Wakes the local workers for jobs just sent: after the commit, and again as deferred ones come due. */
  private wakeFor(name: string, tx: Executor | undefined, startAfters: Array<number | Date | undefined>, count?: number): void {
    const now = Date.now();
    const due = new Set<number>();
    let immediate = false;
    for (const s of startAfters) {
      const at = s === undefined ? now : typeof s === 'number' ? now + s * 1000 : s.getTime();
      if (at <= now) immediate = true;
      // Timers within the next hour only (later ones are found by the poll), one per distinct 10 ms.
      else if (at - now <= 3_600_000 && due.size < 100) due.add(Math.ceil(at / 10) * 10);
    }
    const arm = () => {
      if (this.stopped) return;
      if (immediate) this.wake(name, count);
      for (const at of due) setTimeout(() => this.wake(name, count), Math.max(0, at - Date.now()) + 5).unref?.();
    };
    if (tx) afterCommit(tx, arm);
    else arm();
  }

  /**
   * Called by a handler about to fail its (active) job: the retry starts `seconds` after the failure,
   * replacing pg-boss's own backoff for that retry (a Retry-After header, a handler's own schedule).
   */
  async setRetryDelay(name: string, id: string, seconds: number): Promise<void> {
    await this.boss
      .getDb()
      .executeSql(`UPDATE pgboss.job SET retry_delay = $1, retry_backoff = false WHERE name = $2 AND id = $3 AND state = 'active'`, [
        Math.max(0, Math.round(seconds)),
        name,
        id,
      ]);
  }

  /**
   * Wakes this process's workers for a queue now, rather than at their next poll: `count` of them,
   * idle ones first (a busy one notified fetches again right after its job), or all.
   */
  wake(name: string, count?: number): void {
    if (this.stopped) return;
    const ids = this.workers.get(name) ?? [];
    const chosen = count === undefined ? ids : [...ids.filter((id) => !this.busy.has(id)), ...ids.filter((id) => this.busy.has(id))].slice(0, Math.max(1, count));
    for (const id of chosen) this.boss.notifyWorker(id);
  }

  /** Per declared queue: what waits, runs, retries and failed, and how old the oldest waiting job is. */
  async counts(): Promise<QueueCounts[]> {
    const names = this.queueNames;
    const { rows } = await this.boss.getDb().executeSql(
      `select name,
         count(*) filter (where state = 'created' and start_after <= now())::int as queued,
         count(*) filter (where state = 'created' and start_after > now())::int as deferred,
         count(*) filter (where state = 'active')::int as active,
         count(*) filter (where state = 'retry')::int as retrying,
         count(*) filter (where state = 'failed')::int as failed,
         extract(epoch from now() - min(start_after) filter (where state in ('created', 'retry') and start_after <= now()))::float8 as oldest
       from pgboss.job where name = any($1::text[]) group by name`,
      [names],
    );
    const byName = new Map(rows.map((r: Record<string, unknown>) => [r.name as string, r]));
    return names.map((name) => {
      const r = byName.get(name);
      const n = (k: string) => Number(r?.[k] ?? 0);
      return {
        name,
        queued: n('queued'),
        deferred: n('deferred'),
        active: n('active'),
        retrying: n('retrying'),
        failed: n('failed'),
        oldestQueuedAgeSeconds: r?.oldest == null ? null : Math.max(0, Number(r.oldest)),
      };
    });
  }

  /** Stops fetching, lets running handlers finish (bounded by timeoutMs), closes pg-boss. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}

export function serializeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    return { type: err.name, message: err.message, ...(isAppError(err) ? { code: err.code } : {}) };
  }
  return { message: String(err) };
}
