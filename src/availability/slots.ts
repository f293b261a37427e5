// Pure slot arithmetic for several owners: common free stretches, and fixed-length slots on a grid
// with the owners free for each. Instants in ms, ends exclusive, every list sorted and disjoint.
import type { Interval } from './intervals.ts';

/** The stretches inside every list (sorted, disjoint lists in; the same out). */
export function intersectIntervals(lists: Interval[][]): Interval[] {
  if (lists.length === 0) return [];
  let acc = lists[0]!;
  for (let n = 1; n < lists.length && acc.length > 0; n++) {
    const other = lists[n]!;
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < acc.length && j < other.length) {
      const a = acc[i]!;
      const b = other[j]!;
      const start = Math.max(a.start, b.start);
      const end = Math.min(a.end, b.end);
      if (end > start) out.push({ start, end });
      if (a.end < b.end) i++;
      else j++;
    }
    acc = out;
  }
  return acc;
}

export interface GridSlot extends Interval {
  /** Indexes (into the lists given) of the owners free for the whole slot. */
  free: number[];
}

export interface GridOptions {
  /** The grid's origin: slots start at `origin + k * stepMs`. */
  origin: number;
  /** No slot starts before this (the minimum notice), none ends after `to`. */
  earliest: number;
  to: number;
  durationMs: number;
  stepMs: number;
  /** How many owners must be free for a slot to count. */
  required: number;
}

/**
 * Slots of `durationMs` on the grid, each kept when at least `required` of the owners are free for
 * all of it (a slot lies inside one of that owner's free stretches). One pointer per owner: the
 * slots move forward, so every list is walked once.
 */
export function gridSlots(freeByOwner: Interval[][], opts: GridOptions): GridSlot[] {
  const { origin, earliest, to, durationMs, stepMs, required } = opts;
  const out: GridSlot[] = [];
  const cursor = freeByOwner.map(() => 0);
  let k = Math.max(0, Math.ceil((earliest - origin) / stepMs));
  for (let start = origin + k * stepMs; start + durationMs <= to; start = origin + ++k * stepMs) {
    const end = start + durationMs;
    const free: number[] = [];
    let earliestNext = Infinity;
    for (let o = 0; o < freeByOwner.length; o++) {
      const list = freeByOwner[o]!;
      let c = cursor[o]!;
      // Stretches ending before this slot ends cannot hold it or any later slot.
      while (c < list.length && list[c]!.end < end) c++;
      cursor[o] = c;
      const s = list[c];
      if (s && s.start <= start) free.push(o);
      else if (s) earliestNext = Math.min(earliestNext, s.start);
    }
    if (free.length >= required) {
      out.push({ start, end, free });
      continue;
    }
    // Too few free: jump to the first grid point where one more owner could become free (a busy
    // stretch skipped at once, not step by step), as long as the others would not count anyway.
    if (free.length === 0 && earliestNext === Infinity) break;
    if (free.length === 0 && earliestNext > start + stepMs) {
      k = Math.max(k, Math.ceil((earliestNext - origin) / stepMs) - 1);
    }
  }
  return out;
}
