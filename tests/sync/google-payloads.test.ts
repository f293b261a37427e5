// Captured Google payloads (copied from public captures, see /work/shared/google/fixtures) through
// the mapping and the series expansion, without a database: tombstones, cancelled instances, a
// "this and following" split with Google's UNTIL in UTC, and the zone helpers on DST days.
import { describe, expect, test } from 'bun:test';
import { expandSeries, originalKeyOf } from '../../src/sync/expand-series.ts';
import { isDeletion, toRow } from '../../src/sync/map-event.ts';
import { startOfDateInZone, wallTimeToInstant } from '../../src/sync/time-zone.ts';

const cal = { id: '00000000-0000-4000-8000-000000000001', ownerId: '00000000-0000-4000-8000-000000000002' };

// gcal-events-cancelled-exception-and-tombstone.json
const cancelledInstance = {
  kind: 'calendar#event',
  etag: '"2734519593376000"',
  id: 'tlf9q8uk5vjl2i2868q36dpi28_20130508T220000Z',
  status: 'cancelled',
  recurringEventId: 'tlf9q8uk5vjl2i2868q36dpi28',
  originalStartTime: { dateTime: '2013-05-08T16:00:00-06:00' },
};
const tombstone = { kind: 'calendar#event', etag: '"3279003328426000"', id: '0cu25g99pfkhlfarupevcjc297_20211123T170000Z', status: 'cancelled' };

// gcal-events-incr-this-and-following-new-master-id.json (America/Chicago)
const oldMaster = {
  id: '5hni4sj3ql1669otmjg7sn1mok',
  status: 'confirmed',
  etag: '"3485642597755262"',
  updated: '2025-03-24T13:01:38.877Z',
  summary: '🍜 Breakfast',
  start: { dateTime: '2025-02-09T08:00:00-06:00', timeZone: 'America/Chicago' },
  end: { dateTime: '2025-02-09T09:00:00-06:00', timeZone: 'America/Chicago' },
  recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250401T045959Z'],
};
const newMaster = {
  id: 'e5srrkr361upjc2be22u6ti4pe',
  status: 'confirmed',
  etag: '"3485642597755262"',
  updated: '2025-03-24T13:01:38.877Z',
  summary: '🥑 Breakfast: This And Following',
  start: { dateTime: '2025-04-01T07:00:00-05:00', timeZone: 'America/Chicago' },
  end: { dateTime: '2025-04-01T08:00:00-05:00', timeZone: 'America/Chicago' },
  recurrence: ['RRULE:FREQ=DAILY'],
};

const master = (e: typeof oldMaster) => {
  const row = toRow(e as never, cal, 'America/Chicago', 1);
  return { googleEventId: e.id, recurrence: row.recurrence!, allDay: false, startAt: row.startAt!, endAt: row.endAt!, startDate: null, endDate: null, timeZone: row.timeZone! };
};

describe('tombstones', () => {
  test('a cancelled instance is kept as a row of its series; a bare tombstone is a deletion', () => {
    expect(isDeletion(cancelledInstance as never)).toBe(false);
    const row = toRow(cancelledInstance as never, cal, 'America/Denver', 3);
    expect(row).toMatchObject({ status: 'cancelled', recurringEventId: 'tlf9q8uk5vjl2i2868q36dpi28', originalStartTime: '2013-05-08T16:00:00-06:00', startAt: null, endAt: null, syncGeneration: 3, etag: '"2734519593376000"' });
    expect(originalKeyOf(row.originalStartTime!)).toBe(String(Date.parse('2013-05-08T22:00:00Z')));
    expect(isDeletion(tombstone as never)).toBe(true);
    expect(toRow(tombstone as never, cal, 'UTC', 1)).toMatchObject({ status: 'cancelled', summary: null, attendees: [], raw: tombstone });
  });
});

describe('a "this and following" split', () => {
  test('the old series ends at its UNTIL (local midnight in UTC minus 1 s), the new one takes over', () => {
    const from = new Date('2025-03-30T00:00:00Z');
    const to = new Date('2025-04-03T00:00:00Z');
    const old = expandSeries(master(oldMaster), from, to);
    expect(old.map((o) => [o.instanceId, o.start.toISOString()])).toEqual([
      ['5hni4sj3ql1669otmjg7sn1mok_20250330T130000Z', '2025-03-30T13:00:00.000Z'],
      ['5hni4sj3ql1669otmjg7sn1mok_20250331T130000Z', '2025-03-31T13:00:00.000Z'],
    ]);
    const next = expandSeries(master(newMaster), from, to);
    expect(next.map((o) => o.start.toISOString())).toEqual(['2025-04-01T12:00:00.000Z', '2025-04-02T12:00:00.000Z']);
  });

  test('occurrences before the DST change (CST) and after it (CDT) stay at 08:00 local', () => {
    const around = expandSeries(master(oldMaster), new Date('2025-03-08T00:00:00Z'), new Date('2025-03-11T00:00:00Z'));
    // DST began in Chicago on Sunday 2025-03-09.
    expect(around.map((o) => o.start.toISOString())).toEqual(['2025-03-08T14:00:00.000Z', '2025-03-09T13:00:00.000Z', '2025-03-10T13:00:00.000Z']);
    expect(around.every((o) => o.end.getTime() - o.start.getTime() === 3_600_000)).toBe(true);
  });

  test('EXDATE in the series zone removes that occurrence', () => {
    const m = { ...master(newMaster), recurrence: ['RRULE:FREQ=DAILY;COUNT=3', 'EXDATE;TZID=America/Chicago:20250402T070000'] };
    expect(expandSeries(m, new Date('2025-03-30T00:00:00Z'), new Date('2025-04-10T00:00:00Z')).map((o) => o.instanceId)).toEqual([
      'e5srrkr361upjc2be22u6ti4pe_20250401T120000Z',
      'e5srrkr361upjc2be22u6ti4pe_20250403T120000Z',
    ]);
  });
});

describe('wall clock to instant', () => {
  test('local midnights around DST, gaps and overlaps', () => {
    expect(startOfDateInZone('2031-03-09', 'America/New_York').toISOString()).toBe('2031-03-09T05:00:00.000Z');
    expect(startOfDateInZone('2031-03-10', 'America/New_York').toISOString()).toBe('2031-03-10T04:00:00.000Z');
    expect(startOfDateInZone('2031-03-30', 'Europe/Paris').toISOString()).toBe('2031-03-29T23:00:00.000Z');
    // Midnight that does not exist (Sao Paulo started DST at 00:00 in 2018): the day starts at 01:00.
    expect(startOfDateInZone('2018-11-04', 'America/Sao_Paulo').toISOString()).toBe('2018-11-04T03:00:00.000Z');
    // 01:30 happens twice in New York on 2031-11-02: the first one.
    expect(wallTimeToInstant({ year: 2031, month: 11, day: 2, hour: 1, minute: 30 }, 'America/New_York').toISOString()).toBe('2031-11-02T05:30:00.000Z');
    // An unknown zone falls back to UTC instead of failing the sync.
    expect(startOfDateInZone('2031-01-01', 'Mars/Olympus').toISOString()).toBe('2031-01-01T00:00:00.000Z');
  });
});
