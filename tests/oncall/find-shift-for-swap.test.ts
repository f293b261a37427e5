// findShiftForSwap on its own: every rule of the search, one case each, plus the ordering.
import { describe, expect, test } from 'bun:test';
import { findShiftForSwap, swapRefusal, overlaps, type SwapShift, type ShiftStatus } from '../../src/oncall/find-shift-for-swap.ts';

const NOW = new Date('2030-03-01T12:00:00Z');
const H = 3600_000;
const at = (hoursFromNow: number) => new Date(NOW.getTime() + hoursFromNow * H);

function shift(id: string, who: string, startH: number, hours = 8, status: ShiftStatus = 'scheduled', swappedWithId?: string): SwapShift {
  return { id, assigneeEmail: who, start: at(startH), end: at(startH + hours), status, swappedWithId: swappedWithId ?? null };
}

/** A daily rotation ada, bob, cy, ada, bob, cy... of 8-hour shifts starting tomorrow. */
function rotation(n: number, people = ['ada@x.test', 'bob@x.test', 'cy@x.test']): SwapShift[] {
  return Array.from({ length: n }, (_, i) => shift(`s${String(i).padStart(2, '0')}`, people[i % people.length]!, 24 * (i + 1)));
}

describe('findShiftForSwap', () => {
  test('picks the nearest later shift of someone else', () => {
    const shifts = rotation(6);
    const declined = { ...shifts[0]!, status: 'declined' as const };
    const all = [declined, ...shifts.slice(1)];
    expect(findShiftForSwap({ declined, shifts: all, now: NOW })?.id).toBe('s01');
  });

  test('skips later shifts of the same person', () => {
    const shifts = [
      shift('a', 'ada@x.test', 24, 8, 'declined'),
      shift('b', 'ada@x.test', 48),
      shift('c', 'bob@x.test', 72),
    ];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('compares assignees case-insensitively', () => {
    const shifts = [shift('a', 'Ada@X.test', 24, 8, 'declined'), shift('b', 'ada@x.test', 48), shift('c', 'bob@x.test', 72)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('falls back to the nearest earlier shift when none comes after', () => {
    const shifts = [
      shift('early', 'bob@x.test', 10),
      shift('mid', 'cy@x.test', 30),
      shift('last', 'ada@x.test', 60, 8, 'declined'),
    ];
    expect(findShiftForSwap({ declined: shifts[2]!, shifts, now: NOW })?.id).toBe('mid');
  });

  test('prefers any later shift over a nearer earlier one', () => {
    const shifts = [
      shift('before', 'bob@x.test', 40),
      shift('declined', 'ada@x.test', 48, 8, 'declined'),
      shift('farAfter', 'cy@x.test', 240),
    ];
    expect(findShiftForSwap({ declined: shifts[1]!, shifts, now: NOW })?.id).toBe('farAfter');
  });

  test('never a shift that has started or ended', () => {
    const shifts = [
      shift('past', 'bob@x.test', -30),
      shift('running', 'cy@x.test', -2, 8),
      shift('declined', 'ada@x.test', 24, 8, 'declined'),
    ];
    expect(findShiftForSwap({ declined: shifts[2]!, shifts, now: NOW })).toBeUndefined();
  });

  test('a shift starting exactly now counts as started', () => {
    const shifts = [shift('now', 'bob@x.test', 0), shift('declined', 'ada@x.test', 24, 8, 'declined')];
    expect(findShiftForSwap({ declined: shifts[1]!, shifts, now: NOW })).toBeUndefined();
  });

  test('nothing when the declined shift itself is not in the future', () => {
    const shifts = [shift('declined', 'ada@x.test', -1, 8, 'declined'), shift('b', 'bob@x.test', 24)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })).toBeUndefined();
  });

  test.each(['declined', 'uncovered'] as const)('never a %s shift', (status) => {
    const shifts = [shift('a', 'ada@x.test', 24, 8, 'declined'), shift('b', 'bob@x.test', 48, 8, status), shift('c', 'cy@x.test', 72)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('an already swapped shift is a fair candidate', () => {
    const shifts = [shift('a', 'ada@x.test', 24, 8, 'declined'), shift('b', 'bob@x.test', 48, 8, 'swapped', 'z'), shift('c', 'cy@x.test', 72)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('b');
  });

  test('no ping-pong: never the shift it was just swapped with', () => {
    // bob took "a" from ada, ada took "b": bob declining "a" must not hand it back to ada via "b".
    const shifts = [
      shift('a', 'bob@x.test', 24, 8, 'declined', 'b'),
      shift('b', 'ada@x.test', 48, 8, 'swapped', 'a'),
      shift('c', 'cy@x.test', 72),
    ];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('no ping-pong even when it was the only candidate', () => {
    const shifts = [shift('a', 'bob@x.test', 24, 8, 'declined', 'b'), shift('b', 'ada@x.test', 48, 8, 'swapped', 'a')];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })).toBeUndefined();
  });

  test('never gives a shift back to someone who already declined it', () => {
    const shifts = [
      shift('a', 'bob@x.test', 24, 8, 'declined', 'b'),
      shift('b', 'cy@x.test', 48, 8, 'swapped', 'a'),
      shift('c', 'ada@x.test', 72),
      shift('d', 'dee@x.test', 96),
    ];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW, excludeAssignees: ['ADA@x.test'] })?.id).toBe('d');
  });

  test('skips shifts already tried for this decline', () => {
    const shifts = [shift('a', 'ada@x.test', 24, 8, 'declined'), shift('b', 'bob@x.test', 48), shift('c', 'cy@x.test', 72)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW, excludeShiftIds: ['b'] })?.id).toBe('c');
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW, excludeShiftIds: ['b', 'c'] })).toBeUndefined();
  });

  test('the candidate assignee must not end with two overlapping shifts', () => {
    // bob holds a shift overlapping "a" (not a candidate itself): he cannot take "a" for his "b".
    const shifts = [
      shift('a', 'ada@x.test', 24, 8, 'declined'),
      shift('bobBusy', 'bob@x.test', 20, 8, 'uncovered'),
      shift('b', 'bob@x.test', 48),
      shift('c', 'cy@x.test', 72),
    ];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('the decliner must not end with two overlapping shifts', () => {
    // ada holds "x" overlapping bob's "b": taking "b" would double-book her.
    const shifts = [
      shift('a', 'ada@x.test', 24, 8, 'declined'),
      shift('x', 'ada@x.test', 46, 4),
      shift('b', 'bob@x.test', 48, 8),
      shift('c', 'cy@x.test', 72),
    ];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('never a shift overlapping the declined one (the decliner would still be on call)', () => {
    // A secondary layer: bob's "b" runs at the same time as ada's declined "a".
    const shifts = [shift('a', 'ada@x.test', 24, 8, 'declined'), shift('b', 'bob@x.test', 26, 8), shift('c', 'cy@x.test', 48)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('the shift given away does not count against its new holder (a manual swap of overlapping shifts)', () => {
    const x = shift('x', 'ada@x.test', 24, 8);
    const y = shift('y', 'bob@x.test', 26, 8);
    expect(swapRefusal(x, y, [x, y], NOW)).toBeUndefined();
  });

  test('back-to-back shifts do not overlap', () => {
    const shifts = [
      shift('a', 'ada@x.test', 24, 8, 'declined'),
      shift('bobAdjacent', 'bob@x.test', 32, 8),
      shift('b', 'bob@x.test', 72, 8),
    ];
    // bob holds 32-40, taking 24-32 is fine; nearest after "a" is bobAdjacent itself (bob's).
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('bobAdjacent');
  });

  test('a declined shift still held counts for overlaps (conservative)', () => {
    const shifts = [
      shift('a', 'ada@x.test', 24, 8, 'declined'),
      shift('bobDeclined', 'bob@x.test', 26, 8, 'declined'),
      shift('c', 'cy@x.test', 72),
    ];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('c');
  });

  test('equal start times tie-break on id, deterministically', () => {
    const shifts = [shift('a', 'ada@x.test', 24, 8, 'declined'), shift('z', 'bob@x.test', 72), shift('m', 'cy@x.test', 72)];
    expect(findShiftForSwap({ declined: shifts[0]!, shifts, now: NOW })?.id).toBe('m');
    expect(findShiftForSwap({ declined: shifts[0]!, shifts: [...shifts].reverse(), now: NOW })?.id).toBe('m');
  });

  test('nothing in a group of one', () => {
    const shifts = rotation(4, ['solo@x.test']);
    expect(findShiftForSwap({ declined: { ...shifts[0]!, status: 'declined' }, shifts, now: NOW })).toBeUndefined();
  });

  test('nothing when there are no other shifts', () => {
    const declined = shift('a', 'ada@x.test', 24, 8, 'declined');
    expect(findShiftForSwap({ declined, shifts: [declined], now: NOW })).toBeUndefined();
  });

  test('a decline of a middle shift in a long rotation takes the next one of another person', () => {
    const shifts = rotation(30);
    const declined = { ...shifts[10]!, status: 'declined' as const }; // s10 is bob's
    const all = shifts.map((s) => (s.id === declined.id ? declined : s));
    expect(findShiftForSwap({ declined, shifts: all, now: NOW })?.id).toBe('s11');
  });

  test('does not mutate its input', () => {
    const shifts = rotation(5);
    const copy = JSON.stringify(shifts);
    findShiftForSwap({ declined: shifts[2]!, shifts, now: NOW });
    expect(JSON.stringify(shifts)).toBe(copy);
  });
});

describe('swapRefusal', () => {
  const a = shift('a', 'ada@x.test', 24);
  const b = shift('b', 'bob@x.test', 48);
  test('accepts a valid pair', () => expect(swapRefusal(a, b, [a, b], NOW)).toBeUndefined());
  test('refuses the same shift', () => expect(swapRefusal(a, a, [a], NOW)).toContain('itself'));
  test('refuses the same person', () => expect(swapRefusal(a, shift('c', 'ADA@x.test', 72), [a], NOW)).toContain('same assignee'));
  test('refuses a started declined shift', () => expect(swapRefusal(shift('p', 'ada@x.test', -1), b, [b], NOW)).toContain('declined shift'));
  test('refuses a started other shift', () => expect(swapRefusal(a, shift('p', 'bob@x.test', -1), [a], NOW)).toContain('other shift'));
  test('refuses a double booking', () => {
    const bobBusy = shift('busy', 'bob@x.test', 20, 8);
    expect(swapRefusal(a, b, [a, b, bobBusy], NOW)).toContain('bob@x.test');
  });
});

describe('overlaps', () => {
  test('half-open intervals', () => {
    expect(overlaps({ start: at(0), end: at(2) }, { start: at(2), end: at(3) })).toBe(false);
    expect(overlaps({ start: at(0), end: at(2) }, { start: at(1), end: at(3) })).toBe(true);
    expect(overlaps({ start: at(0), end: at(5) }, { start: at(1), end: at(2) })).toBe(true);
  });
});
