// Which shift a declined shift is swapped with. Pure: no clock, no database, so that every rule
// can be tested on its own; the caller hands it a fresh read of the group's shifts (under the
// group's lock) and "now".

export type ShiftStatus = 'scheduled' | 'declined' | 'swapped' | 'uncovered';

export interface SwapShift {
  id: string;
  assigneeEmail: string;
  start: Date;
  end: Date;
  status: ShiftStatus;
  /** The shift this one was last swapped with (no ping-pong back to it). */
  swappedWithId?: string | null;
}

export interface FindShiftForSwapInput {
  /** The shift its assignee declined. */
  declined: SwapShift;
  /** Every shift of the group the caller knows of that may matter (at least those not yet ended). */
  shifts: readonly SwapShift[];
  now: Date;
  /** People who already declined `declined` (they never get it back). */
  excludeAssignees?: readonly string[];
  /** Shifts already tried for this decline (a swap that failed and was undone). */
  excludeShiftIds?: readonly string[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Half-open intervals: a shift ending at 09:00 and one starting at 09:00 do not overlap. */
export const overlaps = (a: { start: Date; end: Date }, b: { start: Date; end: Date }) =>
  a.start.getTime() < b.end.getTime() && b.start.getTime() < a.end.getTime();

/**
 * Whether `person` would hold two overlapping shifts after giving up `leaving` and taking
 * `arriving`. Every shift assigned to them counts, whatever its status: in Google they are still
 * the attendee of a shift they declined until it is swapped away.
 */
function wouldOverlap(person: string, arriving: SwapShift, leaving: SwapShift, shifts: readonly SwapShift[]): boolean {
  return shifts.some(
    (s) => s.id !== leaving.id && s.id !== arriving.id && same(s.assigneeEmail, person) && overlaps(s, arriving),
  );
}

/**
 * Why swapping `a` (held by A) with `b` (held by B) is not allowed, or undefined when it is:
 * distinct shifts, both still in the future, two different people, and neither ends with two
 * overlapping shifts. Used by the automatic search and by a swap made by hand.
 */
export function swapRefusal(a: SwapShift, b: SwapShift, shifts: readonly SwapShift[], now: Date): string | undefined {
  if (a.id === b.id) return 'a shift cannot be swapped with itself';
  if (a.start.getTime() <= now.getTime()) return 'the declined shift has already started';
  if (b.start.getTime() <= now.getTime()) return 'the other shift has already started';
  if (same(a.assigneeEmail, b.assigneeEmail)) return 'both shifts have the same assignee';
  if (wouldOverlap(b.assigneeEmail, a, b, shifts)) return `${b.assigneeEmail} would hold two overlapping shifts`;
  if (wouldOverlap(a.assigneeEmail, b, a, shifts)) return `${a.assigneeEmail} would hold two overlapping shifts`;
  return undefined;
}

/**
 * A future, not-declined shift of the same group held by someone else, not overlapping the
 * declined one (the decliner would still be on call then), such that neither person then holds
 * two overlapping shifts, and which is not the shift `declined` was just swapped with (its holder
 * is the person who handed `declined` over). The nearest one starting at or after the
 * declined shift, else the nearest one before it. Ties go to the smaller id, so the answer is
 * deterministic.
 */
export function findShiftForSwap(input: FindShiftForSwapInput): SwapShift | undefined {
  const { declined, shifts, now } = input;
  const excluded = (input.excludeAssignees ?? []).map((e) => e.toLowerCase());
  const candidates = shifts.filter(
    (s) =>
      (s.status === 'scheduled' || s.status === 'swapped') &&
      s.id !== declined.swappedWithId &&
      // Trading for a shift at the same time would leave the decliner on call when they said no.
      !overlaps(s, declined) &&
      !(input.excludeShiftIds ?? []).includes(s.id) &&
      !excluded.includes(s.assigneeEmail.toLowerCase()) &&
      swapRefusal(declined, s, shifts, now) === undefined,
  );
  const at = declined.start.getTime();
  const byId = (a: SwapShift, b: SwapShift) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const after = candidates
    .filter((s) => s.start.getTime() >= at)
    .sort((a, b) => a.start.getTime() - b.start.getTime() || byId(a, b));
  if (after[0]) return after[0];
  const before = candidates
    .filter((s) => s.start.getTime() < at)
    .sort((a, b) => b.start.getTime() - a.start.getTime() || byId(a, b));
  return before[0];
}
