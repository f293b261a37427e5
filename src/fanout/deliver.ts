// One delivery attempt (the `fanout.deliver` job): sign, POST, and record what happened. 2xx:
// delivered. 408, 429 and 5xx, network errors and timeouts: retried later (exponential backoff with
// jitter, Retry-After honoured) until the attempts run out. Any other answer, a redirect, or an
// address our policy refuses: dead at once. A dead delivery completes its job, so the deliveries
// behind it in the same key are not held back (see docs/fanout.md, "Order").
import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { decrypt } from '../crypto/index.ts';
import { AppError } from '../errors/index.ts';
import { deliveries, subscriptions, type Delivery, type Subscription } from '../../schema/fanout.ts';
import { postWebhook, type PostOutcome } from './http-post.ts';
import { signedHeaders } from './sign.ts';
import { nextDelaySeconds, parseRetryAfter } from './retry-schedule.ts';
import { deliverJob, DELIVER_EXPIRE_SECONDS, DELIVER_RETRY_LIMIT } from './jobs.ts';

/** The longest a subscriber may take to answer (an attempt's timeout is capped here). */
export const MAX_TIMEOUT_MS = 120_000;

export type AttemptVerdict =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; retryAfterSeconds?: number }
  | { kind: 'dead'; status: number | null; error: string };

const excerpt = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}...` : s);

export function judge(outcome: PostOutcome, now: Date): AttemptVerdict {
  switch (outcome.kind) {
    case 'refused':
      return { kind: 'dead', status: null, error: `refused: ${outcome.error}` };
    case 'network':
    case 'timeout':
      return { kind: 'retry', status: null, error: outcome.error };
    case 'response': {
      const { status } = outcome;
      if (status >= 200 && status < 300) return { kind: 'delivered', status };
      const said = outcome.body.trim() ? `: ${excerpt(outcome.body.trim())}` : '';
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterSeconds = status === 429 || status === 503 ? parseRetryAfter(outcome.retryAfter, now) : undefined;
        return { kind: 'retry', status, error: `HTTP ${status}${said}`, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
      }
      if (status >= 300 && status < 400) {
        return { kind: 'dead', status, error: `HTTP ${status} redirect to ${outcome.location ?? '?'} not followed` };
      }
      return { kind: 'dead', status, error: `HTTP ${status}${said}` };
    }
  }
}

/** Signs and sends one delivery once; no bookkeeping (shared by the job and by `subscriptions.test`). */
export async function sendOnce(ctx: Ctx, sub: Pick<Subscription, 'id' | 'url' | 'secretEnc'>, delivery: Pick<Delivery, 'id' | 'body'>): Promise<AttemptVerdict> {
  return sendWith(ctx, sub, openSecret(ctx, sub), delivery);
}

const openSecret = (ctx: Ctx, sub: Pick<Subscription, 'id' | 'secretEnc'>) => decrypt(ctx.keyring, sub.secretEnc, `subscriptions.secret_enc:${sub.id}`);

/**
 * One attempt with the secret already opened (a drain opens it once for its whole run). Every
 * attempt still resolves and checks the receiver's address and connects to that address
 * (postWebhook); connections to it are kept alive between attempts by the runtime's pool.
 */
async function sendWith(ctx: Ctx, sub: Pick<Subscription, 'url'>, secret: string, delivery: Pick<Delivery, 'id' | 'body'>): Promise<AttemptVerdict> {
  const now = ctx.clock.now();
  const headers = signedHeaders(secret, delivery.id, now, delivery.body, `calwatch-webhooks/${ctx.runtime.version}`);
  const outcome = await postWebhook({
    url: sub.url,
    headers,
    body: delivery.body,
    timeoutMs: Math.min(ctx.config.fanout.timeoutMs, MAX_TIMEOUT_MS),
    allowPrivate: ctx.config.fanout.allowPrivate,
  });
  return judge(outcome, ctx.clock.now());
}

export interface DeliverResult {
  deliveryId: string;
  outcome: 'delivered' | 'retry' | 'dead' | 'skipped';
  attempts?: number;
  /** Deliveries of the same stream sent after this one by the same job (see drainStream). */
  drained?: number;
  error?: string;
}

/** Bounds of one drain, so that a job ends well before it expires and other streams get the worker. */
export const DRAIN_MAX = 1000;
export const DRAIN_BUDGET_MS = 2000;
/** Pending deliveries of the stream read per statement, and recorded as delivered per statement. */
export const DRAIN_BATCH = 100;

/**
 * After a success the receiver is up: the same job goes on with the next pending deliveries of its
 * stream, in the queue's order, while they succeed at their first try (and never after a replay,
 * whose job sits elsewhere in that order). The stream is read DRAIN_BATCH deliveries per statement,
 * sent one after another (the next only once the previous one is acknowledged: that is the order),
 * and each batch's successes are recorded in one statement, their own jobs (still queued behind this
 * active one: the key admits no other) completed in one more: a stream of N changes costs about one
 * request per change and two statements per batch instead of a full job cycle each. Any other
 * answer stops the drain and leaves that delivery to its own job, which tries at once. A crash
 * between a POST and its batch's statement sends those deliveries again (at least once); a crash
 * after it leaves jobs that find their delivery delivered and skip it.
 */
async function drainStream(ctx: Ctx, sub: Subscription, head: Delivery, jobStarted: number): Promise<number> {
  const started = Date.now();
  let drained = 0;
  // One more attempt must always end before half the job's expiry.
  const worstAttemptMs = Math.min(ctx.config.fanout.timeoutMs, MAX_TIMEOUT_MS) + 5000;
  const inTime = () => Date.now() - started < DRAIN_BUDGET_MS && Date.now() - jobStarted + worstAttemptMs < (DELIVER_EXPIRE_SECONDS * 1000) / 2;
  const secret = openSecret(ctx, sub);
  let after = head.id;
  let stop = false;
  while (!stop && drained < DRAIN_MAX && inTime()) {
    // The stream's order: positions (commit order, see publish.ts), not the queue's (created_on).
    const next = await ctx.db
      .select()
      .from(deliveries)
      .where(
        and(
          eq(deliveries.streamKey, head.streamKey),
          eq(deliveries.status, 'pending'),
          sql`(${deliveries.position}, ${deliveries.createdAt}, ${deliveries.id}) > (select d.position, d.created_at, d.id from deliveries d where d.id = ${after})`,
        ),
      )
      .orderBy(...STREAM_ORDER)
      .limit(Math.min(DRAIN_BATCH, DRAIN_MAX - drained));
    if (next.length === 0) break;
    const sent: Array<{ id: string; jobId: string; at: string; status: number }> = [];
    for (const d of next) {
      if (d.replays > 0 || d.attempts > 0 || !d.jobId || drained + sent.length >= DRAIN_MAX || !inTime()) {
        stop = true;
        break;
      }
      const verdict = await sendWith(ctx, sub, secret, d);
      const now = ctx.clock.now();
      ctx.metrics.fanoutAttempts.inc({ outcome: verdict.kind === 'delivered' ? 'delivered' : 'drain_stopped' });
      if (verdict.kind !== 'delivered') {
        stop = true;
        break;
      }
      ctx.metrics.fanoutDeliveryLag.observe(Math.max(0, now.getTime() - d.occurredAt.getTime()) / 1000);
      sent.push({ id: d.id, jobId: d.jobId, at: now.toISOString(), status: verdict.status });
    }
    if (sent.length === 0) break;
    await recordDrained(ctx, sent);
    await ctx.jobs.boss.complete(deliverJob.name, sent.map((d) => d.jobId), { drainedBy: head.id }, { includeQueued: true });
    drained += sent.length;
    after = sent[sent.length - 1]!.id;
  }
  return drained;
}

/** One statement for a batch of drained deliveries, each with its own time and status. */
async function recordDrained(ctx: Ctx, sent: Array<{ id: string; at: string; status: number }>): Promise<void> {
  const list = (xs: Array<string | number>) => `{${xs.map((x) => `"${x}"`).join(',')}}`;
  await ctx.db.execute(sql`
    update deliveries d
       set status = 'delivered', attempts = 1, last_status = u.status, last_error = null, last_attempt_at = u.at, delivered_at = u.at
      from unnest(${list(sent.map((d) => d.id))}::uuid[], ${list(sent.map((d) => d.at))}::timestamptz[], ${list(sent.map((d) => d.status))}::int[]) as u(id, at, status)
     where d.id = u.id and d.status = 'pending'`);
}

const STREAM_ORDER = [asc(deliveries.position), asc(deliveries.createdAt), asc(deliveries.id)];

/**
 * pg-boss runs a key's jobs by (created_on, id), and created_on is the enqueuing transaction's
 * start: of two transactions publishing to one calendar, the one that started first comes first,
 * even when it committed last. Positions follow commit order (publish.ts). So a job first takes over
 * the earliest pending delivery of its stream, if that is not its own: the two jobs swap what they
 * carry (job_id), and the other job will carry this one's delivery. Only one job of a stream runs at
 * a time (key_strict_fifo), so nothing else moves these rows meanwhile. Replays stay out of it: a
 * replay is delivered at the tail of its stream.
 */
async function takeOverHead(ctx: Ctx, own: Delivery, jobId: string): Promise<Delivery> {
  const [head] = await ctx.db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.streamKey, own.streamKey),
        eq(deliveries.status, 'pending'),
        eq(deliveries.replays, 0),
        isNotNull(deliveries.jobId),
        sql`(${deliveries.position}, ${deliveries.createdAt}, ${deliveries.id}) < (${own.position}, ${own.createdAt.toISOString()}::timestamptz, ${own.id}::uuid)`,
      ),
    )
    .orderBy(...STREAM_ORDER)
    .limit(1);
  if (!head) return own;
  await ctx.db.execute(sql`
    update deliveries set job_id = case when id = ${own.id}::uuid then ${head.jobId}::uuid else ${jobId}::uuid end
     where id in (${own.id}::uuid, ${head.id}::uuid)`);
  ctx.log.debug({ jobId, deliveryId: head.id, handedOver: own.id }, 'fanout: an earlier delivery of the stream taken over');
  return { ...head, jobId };
}

/**
 * `drain` (default true) relies on the key_strict_fifo queue: no other job of the stream can be
 * active meanwhile. Off for a handler on any other queue.
 */
export async function deliverOnce(ctx: Ctx, deliveryId: string, job: { id: string }, opts: { drain?: boolean } = {}): Promise<DeliverResult> {
  const jobStarted = Date.now();
  // The delivery this job carries now: its own, or another of its stream's since a take-over.
  const [row] = await ctx.db
    .select({ delivery: deliveries, sub: subscriptions })
    .from(deliveries)
    .innerJoin(subscriptions, eq(subscriptions.id, deliveries.subscriptionId))
    .where(eq(deliveries.jobId, job.id));
  // Deleted with its subscription, already settled, or superseded by a replay's job.
  if (!row || row.delivery.status !== 'pending') return { deliveryId, outcome: 'skipped' };
  const { sub } = row;
  const delivery = row.delivery.replays === 0 ? await takeOverHead(ctx, row.delivery, job.id) : row.delivery;
  if (sub.status !== 'active') {
    await markDead(ctx, delivery, null, `subscription disabled: ${sub.disabledReason ?? 'no reason given'}`, { attempted: false });
    return { deliveryId: delivery.id, outcome: 'dead', error: 'subscription disabled' };
  }

  const verdict = await sendOnce(ctx, sub, delivery);
  const now = ctx.clock.now();
  ctx.metrics.fanoutAttempts.inc({ outcome: verdict.kind });
  if (verdict.kind === 'delivered') ctx.metrics.fanoutDeliveryLag.observe(Math.max(0, now.getTime() - delivery.occurredAt.getTime()) / 1000);
  const attempts = delivery.attempts + 1;
  const maxAttempts = Math.min(ctx.config.fanout.maxAttempts, DELIVER_RETRY_LIMIT);

  if (verdict.kind === 'delivered') {
    await ctx.db
      .update(deliveries)
      .set({ status: 'delivered', attempts, lastStatus: verdict.status, lastError: null, lastAttemptAt: now, nextAttemptAt: null, deliveredAt: now })
      .where(eq(deliveries.id, delivery.id));
    // The subscription row is shared by all its deliveries: write it only when its health changes
    // (or its last success is a minute old), not on every success.
    if (sub.failingSince || !sub.lastSuccessAt || now.getTime() - sub.lastSuccessAt.getTime() > 60_000) {
      await ctx.db.update(subscriptions).set({ lastSuccessAt: now, failingSince: null, updatedAt: now }).where(eq(subscriptions.id, sub.id));
    }
    const drained = opts.drain !== false && delivery.replays === 0 ? await drainStream(ctx, sub, delivery, jobStarted) : 0;
    return { deliveryId: delivery.id, outcome: 'delivered', attempts, ...(drained ? { drained } : {}) };
  }

  const disabled = await recordFailure(ctx, sub, verdict.error, now);
  if (verdict.kind === 'dead' || attempts >= maxAttempts || disabled) {
    const why =
      verdict.kind === 'dead'
        ? verdict.error
        : disabled
          ? `${verdict.error}; subscription disabled: ${disabled}`
          : `gave up after ${attempts} attempts: ${verdict.error}`;
    await markDead(ctx, delivery, verdict.status, why, { attempted: true });
    return { deliveryId: delivery.id, outcome: 'dead', attempts, error: why };
  }

  const delay = nextDelaySeconds(attempts, ctx.config.fanout.retryBaseSeconds, verdict.kind === 'retry' ? verdict.retryAfterSeconds : undefined);
  await ctx.db
    .update(deliveries)
    .set({ attempts, lastStatus: verdict.status, lastError: verdict.error, lastAttemptAt: now, nextAttemptAt: new Date(now.getTime() + delay * 1000) })
    .where(eq(deliveries.id, delivery.id));
  await ctx.jobs.setRetryDelay(deliverJob.name, job.id, delay);
  // Failing the job keeps it at the head of its key: nothing behind it overtakes it.
  throw new AppError('UPSTREAM_ERROR', `delivery ${delivery.id} attempt ${attempts} failed (${verdict.error}); retrying in ${Math.round(delay)} s`);
}

async function markDead(ctx: Ctx, delivery: Delivery, status: number | null, error: string, opts: { attempted: boolean }): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db
    .update(deliveries)
    .set({
      status: 'dead',
      attempts: opts.attempted ? delivery.attempts + 1 : delivery.attempts,
      ...(opts.attempted ? { lastStatus: status, lastAttemptAt: now } : {}),
      lastError: error,
      nextAttemptAt: null,
      deadAt: now,
    })
    .where(eq(deliveries.id, delivery.id));
}

/**
 * Notes a failed attempt on the subscription. Returns the reason when this failure disables it:
 * every attempt has failed for `disableAfterSeconds` (a day by default).
 */
async function recordFailure(ctx: Ctx, sub: Subscription, error: string, now: Date): Promise<string | undefined> {
  return ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(subscriptions).where(eq(subscriptions.id, sub.id)).for('update');
    if (!current) return undefined;
    const failingSince = current.failingSince ?? now;
    const failingForMs = now.getTime() - failingSince.getTime();
    const disable = current.status === 'active' && failingForMs >= ctx.config.fanout.disableAfterSeconds * 1000;
    const reason = disable
      ? `every delivery failed since ${failingSince.toISOString()} (${Math.round(failingForMs / 3600_000)} h); last error: ${error}`
      : undefined;
    await tx
      .update(subscriptions)
      .set({
        failingSince,
        lastFailureAt: now,
        lastError: error,
        updatedAt: now,
        ...(disable ? { status: 'disabled', disabledReason: reason, disabledAt: now } : {}),
      })
      .where(eq(subscriptions.id, sub.id));
    if (disable) ctx.log.warn({ subscriptionId: sub.id, reason }, 'subscription disabled');
    return reason;
  });
}
