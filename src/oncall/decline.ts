// Declines: seen in the sync's change set (inside its transaction: only reads and an enqueue),
// then recorded once by the `oncall.declined` job, which wakes the group's swap worker.
import { and, eq, inArray } from 'drizzle-orm';
import type { Ctx, TxCtx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import type { Logger } from '../log/index.ts';
import { getOwner } from '../links/index.ts';
import { publishDomainEvent } from '../fanout/index.ts';
import type { ChangeSet, MirrorEvent } from '../context/index.ts';
import { shifts } from '../../schema/oncall.ts';
import { groupById, groupsForCalendar, incomingAssignee, shiftById, shiftsForEvents, unfinishedSwapsOf } from './queries.ts';
import { enqueueGroupSwaps, shiftData } from './swap.ts';
import { declinedJob, swapJob } from './jobs.ts';
import { dateIn } from './time.ts';

const responseOf = (ev: MirrorEvent | null | undefined, email: string) =>
  ev?.attendees.find((a) => a.email.toLowerCase() === email.toLowerCase())?.responseStatus;

/**
 * The change-set reactor: a shift whose assignee's response became `declined` on an event that
 * has not started -> one `oncall.declined` job. Anything else about the event changes nothing.
 */
export async function detectDeclines(ctx: TxCtx, cs: ChangeSet): Promise<void> {
  const { tx } = ctx;
  const groups = await groupsForCalendar(tx, cs.ownerId, cs.calendarId);
  if (groups.length === 0) return;
  const changes = cs.changes.filter((c) => c.kind !== 'cancelled');
  const rows = await shiftsForEvents(
    tx,
    groups.map((g) => g.id),
    changes.map((c) => c.event.googleEventId),
  );
  if (rows.length === 0) return;
  const inFlight = await unfinishedSwapsOf(tx, [...new Set(rows.map((r) => r.groupId))]);
  const now = ctx.clock.now();
  for (const change of changes) {
    for (const shift of rows.filter((s) => s.googleEventId === change.event.googleEventId)) {
      // The assignee, or the person a swap in flight already put on the event in Google.
      const incoming = inFlight.map((w) => incomingAssignee(w, shift.id)).find(Boolean);
      for (const who of incoming ? [shift.assigneeEmail, incoming] : [shift.assigneeEmail]) {
        if (responseOf(change.event, who) !== 'declined') continue;
        if (change.kind === 'updated' && responseOf(change.previous, who) === 'declined') continue;
        const log = ctx.log.child({ module: 'oncall', shiftId: shift.id, groupId: shift.groupId, assignee: who });
        if (who === shift.assigneeEmail && (shift.status === 'declined' || (shift.status === 'uncovered' && shift.declinedBy === who))) {
          log.debug('decline already recorded');
          continue;
        }
        if (shift.startAt.getTime() <= now.getTime()) {
          log.info({ start: shift.startAt, end: shift.endAt }, 'decline of a shift that has already started or ended: ignored');
          continue;
        }
        await declinedJob.send(ctx, { shiftId: shift.id, assigneeEmail: who }, { tx, singletonKey: `${shift.id}:${who}` });
        log.info('shift declined in Google Calendar: swap requested');
      }
    }
  }
}

export type DeclineResult = 'declined' | 'alreadyDeclined' | 'assigneeChanged' | 'waitingForSwap' | 'started' | 'gone';

/** A swap in flight hands the shift to this person: their decline waits until it completes. */
const WAIT_FOR_SWAP_SECONDS = 2;

/**
 * Records the decline once: `declined_on` = today in the group's time zone. A shift already
 * declined by this assignee, or handed to someone else meanwhile, is left alone, however many
 * notifications asked.
 */
export async function markShiftDeclined(ctx: Ctx, input: { shiftId: string; assigneeEmail: string }, log: Logger = ctx.log): Promise<DeclineResult> {
  const pre = await shiftById(ctx.db, input.shiftId);
  if (!pre) return 'gone';
  const group = await groupById(ctx.db, pre.groupId);
  if (!group) return 'gone';
  const owner = await getOwner(ctx, group.ownerId);
  const result = await ctx.db.transaction(async (tx): Promise<DeclineResult> => {
    const shift = await shiftById(tx, input.shiftId, { forUpdate: true });
    if (!shift) return 'gone';
    if (shift.assigneeEmail !== input.assigneeEmail) {
      const inFlight = await unfinishedSwapsOf(tx, [shift.groupId]);
      return inFlight.some((w) => incomingAssignee(w, shift.id) === input.assigneeEmail) ? 'waitingForSwap' : 'assigneeChanged';
    }
    if (shift.status === 'declined' || (shift.status === 'uncovered' && shift.declinedBy === shift.assigneeEmail)) return 'alreadyDeclined';
    const now = ctx.clock.now();
    if (shift.startAt.getTime() <= now.getTime()) return 'started';
    const [row] = await tx
      .update(shifts)
      .set({ status: 'declined', declinedOn: dateIn(group.timeZone, now), declinedBy: shift.assigneeEmail, updatedAt: now })
      .where(and(eq(shifts.id, shift.id), inArray(shifts.status, ['scheduled', 'swapped', 'uncovered'])))
      .returning();
    if (!row) return 'alreadyDeclined';
    if (owner) {
      await publishDomainEvent(tx, ctx, {
        type: 'shift.declined',
        ownerId: group.ownerId,
        externalOwnerId: owner.externalOwnerId,
        calendarId: group.calendarId,
        data: { groupId: group.id, groupName: group.name, shift: shiftData(row), declinedBy: row.declinedBy },
      });
    }
    await enqueueGroupSwaps(ctx, group.id, { tx });
    return 'declined';
  });
  if (result === 'declined') swapJob.wake(ctx);
  if (result === 'waitingForSwap') {
    // Declined as soon as the swap put them on the event: handled once the swap has completed
    // (or dropped, if the swap is undone and the shift goes back to its previous holder).
    await declinedJob.send(ctx, input, { singletonKey: `${input.shiftId}:${input.assigneeEmail}`, startAfter: WAIT_FOR_SWAP_SECONDS });
  }
  log.info({ shiftId: input.shiftId, assignee: input.assigneeEmail, result }, result === 'started' ? 'decline of a started shift ignored' : 'decline handled');
  return result;
}
