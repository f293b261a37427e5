// The pure slot arithmetic behind availability.free for several owners: common stretches, and
// fixed slots on a grid with who is free for each (checked against a brute force on random lists).
import { describe, expect, test } from 'bun:test';
import { freeSlots, mergeIntervals, type Interval } from '../../src/availability/intervals.ts';
import { gridSlots, intersectIntervals } from '../../src/availability/slots.ts';

const M = 60_000;
const iv = (a: number, b: number): Interval => ({ start: a * M, end: b * M });

describe('intersectIntervals', () => {
  test('the stretches inside every list', () => {
    const a = [iv(0, 60), iv(120, 240)];
    const b = [iv(30, 150), iv(200, 300)];
    const c = [iv(0, 1000)];
    expect(intersectIntervals([a, b, c])).toEqual([iv(30, 60), iv(120, 150), iv(200, 240)]);
  });

  test('one list is itself; an empty list empties the result; touching is not overlapping', () => {
    expect(intersectIntervals([[iv(0, 10)]])).toEqual([iv(0, 10)]);
    expect(intersectIntervals([[iv(0, 10)], []])).toEqual([]);
    expect(intersectIntervals([[iv(0, 10)], [iv(10, 20)]])).toEqual([]);
  });
});

describe('gridSlots', () => {
  const base = { origin: 0, earliest: 0, durationMs: 30 * M, stepMs: 30 * M };

  test('slots when every owner is free, on the grid from the origin', () => {
    const free = [[iv(0, 120)], [iv(45, 200)]];
    const got = gridSlots(free, { ...base, to: 240 * M, required: 2 });
    // 45 is off the grid: the first common slot starts at 60.
    expect(got).toEqual([{ ...iv(60, 90), free: [0, 1] }, { ...iv(90, 120), free: [0, 1] }]);
  });

  test('with required 1 of 2, each slot says who is free', () => {
    const free = [[iv(0, 60)], [iv(30, 90)]];
    const got = gridSlots(free, { ...base, to: 120 * M, required: 1 });
    expect(got).toEqual([
      { ...iv(0, 30), free: [0] },
      { ...iv(30, 60), free: [0, 1] },
      { ...iv(60, 90), free: [1] },
    ]);
  });

  test('nothing starts before `earliest` (the notice) or ends after `to`', () => {
    const got = gridSlots([[iv(0, 1000)]], { ...base, earliest: 100 * M, to: 200 * M, required: 1 });
    expect(got.map((s) => s.start / M)).toEqual([120, 150]);
  });

  test('equals a brute force on random owners, steps and requirements', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const owners = 1 + rnd(5);
      const to = (200 + rnd(2000)) * M;
      const free: Interval[][] = [];
      for (let o = 0; o < owners; o++) {
        const raw: Interval[] = [];
        for (let k = rnd(8); k > 0; k--) {
          const s = rnd(to / M);
          raw.push(iv(s, s + 1 + rnd(300)));
        }
        free.push(mergeIntervals(raw).map((i) => ({ start: i.start, end: Math.min(i.end, to) })).filter((i) => i.end > i.start));
      }
      const opts = {
        origin: rnd(20) * M,
        earliest: rnd(100) * M,
        to,
        durationMs: (1 + rnd(90)) * M,
        stepMs: (1 + rnd(60)) * M,
        required: 1 + rnd(owners),
      };
      const expected: Array<Interval & { free: number[] }> = [];
      for (let s = opts.origin; s + opts.durationMs <= to; s += opts.stepMs) {
        if (s < opts.earliest) continue;
        const who = free.flatMap((list, o) => (list.some((i) => i.start <= s && s + opts.durationMs <= i.end) ? [o] : []));
        if (who.length >= opts.required) expected.push({ start: s, end: s + opts.durationMs, free: who });
      }
      expect(gridSlots(free, opts)).toEqual(expected);
    }
  });

  test('two owners in Berlin and London: common 30-minute slots only inside both owners’ hours, around a busy hour', () => {
    const day = 1440;
    const hours = (tz: string) => ({ timeZone: tz, days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
    // 2030-01-07 is a Monday; Berlin (+1) and London (+0) overlap 09:00-16:00 UTC.
    const from = Date.parse('2030-01-07T00:00:00Z');
    const to = from + day * M;
    const berlin = freeSlots([], from, to, 30 * M, hours('Europe/Berlin'));
    const london = freeSlots([{ start: from + 600 * M, end: from + 660 * M }], from, to, 30 * M, hours('Europe/London'));
    const got = gridSlots([berlin, london], { origin: from, earliest: from, to, durationMs: 30 * M, stepMs: 30 * M, required: 2 });
    const utc = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    expect(got.map((s) => utc(s.start))).toEqual(['09:00', '09:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30', '14:00', '14:30', '15:00', '15:30']);
  });
});
