// Rebuild runs: re-deriving owners' blocked times from their stored sources when the rules change
// (a new RULES_VERSION, at boot) or when asked (CLI, admin API). One owner per transaction, taken in
// id order; the run row keeps the cursor, so any number of processors (the job in every service
// process, a CLI) share one run without doing an owner twice, and an interrupted run resumes.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { availabilityRebuilds, availabilitySources, type AvailabilityRebuild } from '../../schema/availability.ts';
import { ownerByExternalId } from './busy.ts';
import { horizonAt } from './horizon.ts';
import { isDeadlock } from './preferences.ts';
import { groupSeries, rebuildSeries } from './rebuild.ts';
import { RULES_VERSION } from './rules-version.ts';
import { deleteOrphanBlockedTimes, fromSourceRow, loadOwnerSources, lockOwnerSeries, readPreferences } from './store.ts';
import { rebuildJob } from './jobs.ts';

/** A rebuild job works this long, then queues its own continuation (no job outlives its expiry). */
const REBUILD_SLICE_MS = 60_000;

export type RebuildRun = AvailabilityRebuild;

/**
 * One owner's blocked times re-derived from its sources. The series rows are locked first, then the
 * sources (FOR UPDATE): a sync page changing a series either finishes before this reads it, or
 * waits and rebuilds it again after; a deadlock with it aborts one side, which retries.
 */
export async function rebuildOwner(tx: Executor, ctx: Ctx, ownerId: string): Promise<{ series: number; blockedTimes: number }> {
  await lockOwnerSeries(tx, ownerId);
  const rows = await loadOwnerSources(tx, ownerId, { forUpdate: true });
  const prefs = await readPreferences(tx, ownerId);
  const groups = groupSeries(rows.map((r) => ({ ...r, source: fromSourceRow(r) })));
  // Every blocked time is re-derived: those of no known series go (the sources are locked, so none
  // is being added to them; a series a sync commits meanwhile has its source, and stays).
  await deleteOrphanBlockedTimes(tx, ownerId);
  return rebuildSeries(tx, ctx, groups, () => prefs, horizonAt(ctx.clock.now(), ctx.config.availability.horizonDays));
}

async function ownersWithSources(db: Executor, ownerId: string | null): Promise<number> {
  const s = availabilitySources;
  const [row] = await db
    .select({ n: sql<number>`count(distinct ${s.ownerId})::int` })
    .from(s)
    .where(ownerId ? eq(s.ownerId, ownerId) : sql`true`);
  return Number(row?.n ?? 0);
}

/** Queues the processing of a run (one queued and one running per run at most). */
export async function enqueueRebuild(ctx: Ctx, rebuildId: string, tx?: Executor): Promise<void> {
  await rebuildJob.send(ctx, { rebuildId }, { singletonKey: rebuildId, ...(tx ? { tx } : {}) });
}

/** The rebuild job: one slice of the run, then its continuation if the run is not finished. */
export async function runRebuildJob(ctx: Ctx, data: { rebuildId: string }): Promise<RebuildProgress> {
  const p = await processRebuild(ctx, data.rebuildId, { budgetMs: REBUILD_SLICE_MS });
  if (!p.finished) await enqueueRebuild(ctx, data.rebuildId);
  return p;
}

/** A new manual run for every owner, or for one (`externalOwnerId`). `background`: a job processes it. */
export async function startRebuild(ctx: Ctx, input: { externalOwnerId?: string; background: boolean }): Promise<RebuildRun> {
  let ownerId: string | null = null;
  if (input.externalOwnerId !== undefined) {
    const owner = await ownerByExternalId(ctx, input.externalOwnerId);
    if (owner.status === 'unlinked') throw new AppError('NOT_FOUND', `owner ${input.externalOwnerId} is unlinked: its frozen blocked times do not rebuild`);
    ownerId = owner.id;
  }
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const total = await ownersWithSources(tx, ownerId);
    const [run] = await tx
      .insert(availabilityRebuilds)
      .values({ reason: 'manual', rulesVersion: RULES_VERSION, ownerId, total, startedAt: now, updatedAt: now })
      .returning();
    if (input.background) await enqueueRebuild(ctx, run!.id, tx);
    return run!;
  });
}

/**
 * At boot: a run for a rules version no run has covered yet (one per version, however many processes
 * start together; none needed on an empty database), then every unfinished run queued again.
 */
export async function resumeRebuilds(ctx: Ctx): Promise<void> {
  const now = ctx.clock.now().toISOString();
  const r = availabilityRebuilds;
  await ctx.db.execute(sql`
    with n as (select count(distinct owner_id)::int as total from ${availabilitySources})
    insert into ${r} (reason, rules_version, total, started_at, updated_at, finished_at)
    select 'rules', ${RULES_VERSION}, n.total, ${now}::timestamptz, ${now}::timestamptz, case when n.total = 0 then ${now}::timestamptz end from n
    where not exists (select 1 from ${r} where ${r.reason} = 'rules' and ${r.rulesVersion} >= ${RULES_VERSION})
    on conflict (rules_version) where reason = 'rules' do nothing`);
  const open = await ctx.db.select({ id: r.id }).from(r).where(isNull(r.finishedAt));
  for (const run of open) await enqueueRebuild(ctx, run.id);
}

export interface RebuildProgress {
  done: number;
  total: number;
  finished: boolean;
}

type Step = { kind: 'finished'; run: RebuildRun } | { kind: 'owner'; run: RebuildRun };

/** One owner of the run, in one transaction holding the run row: the next owner after the cursor. */
async function step(ctx: Ctx, rebuildId: string): Promise<Step> {
  return ctx.db.transaction(async (tx) => {
    const r = availabilityRebuilds;
    const [run] = await tx.select().from(r).where(eq(r.id, rebuildId)).for('update');
    if (!run) throw new AppError('NOT_FOUND', `no availability rebuild ${rebuildId}`);
    if (run.finishedAt) return { kind: 'finished', run };
    const s = availabilitySources;
    const [next] = await tx
      .select({ ownerId: s.ownerId })
      .from(s)
      .where(and(run.cursor ? sql`${s.ownerId} > ${run.cursor}` : sql`true`, run.ownerId ? eq(s.ownerId, run.ownerId) : sql`true`))
      .orderBy(s.ownerId)
      .limit(1);
    const now = ctx.clock.now();
    if (!next) {
      // Owners unlinked since the run started drop out of its total.
      const [done] = await tx.update(r).set({ finishedAt: now, updatedAt: now, total: run.done, lastError: null }).where(eq(r.id, run.id)).returning();
      return { kind: 'finished', run: done! };
    }
    await rebuildOwner(tx, ctx, next.ownerId);
    const [moved] = await tx
      .update(r)
      .set({ cursor: next.ownerId, done: sql`${r.done} + 1`, total: sql`greatest(${r.total}, ${r.done} + 1)`, updatedAt: now })
      .where(eq(r.id, run.id))
      .returning();
    return { kind: 'owner', run: moved! };
  });
}

/**
 * Processes a run until it is finished, or `budgetMs` has passed (the job hands the rest to its next
 * run). Each owner is retried on a deadlock with the sync; any other failure is recorded on the run
 * and thrown (the job retries; the cursor keeps what is done).
 */
export async function processRebuild(
  ctx: Ctx,
  rebuildId: string,
  opts: { budgetMs?: number; onProgress?: (p: RebuildProgress) => void } = {},
): Promise<RebuildProgress> {
  const started = Date.now();
  for (;;) {
    let result: Step | undefined;
    for (let attempt = 1; !result; attempt++) {
      try {
        result = await step(ctx, rebuildId);
      } catch (err) {
        if (isDeadlock(err) && attempt < 5) {
          ctx.log.warn({ rebuildId, attempt }, 'availability rebuild met a deadlock; retrying the owner');
          continue;
        }
        await ctx.db
          .update(availabilityRebuilds)
          .set({ lastError: err instanceof Error ? err.message.slice(0, 500) : String(err), updatedAt: ctx.clock.now() })
          .where(eq(availabilityRebuilds.id, rebuildId));
        throw err;
      }
    }
    const progress = { done: result.run.done, total: result.run.total, finished: result.kind === 'finished' };
    opts.onProgress?.(progress);
    if (progress.finished) return progress;
    if (opts.budgetMs !== undefined && Date.now() - started >= opts.budgetMs) return progress;
  }
}

/** The newest runs first. */
export async function listRebuilds(ctx: Ctx, input: { limit: number }): Promise<RebuildRun[]> {
  return ctx.db.select().from(availabilityRebuilds).orderBy(desc(availabilityRebuilds.startedAt), desc(availabilityRebuilds.id)).limit(input.limit);
}
