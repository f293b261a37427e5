// scheduleRotation: round-robin shifts from `start`, each a Google event on the group's calendar
// with its assignee as attendee (Google sends the invitation), then stored as shifts.
//
// Google first, rows after: the event ids derive from pre-generated shift ids, so a retried insert
// is recognised (409 duplicate), and a failure part-way deletes the events already inserted.
import { z } from 'zod';
import { OncallGroupId } from '../api/index.ts';
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { shifts } from '../../schema/oncall.ts';
import { overlaps } from './find-shift-for-swap.ts';
import { parseInput } from './groups.ts';
import { groupById, latestShift, membersOf, shiftsOfGroup, type Shift } from './queries.ts';
import { deleteShiftEvent, eventIdForShift, insertShiftEvent } from './shift-events.ts';

export const ScheduleRotationInput = z.object({
  groupId: OncallGroupId,
  start: z.coerce.date(),
  shiftHours: z.number().positive().max(24 * 31),
  count: z.number().int().min(1).max(200),
});
export type ScheduleRotationInput = z.input<typeof ScheduleRotationInput>;

export async function scheduleRotation(ctx: Ctx, raw: ScheduleRotationInput): Promise<Shift[]> {
  const input = parseInput(ScheduleRotationInput, raw);
  if (Number.isNaN(input.start.getTime())) throw new AppError('VALIDATION', 'start is not a valid date');
  const group = await groupById(ctx.db, input.groupId);
  if (!group) throw new AppError('NOT_FOUND', `no on-call group ${input.groupId}`);
  const members = await membersOf(ctx.db, group.id);
  if (members.length === 0) throw new AppError('VALIDATION', `${group.name} has no members`);

  const lengthMs = Math.round(input.shiftHours * 3600_000);
  const range = { start: input.start, end: new Date(input.start.getTime() + lengthMs * input.count) };
  // Rotations may overlap (a primary and a secondary layer), but nobody may hold two shifts at once.
  const clashOf = (existing: Array<{ assigneeEmail: string; startAt: Date; endAt: Date }>, email: string, start: Date, end: Date) =>
    existing.find((s) => s.assigneeEmail === email && overlaps({ start: s.startAt, end: s.endAt }, { start, end }));
  const existing = await shiftsOfGroup(ctx.db, group.id, { from: range.start, to: range.end });

  // Round robin continues after whoever holds the group's latest shift, skipping anyone busy then.
  const last = await latestShift(ctx.db, group.id);
  let cursor = (last ? members.findIndex((m) => m.email === last.assigneeEmail) : -1) + 1;
  const planned: Array<{ id: string; start: Date; end: Date; member: (typeof members)[number] }> = [];
  for (let i = 0; i < input.count; i++) {
    const start = new Date(input.start.getTime() + i * lengthMs);
    const end = new Date(start.getTime() + lengthMs);
    const taken = [...existing, ...planned.map((p) => ({ assigneeEmail: p.member.email, startAt: p.start, endAt: p.end }))];
    const offset = members.findIndex((_, k) => !clashOf(taken, members[(cursor + k) % members.length]!.email, start, end));
    if (offset < 0) throw new AppError('CONFLICT', `every member of ${group.name} already holds a shift overlapping ${start.toISOString()}`);
    const member = members[(cursor + offset) % members.length]!;
    cursor += offset + 1;
    planned.push({ id: crypto.randomUUID(), start, end, member });
  }

  const where = { ownerId: group.ownerId, calendarId: group.calendarId, timeZone: group.timeZone };
  const inserted: string[] = [];
  const undo = async () => {
    for (const eventId of inserted) await deleteShiftEvent(ctx, where, eventId);
  };
  try {
    for (const p of planned) {
      const ev = await insertShiftEvent(ctx, where, {
        id: p.id,
        groupId: group.id,
        groupName: group.name,
        start: p.start,
        end: p.end,
        assignee: { email: p.member.email, name: p.member.name },
      });
      inserted.push(ev.id ?? eventIdForShift(p.id));
    }
  } catch (err) {
    await undo();
    throw err;
  }

  try {
    return await ctx.db.transaction(async (tx) => {
      // Re-checked under the group's lock: two rotations scheduled at once must not interleave.
      await groupById(tx, group.id, { forUpdate: true });
      const now = await shiftsOfGroup(tx, group.id, { from: range.start, to: range.end });
      const clash = planned.map((p) => clashOf(now, p.member.email, p.start, p.end)).find(Boolean);
      if (clash) throw new AppError('CONFLICT', `a shift of ${clash.assigneeEmail} overlapping this rotation was added meanwhile (${clash.startAt.toISOString()})`);
      const at = ctx.clock.now();
      const rows = await tx
        .insert(shifts)
        .values(
          planned.map((p, i) => ({
            id: p.id,
            groupId: group.id,
            googleEventId: inserted[i]!,
            assigneeEmail: p.member.email,
            startAt: p.start,
            endAt: p.end,
            status: 'scheduled',
            createdAt: at,
            updatedAt: at,
          })),
        )
        .returning();
      ctx.log.info({ groupId: group.id, count: rows.length, from: range.start, to: range.end }, 'rotation scheduled');
      return rows.sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
    });
  } catch (err) {
    await undo();
    throw err;
  }
}
