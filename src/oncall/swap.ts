// Swapping two shifts: a small saga whose log is the `swaps` row.
//
//   decide   (one transaction, group row locked): pick the partner with findShiftForSwap on a fresh
//            read, insert the swap `pending` with a lease. A unique index allows one unfinished
//            swap per group, so two declines at once are decided one after the other.
//   forward  patch the declined event (decliner -> partner), then the partner's event (partner ->
//            decliner). Each patch is idempotent (an event already carrying the new assignee is
//            left alone), so a retried or resumed saga just runs the steps again.
//   complete (one transaction) only once Google accepted both: both shifts change hands, the swap
//            is `completed`, the Slack message and the fan-out event are enqueued.
//   undo     a step failing for good (event deleted, access lost...) turns the swap `compensating`:
//            both events are put back (idempotent too), then the swap is `aborted`.
// A transient failure releases the lease and fails the job, whose retry resumes where the row
// says; a crash leaves the lease to run out, and the retried job (or the repair cron) resumes.
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { getOwner } from '../links/index.ts';
import { publishDomainEvent } from '../fanout/index.ts';
import { shifts, swaps } from '../../schema/oncall.ts';
import { findShiftForSwap, swapRefusal } from './find-shift-for-swap.ts';
import { enqueueOncallMessage } from './notify.ts';
import { notifyJob, swapJob } from './jobs.ts';
import {
  groupById,
  membersOf,
  previousDecliners,
  shiftById,
  shiftsOfGroup,
  swapById,
  toSwapShift,
  unfinishedSwap,
  type OncallGroup,
  type Shift,
  type Swap,
} from './queries.ts';
import { reassignShiftEvent, shiftSummary, type Person } from './shift-events.ts';

/**
 * How long an executor holds a swap before another may take it over. It is renewed at every step
 * and by a timer while the executor lives (SWAP_LEASE_RENEW_MS), so a slow Google call never loses
 * it, while a killed executor's swap is taken over within this time (it was 120 s, renewed only per
 * step: a kill -9 between the two patches left the swap half done for two minutes; see
 * tests/reliability/crash.test.ts).
 */
export const SWAP_LEASE_MS = 30_000;
const SWAP_LEASE_RENEW_MS = 10_000;
/** After this many failed partners for one decline, the shift is reported uncovered. */
const MAX_ABORTED_PER_DECLINE = 3;

const leaseFrom = (ctx: Ctx) => new Date(ctx.clock.now().getTime() + SWAP_LEASE_MS);

/** Wakes the group's swap worker (one per group at a time: queue policy `stately` keyed by group). */
export async function enqueueGroupSwaps(ctx: Ctx, groupId: string, opts: { tx?: Executor; startAfter?: number } = {}): Promise<void> {
  await swapJob.send(ctx, { groupId }, { singletonKey: groupId, ...(opts.tx ? { tx: opts.tx } : {}), ...(opts.startAfter ? { startAfter: opts.startAfter } : {}) });
}

async function markUncovered(tx: Executor, ctx: Ctx, shift: Shift, log: Logger): Promise<void> {
  const [row] = await tx
    .update(shifts)
    .set({ status: 'uncovered', updatedAt: ctx.clock.now() })
    .where(and(eq(shifts.id, shift.id), eq(shifts.status, 'declined')))
    .returning();
  if (!row) return;
  log.info({ shiftId: shift.id, groupId: shift.groupId }, 'no colleague can swap: shift uncovered, asking for cover');
  await enqueueOncallMessage(tx, ctx, {
    groupId: shift.groupId,
    kind: 'cover',
    shiftId: shift.id,
    dedupeKey: `cover:${shift.id}:${shift.declinedBy ?? shift.assigneeEmail}:${shift.declinedOn ?? ''}`,
  });
}

type Claim = { kind: 'run'; swap: Swap } | { kind: 'busy'; retryInSeconds: number } | { kind: 'idle' };

/**
 * Under the group's lock: resume the group's unfinished swap if nobody holds it, else decide the
 * next declined shift (a swap to run, or uncovered). Everything is re-read here, never trusted
 * from the job that asked.
 */
async function claimNextSwap(ctx: Ctx, groupId: string, log: Logger): Promise<Claim> {
  return ctx.db.transaction(async (tx) => {
    const group = await groupById(tx, groupId, { forUpdate: true });
    if (!group) return { kind: 'idle' };
    const now = ctx.clock.now();
    const open = await unfinishedSwap(tx, groupId, { forUpdate: true });
    if (open) {
      if (open.leaseUntil && open.leaseUntil.getTime() > now.getTime()) {
        return { kind: 'busy', retryInSeconds: Math.min(3, Math.ceil((open.leaseUntil.getTime() - now.getTime()) / 1000)) };
      }
      const [taken] = await tx
        .update(swaps)
        .set({ leaseUntil: leaseFrom(ctx), attempts: open.attempts + 1 })
        .where(eq(swaps.id, open.id))
        .returning();
      log.info({ swapId: open.id, swapState: open.state, attempts: open.attempts + 1 }, 'resuming an unfinished swap');
      return { kind: 'run', swap: taken! };
    }
    const all = await shiftsOfGroup(tx, groupId, { from: now });
    const declined = all.filter((s) => s.status === 'declined' && s.startAt.getTime() > now.getTime());
    for (const d of declined) {
      const tried = await tx
        .select({ swapShiftId: swaps.swapShiftId })
        .from(swaps)
        .where(and(eq(swaps.declinedShiftId, d.id), eq(swaps.state, 'aborted'), eq(swaps.fromEmail, d.assigneeEmail)));
      const partner =
        tried.length >= MAX_ABORTED_PER_DECLINE
          ? undefined
          : findShiftForSwap({
              declined: toSwapShift(d),
              shifts: all.map(toSwapShift),
              now,
              excludeAssignees: await previousDecliners(tx, d.id),
              excludeShiftIds: tried.map((t) => t.swapShiftId),
            });
      const p = partner && all.find((s) => s.id === partner.id);
      if (!p) {
        await markUncovered(tx, ctx, d, log);
        d.status = 'uncovered';
        continue;
      }
      const [swap] = await tx
        .insert(swaps)
        .values({
          groupId,
          kind: 'auto',
          declinedShiftId: d.id,
          swapShiftId: p.id,
          fromEmail: d.assigneeEmail,
          toEmail: p.assigneeEmail,
          declinedEventId: d.googleEventId,
          swapEventId: p.googleEventId,
          state: 'pending',
          leaseUntil: leaseFrom(ctx),
          attempts: 1,
          createdAt: now,
        })
        .returning();
      log.info({ swapId: swap!.id, declinedShiftId: d.id, swapShiftId: p.id, from: d.assigneeEmail, to: p.assigneeEmail }, 'swap decided');
      return { kind: 'run', swap: swap! };
    }
    return { kind: 'idle' };
  });
}

/** The group's swap worker: resumes or decides swaps one at a time until nothing is left. */
export async function processGroupSwaps(ctx: Ctx, groupId: string, log: Logger = ctx.log): Promise<number> {
  let done = 0;
  for (let i = 0; i < 25; i++) {
    const claim = await claimNextSwap(ctx, groupId, log);
    if (claim.kind === 'idle') return done;
    if (claim.kind === 'busy') {
      // Someone else (an admin's swapShifts) is mid-swap in this group: look again shortly.
      await enqueueGroupSwaps(ctx, groupId, { startAfter: claim.retryInSeconds });
      return done;
    }
    await runSwap(ctx, claim.swap.id, log);
    done++;
  }
  await enqueueGroupSwaps(ctx, groupId);
  return done;
}

const asAppError = (err: unknown): AppError =>
  isAppError(err) ? err : new AppError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });

async function renewLease(ctx: Ctx, swapId: string): Promise<void> {
  await ctx.db
    .update(swaps)
    .set({ leaseUntil: leaseFrom(ctx) })
    // Never re-takes a lease released meanwhile (a late timer tick after a transient failure).
    .where(and(eq(swaps.id, swapId), inArray(swaps.state, ['pending', 'compensating']), isNotNull(swaps.leaseUntil)));
}

async function releaseLease(ctx: Ctx, swapId: string, error: string): Promise<void> {
  await ctx.db.update(swaps).set({ leaseUntil: null, lastError: error }).where(eq(swaps.id, swapId));
}

function peopleOf(members: Array<{ email: string; name: string }>) {
  return (email: string): Person => ({ email, name: members.find((m) => m.email === email)?.name ?? email.split('@')[0] ?? email });
}

/** Runs a claimed swap to its end (completed or aborted), or throws a retryable error. */
export async function runSwap(ctx: Ctx, swapId: string, log: Logger = ctx.log): Promise<Swap> {
  // Keeps the lease while this executor lives, however long Google takes to answer a step.
  const keeper = setInterval(() => void renewLease(ctx, swapId).catch(() => undefined), SWAP_LEASE_RENEW_MS);
  try {
    return await runSwapSteps(ctx, swapId, log);
  } finally {
    clearInterval(keeper);
  }
}

async function runSwapSteps(ctx: Ctx, swapId: string, log: Logger): Promise<Swap> {
  let swap = await swapById(ctx.db, swapId);
  if (!swap) throw new AppError('NOT_FOUND', `no swap ${swapId}`);
  if (swap.state === 'completed' || swap.state === 'aborted') return swap;
  const group = await groupById(ctx.db, swap.groupId);
  if (!group) throw new AppError('NOT_FOUND', `the group of swap ${swapId} is gone`);
  const person = peopleOf(await membersOf(ctx.db, group.id));
  const where = { ownerId: group.ownerId, calendarId: group.calendarId };
  const from = person(swap.fromEmail);
  const to = person(swap.toEmail);
  const hand = async (eventId: string, a: Person, b: Person) => {
    await renewLease(ctx, swapId);
    const r = await reassignShiftEvent(ctx, where, eventId, { from: a.email, to: b, summary: shiftSummary(group.name, b) });
    log.info({ swapId, eventId, from: a.email, to: b.email, result: r }, 'shift event handed over');
  };

  if (swap.state === 'pending') {
    try {
      await hand(swap.declinedEventId, from, to);
      await hand(swap.swapEventId, to, from);
      return await completeSwap(ctx, group, swapId, log);
    } catch (raw) {
      const err = asAppError(raw);
      if (err.retryable) {
        await releaseLease(ctx, swapId, err.message);
        throw err;
      }
      log.warn({ swapId, error: err.message, errorCode: err.code }, 'swap failed for good: putting both events back');
      await ctx.db.update(swaps).set({ state: 'compensating', lastError: err.message }).where(eq(swaps.id, swapId));
      swap = { ...swap, state: 'compensating', lastError: err.message };
    }
  }

  // Undo, in reverse order. An event that cannot be put back for good (deleted, access lost) is
  // reported; there is nothing left to restore on it.
  const undoErrors: string[] = [];
  for (const [eventId, a, b] of [
    [swap.swapEventId, from, to],
    [swap.declinedEventId, to, from],
  ] as const) {
    try {
      await hand(eventId, a, b);
    } catch (raw) {
      const err = asAppError(raw);
      if (err.retryable) {
        await releaseLease(ctx, swapId, err.message);
        throw err;
      }
      undoErrors.push(`${eventId}: ${err.message}`);
    }
  }
  return abortSwap(ctx, swapId, undoErrors, log);
}

async function completeSwap(ctx: Ctx, group: OncallGroup, swapId: string, log: Logger): Promise<Swap> {
  const owner = await getOwner(ctx, group.ownerId);
  const done = await ctx.db.transaction(async (tx) => {
    await groupById(tx, group.id, { forUpdate: true });
    const swap = await swapById(tx, swapId, { forUpdate: true });
    if (!swap || swap.state !== 'pending') return swap;
    const now = ctx.clock.now();
    await tx
      .update(shifts)
      .set({ assigneeEmail: swap.toEmail, status: 'swapped', swappedWithId: swap.swapShiftId, updatedAt: now })
      .where(eq(shifts.id, swap.declinedShiftId));
    await tx
      .update(shifts)
      .set({ assigneeEmail: swap.fromEmail, status: 'swapped', swappedWithId: swap.declinedShiftId, updatedAt: now })
      .where(eq(shifts.id, swap.swapShiftId));
    const [completed] = await tx
      .update(swaps)
      .set({ state: 'completed', completedAt: now, leaseUntil: null, lastError: null })
      .where(eq(swaps.id, swapId))
      .returning();
    await enqueueOncallMessage(tx, ctx, { groupId: group.id, kind: 'swap', shiftId: swap.declinedShiftId, swapId, dedupeKey: `swap:${swapId}` });
    const [a, b] = await Promise.all([shiftById(tx, swap.declinedShiftId), shiftById(tx, swap.swapShiftId)]);
    if (owner && a && b) {
      await publishDomainEvent(tx, ctx, {
        type: 'shift.swapped',
        ownerId: group.ownerId,
        externalOwnerId: owner.externalOwnerId,
        calendarId: group.calendarId,
        data: {
          swapId,
          kind: swap.kind,
          groupId: group.id,
          groupName: group.name,
          fromEmail: swap.fromEmail,
          toEmail: swap.toEmail,
          declinedShift: shiftData(a),
          swapShift: shiftData(b),
        },
      });
    }
    return completed;
  });
  if (!done) throw new AppError('NOT_FOUND', `swap ${swapId} vanished`);
  if (done.state === 'completed') log.info({ swapId, from: done.fromEmail, to: done.toEmail }, 'swap completed');
  notifyJob.wake(ctx);
  return done;
}

export const shiftData = (s: Shift) => ({
  id: s.id,
  assigneeEmail: s.assigneeEmail,
  start: s.startAt.toISOString(),
  end: s.endAt.toISOString(),
  status: s.status,
  googleEventId: s.googleEventId,
  declinedOn: s.declinedOn,
});

async function abortSwap(ctx: Ctx, swapId: string, undoErrors: string[], log: Logger): Promise<Swap> {
  const done = await ctx.db.transaction(async (tx) => {
    const pre = await swapById(tx, swapId);
    if (!pre) return undefined;
    await groupById(tx, pre.groupId, { forUpdate: true });
    const swap = await swapById(tx, swapId, { forUpdate: true });
    if (!swap || swap.state !== 'compensating') return swap;
    const lastError = [swap.lastError, ...undoErrors.map((e) => `undo ${e}`)].filter(Boolean).join('; ');
    const [aborted] = await tx
      .update(swaps)
      .set({ state: 'aborted', completedAt: ctx.clock.now(), leaseUntil: null, lastError })
      .where(eq(swaps.id, swapId))
      .returning();
    return aborted;
  });
  if (!done) throw new AppError('NOT_FOUND', `swap ${swapId} vanished`);
  (undoErrors.length ? log.error : log.warn).call(log, { swapId, lastError: done.lastError }, 'swap aborted');
  // An automatic swap's decline is still open: the group's worker tries another partner, or
  // reports the shift uncovered after a few failures.
  if (done.kind === 'auto') await enqueueGroupSwaps(ctx, done.groupId);
  return done;
}

export interface SwapShiftsInput {
  declinedShiftId: string;
  swapShiftId: string;
}

/** swapShifts by hand: the same saga, run inline; CONFLICT while another swap of the group runs. */
export async function swapShifts(ctx: Ctx, input: SwapShiftsInput, log: Logger = ctx.log): Promise<Swap> {
  const swap = await ctx.db.transaction(async (tx) => {
    const a = await shiftById(tx, input.declinedShiftId);
    const b = await shiftById(tx, input.swapShiftId);
    if (!a) throw new AppError('NOT_FOUND', `no shift ${input.declinedShiftId}`);
    if (!b) throw new AppError('NOT_FOUND', `no shift ${input.swapShiftId}`);
    if (a.groupId !== b.groupId) throw new AppError('VALIDATION', 'both shifts must belong to the same group');
    await groupById(tx, a.groupId, { forUpdate: true });
    if (await unfinishedSwap(tx, a.groupId)) throw new AppError('CONFLICT', 'another swap of this group is in progress; try again shortly');
    const now = ctx.clock.now();
    const all = await shiftsOfGroup(tx, a.groupId, { from: now });
    const [fa, fb] = await Promise.all([shiftById(tx, a.id), shiftById(tx, b.id)]);
    const refusal = swapRefusal(toSwapShift(fa!), toSwapShift(fb!), all.map(toSwapShift), now);
    if (refusal) throw new AppError('VALIDATION', refusal);
    const [row] = await tx
      .insert(swaps)
      .values({
        groupId: a.groupId,
        kind: 'manual',
        declinedShiftId: a.id,
        swapShiftId: b.id,
        fromEmail: fa!.assigneeEmail,
        toEmail: fb!.assigneeEmail,
        declinedEventId: fa!.googleEventId,
        swapEventId: fb!.googleEventId,
        state: 'pending',
        leaseUntil: leaseFrom(ctx),
        attempts: 1,
        createdAt: now,
      })
      .returning();
    return row!;
  });
  try {
    const done = await runSwap(ctx, swap.id, log);
    if (done.state === 'aborted') throw new AppError('CONFLICT', `the swap could not be made and was undone: ${done.lastError ?? 'unknown error'}`);
    return done;
  } catch (err) {
    // Left pending or half-undone: the group's worker resumes it once the lease is released.
    if (isAppError(err) && err.retryable) {
      await enqueueGroupSwaps(ctx, swap.groupId, { startAfter: 1 });
      throw new AppError(err.code, `${err.message} (the swap is recorded and will be finished in the background)`, err.details);
    }
    throw err;
  }
}
