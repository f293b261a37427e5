// availability.free for one owner or several: the times when every owner (or at least N of them)
// is free, each owner's working hours read in that owner's own zone, busy time widened by buffers,
// nothing sooner than the minimum notice.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import type { Owner } from '../links/index.ts';
import { findCalendar } from '../sync/index.ts';
import { isValidTimeZone, MINUTE_MS } from '../time-zones/index.ts';
import { bufferMs, busyOfOwners, checkRange, ownerByExternalId, withBuffers } from './busy.ts';
import { freeSlots, parseClock, type Interval, type WorkingHours } from './intervals.ts';
import { gridSlots, intersectIntervals } from './slots.ts';

/** Working hours as a caller gives them: without `timeZone`, the owner's primary calendar's zone. */
export interface WorkingHoursInput {
  timeZone?: string;
  days: number[];
  start: string;
  end: string;
}

export interface FreeInput {
  /** The single-owner form (calendarIds allowed). */
  externalOwnerId?: string;
  /** The several-owners form. */
  externalOwnerIds?: string[];
  /** 'all' (default) or how many of `externalOwnerIds` must be free. */
  required?: 'all' | number;
  from: Date;
  to: Date;
  durationMinutes: number;
  /** Every owner's hours (each in its own zone unless `timeZone` is given). */
  workingHours?: WorkingHoursInput;
  /** Per external owner id: that owner's hours instead of `workingHours`; null: no limit for that owner. */
  workingHoursByOwner?: Record<string, WorkingHoursInput | null>;
  calendarIds?: string[];
  /** Kept free before each busy stretch (ahead of its start). */
  bufferBeforeMinutes?: number;
  /** Kept free after each busy stretch (past its end). */
  bufferAfterMinutes?: number;
  /** No slot starts sooner than this after now. */
  minimumNoticeMinutes?: number;
  /** Fixed slots of `durationMinutes` starting every `slotStepMinutes` from `from`. */
  slotStepMinutes?: number;
}

export interface FreeSlot {
  start: Date;
  end: Date;
  /** With `required: N`: the owners free for the whole slot (in the order asked). */
  externalOwnerIds?: string[];
}

/** The most owners one query may name. */
export const MAX_OWNERS = 50;
/** The most grid points one query may walk (a year of 10-minute steps is 52,704). */
export const MAX_GRID_POINTS = 60_000;

function checkMinutes(name: string, value: number | undefined, min: number, max: number): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < min || value > max) throw new AppError('VALIDATION', `\`${name}\` must be an integer from ${min} to ${max}`);
  return value;
}

function checkHours(wh: WorkingHoursInput, zone: string): WorkingHours {
  const timeZone = wh.timeZone ?? zone;
  if (!isValidTimeZone(timeZone)) throw new AppError('VALIDATION', `unknown time zone ${timeZone}`);
  const start = parseClock(wh.start);
  const end = parseClock(wh.end);
  if (start === null || end === null) throw new AppError('VALIDATION', 'working hours are HH:MM (end up to 24:00)');
  if (end <= start) throw new AppError('VALIDATION', 'working hours must end after they start (overnight hours are not supported)');
  if (wh.days.length === 0 || wh.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    throw new AppError('VALIDATION', 'working days are ISO weekdays 1 (Monday) to 7 (Sunday)');
  }
  return { timeZone, days: wh.days, start: wh.start, end: wh.end };
}

/** The owner's zone for working hours without one: its primary calendar's, else UTC. */
async function ownerZone(ctx: Ctx, owner: Owner): Promise<string> {
  if (owner.status === 'unlinked') return 'UTC';
  const primary = await findCalendar(ctx, owner.id, 'primary');
  return primary?.timeZone && isValidTimeZone(primary.timeZone) ? primary.timeZone : 'UTC';
}

export async function findFreeSlots(ctx: Ctx, input: FreeInput): Promise<FreeSlot[]> {
  checkRange(input.from, input.to);
  const multi = input.externalOwnerIds !== undefined;
  if (multi === (input.externalOwnerId !== undefined)) throw new AppError('VALIDATION', 'give either `externalOwnerId` or `externalOwnerIds`');
  const ids = multi ? input.externalOwnerIds! : [input.externalOwnerId!];
  if (ids.length === 0 || ids.length > MAX_OWNERS) throw new AppError('VALIDATION', `\`externalOwnerIds\` names 1 to ${MAX_OWNERS} owners`);
  if (new Set(ids).size !== ids.length) throw new AppError('VALIDATION', '`externalOwnerIds` names an owner twice');
  if (multi && input.calendarIds) throw new AppError('VALIDATION', '`calendarIds` belongs to the single-owner form; each owner’s preference applies');
  const required = input.required ?? 'all';
  if (required !== 'all' && (!Number.isInteger(required) || required < 1 || required > ids.length)) {
    throw new AppError('VALIDATION', `\`required\` is "all" or a number from 1 to ${ids.length}`);
  }
  for (const key of Object.keys(input.workingHoursByOwner ?? {})) {
    if (!ids.includes(key)) throw new AppError('VALIDATION', `\`workingHoursByOwner\` names ${key}, who is not asked about`);
  }
  const durationMinutes = checkMinutes('durationMinutes', input.durationMinutes, 1, 1440);
  const beforeMs = bufferMs('bufferBeforeMinutes', input.bufferBeforeMinutes);
  const afterMs = bufferMs('bufferAfterMinutes', input.bufferAfterMinutes);
  const noticeMs = checkMinutes('minimumNoticeMinutes', input.minimumNoticeMinutes, 0, 366 * 1440) * MINUTE_MS;
  const stepMinutes = checkMinutes('slotStepMinutes', input.slotStepMinutes, 1, 1440);
  const durationMs = durationMinutes * MINUTE_MS;
  const from = input.from.getTime();
  const to = input.to.getTime();
  // Fixed slots when a step is asked, and always with `required: N` (a stretch has no one set of owners).
  const stepMs = (stepMinutes || (required === 'all' ? 0 : durationMinutes)) * MINUTE_MS;
  if (stepMs > 0 && (to - from) / stepMs > MAX_GRID_POINTS) {
    throw new AppError('VALIDATION', `more than ${MAX_GRID_POINTS} slot starts: narrow the range or lengthen \`slotStepMinutes\``);
  }

  const owners = await Promise.all(ids.map((id) => ownerByExternalId(ctx, id)));
  const hours = await Promise.all(
    owners.map(async (owner, n) => {
      const byOwner = input.workingHoursByOwner?.[ids[n]!];
      const wh = byOwner === undefined ? input.workingHours : byOwner;
      if (!wh) return undefined;
      return checkHours(wh, wh.timeZone ?? (await ownerZone(ctx, owner)));
    }),
  );

  // A busy row just outside [from, to) may still reach into it by its buffer.
  const busy = await busyOfOwners(
    ctx,
    owners.map((owner) => ({ owner, ...(input.calendarIds ? { calendarIds: input.calendarIds } : {}) })),
    new Date(from - afterMs),
    new Date(to + beforeMs),
  );
  // Without a minimum notice the range is answered as asked, past times included (as before).
  const earliest = input.minimumNoticeMinutes === undefined ? from : Math.max(from, ctx.clock.now().getTime() + noticeMs);
  const free: Interval[][] = owners.map((owner, n) =>
    earliest >= to ? [] : freeSlots(withBuffers(busy.get(owner.id) ?? [], beforeMs, afterMs, from, to), earliest, to, durationMs, hours[n]),
  );

  if (stepMs === 0) {
    return intersectIntervals(free)
      .filter((s) => s.end - s.start >= durationMs)
      .map((s) => ({ start: new Date(s.start), end: new Date(s.end) }));
  }
  const slots = gridSlots(free, { origin: from, earliest, to, durationMs, stepMs, required: required === 'all' ? ids.length : required });
  return slots.map((s) => ({
    start: new Date(s.start),
    end: new Date(s.end),
    ...(required === 'all' ? {} : { externalOwnerIds: s.free.map((n) => ids[n]!) }),
  }));
}
