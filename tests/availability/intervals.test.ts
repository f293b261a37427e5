// Wall-clock conversions at DST edges, interval merging and free slots: pure, expected values by hand.
import { describe, expect, test } from 'bun:test';
import { wallToInstant, instantToWall, offsetAt } from '../../src/time-zones/index.ts';
import { freeSlots, mergeIntervals, workingWindows } from '../../src/availability/intervals.ts';

const ms = (iso: string) => Date.parse(iso);
const iso = (n: number) => new Date(n).toISOString();
const wall = (s: string) => ms(`${s}Z`);
const pairs = (xs: Array<{ start: number; end: number }>) => xs.map((x) => [iso(x.start), iso(x.end)]);

describe('wall clock <-> instant', () => {
  const cases: Array<[string, string, string, string]> = [
    ['ordinary winter time', 'America/New_York', '2025-01-15T09:00:00', '2025-01-15T14:00:00.000Z'],
    ['ordinary summer time', 'America/New_York', '2025-07-15T09:00:00', '2025-07-15T13:00:00.000Z'],
    ['in the spring-forward gap: read with the offset before it (RFC 5545 §3.3.5)', 'America/New_York', '2025-03-09T02:30:00', '2025-03-09T07:30:00.000Z'],
    ['twice in the fall-back hour: the first one', 'America/New_York', '2025-11-02T01:30:00', '2025-11-02T05:30:00.000Z'],
    ['midnight that does not exist (Chile, clocks jump 00:00 -> 01:00)', 'America/Santiago', '2024-09-08T00:00:00', '2024-09-08T04:00:00.000Z'],
    ['a half-hour zone', 'Asia/Kolkata', '2025-03-24T09:00:00', '2025-03-24T03:30:00.000Z'],
    ['a 45-minute zone', 'Asia/Kathmandu', '2025-03-24T09:00:00', '2025-03-24T03:15:00.000Z'],
  ];
  for (const [name, tz, local, expected] of cases) {
    test(name, () => expect(iso(wallToInstant(wall(local), tz))).toBe(expected));
  }

  test('instant -> wall and offsets', () => {
    expect(iso(instantToWall(ms('2025-03-09T07:30:00Z'), 'America/New_York'))).toBe('2025-03-09T03:30:00.000Z');
    expect(offsetAt('Europe/Paris', ms('2025-07-01T00:00:00Z'))).toBe(2 * 3_600_000);
    expect(offsetAt('UTC', ms('2025-07-01T00:00:00Z'))).toBe(0);
  });
});

describe('mergeIntervals', () => {
  test('overlapping and touching intervals merge; empty ones vanish; order does not matter', () => {
    const got = mergeIntervals([
      { start: ms('2025-01-01T13:00:00Z'), end: ms('2025-01-01T14:00:00Z') },
      { start: ms('2025-01-01T09:30:00Z'), end: ms('2025-01-01T11:00:00Z') },
      { start: ms('2025-01-01T09:00:00Z'), end: ms('2025-01-01T10:00:00Z') },
      { start: ms('2025-01-01T11:00:00Z'), end: ms('2025-01-01T11:30:00Z') },
      { start: ms('2025-01-01T12:00:00Z'), end: ms('2025-01-01T12:00:00Z') },
      { start: ms('2025-01-01T13:15:00Z'), end: ms('2025-01-01T13:45:00Z') },
    ]);
    expect(pairs(got)).toEqual([
      ['2025-01-01T09:00:00.000Z', '2025-01-01T11:30:00.000Z'],
      ['2025-01-01T13:00:00.000Z', '2025-01-01T14:00:00.000Z'],
    ]);
  });
});

describe('freeSlots', () => {
  const busy = [
    { start: ms('2025-01-01T09:00:00Z'), end: ms('2025-01-01T10:00:00Z') },
    { start: ms('2025-01-01T09:30:00Z'), end: ms('2025-01-01T11:00:00Z') },
    { start: ms('2025-01-01T13:00:00Z'), end: ms('2025-01-01T14:00:00Z') },
  ];
  const from = ms('2025-01-01T08:00:00Z');
  const to = ms('2025-01-01T18:00:00Z');

  test('gaps of at least the duration', () => {
    expect(pairs(freeSlots(busy, from, to, 60 * 60_000))).toEqual([
      ['2025-01-01T08:00:00.000Z', '2025-01-01T09:00:00.000Z'],
      ['2025-01-01T11:00:00.000Z', '2025-01-01T13:00:00.000Z'],
      ['2025-01-01T14:00:00.000Z', '2025-01-01T18:00:00.000Z'],
    ]);
    expect(pairs(freeSlots(busy, from, to, 121 * 60_000))).toEqual([['2025-01-01T14:00:00.000Z', '2025-01-01T18:00:00.000Z']]);
  });

  test('busy time reaching outside the range', () => {
    expect(pairs(freeSlots([{ start: ms('2025-01-01T07:00:00Z'), end: ms('2025-01-01T19:00:00Z') }], from, to, 60_000))).toEqual([]);
  });

  test('working hours in their own zone, weekdays only, across a DST change', () => {
    const hours = { timeZone: 'America/New_York', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    const got = freeSlots(
      [{ start: ms('2025-03-10T15:00:00Z'), end: ms('2025-03-10T16:00:00Z') }],
      ms('2025-03-07T00:00:00Z'),
      ms('2025-03-11T00:00:00Z'),
      30 * 60_000,
      hours,
    );
    expect(pairs(got)).toEqual([
      ['2025-03-07T14:00:00.000Z', '2025-03-07T22:00:00.000Z'], // Fri 09:00-17:00 EST
      // Sat, Sun: not working days
      ['2025-03-10T13:00:00.000Z', '2025-03-10T15:00:00.000Z'], // Mon 09:00 EDT until the busy hour
      ['2025-03-10T16:00:00.000Z', '2025-03-10T21:00:00.000Z'], // ... until 17:00 EDT
    ]);
  });

  test('00:00-24:00 every day is one window: a free stretch runs through midnight', () => {
    const hours = { timeZone: 'Europe/Paris', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
    expect(pairs(workingWindows(hours, ms('2025-03-01T00:00:00Z'), ms('2025-03-04T00:00:00Z')))).toEqual([
      ['2025-03-01T00:00:00.000Z', '2025-03-04T00:00:00.000Z'],
    ]);
  });
});
