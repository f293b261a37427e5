// The pure core, table-driven: real-shaped Google events in, busy intervals out, each expected
// interval written out by hand (UTC) with the local times it stands for.
import { describe, expect, test } from 'bun:test';
import { blockedTimesFor, type AvailabilityPreferences } from '../../src/availability/blocked-times.ts';
import { ownerResponse, sourceFromGoogleEvent, type GoogleEventShape } from '../../src/availability/source-event.ts';
import { E } from './google-events.ts';

const ms = (iso: string) => Date.parse(iso);
const WIDE = { from: ms('2000-01-01T00:00:00Z'), until: ms('2030-01-01T00:00:00Z') };

interface Case {
  name: string;
  events: GoogleEventShape[];
  calendarTz: string;
  prefs?: Partial<AvailabilityPreferences>;
  horizon?: [string, string];
  /** [start, end] in UTC; the comment beside each gives the local wall clock. */
  expected: Array<[string, string]>;
}

const CHICAGO = 'America/Chicago';

const cases: Case[] = [
  {
    name: 'timed event',
    events: [E.timed],
    calendarTz: CHICAGO,
    expected: [['2025-03-24T14:00:00.000Z', '2025-03-24T15:30:00.000Z']], // 09:00-10:30 CDT
  },
  { name: 'all-day event marked "Available" (transparent) never blocks', events: [E.allDayTransparent], calendarTz: 'Europe/Bucharest', expected: [] },
  {
    name: 'all-day event: midnight to midnight in the calendar zone',
    events: [E.allDay],
    calendarTz: 'Europe/Bucharest',
    expected: [['2023-09-23T21:00:00.000Z', '2023-09-24T21:00:00.000Z']], // 24 Sep 00:00 EEST -> 25 Sep 00:00 EEST
  },
  {
    name: 'all-day event on the spring-forward day lasts 23 hours',
    events: [E.allDaySpringForward],
    calendarTz: 'Europe/Bucharest',
    expected: [['2025-03-29T22:00:00.000Z', '2025-03-30T21:00:00.000Z']], // 30 Mar 00:00 EET (+2) -> 31 Mar 00:00 EEST (+3)
  },
  {
    name: 'all-day event on the fall-back day lasts 25 hours',
    events: [E.allDayFallBack],
    calendarTz: 'Europe/Bucharest',
    expected: [['2025-10-25T21:00:00.000Z', '2025-10-26T22:00:00.000Z']], // 26 Oct 00:00 EEST (+3) -> 27 Oct 00:00 EET (+2)
  },
  {
    name: 'multi-day all-day event across a DST change is one 71-hour interval',
    events: [E.multiDayAllDay],
    calendarTz: 'America/Los_Angeles',
    expected: [['2025-03-08T08:00:00.000Z', '2025-03-11T07:00:00.000Z']], // 8 Mar 00:00 PST -> 11 Mar 00:00 PDT
  },
  {
    name: 'the same all-day dates on a calendar in another zone block other instants',
    events: [E.multiDayAllDay],
    calendarTz: 'Asia/Tokyo',
    expected: [['2025-03-07T15:00:00.000Z', '2025-03-10T15:00:00.000Z']], // 8 Mar 00:00 JST -> 11 Mar 00:00 JST
  },
  { name: 'transparent timed event', events: [E.transparent], calendarTz: CHICAGO, expected: [] },
  { name: 'tentative event (status): not blocking by default', events: [E.tentativeStatus], calendarTz: CHICAGO, expected: [] },
  {
    name: 'tentative event (status): blocking when the owner prefers',
    events: [E.tentativeStatus],
    calendarTz: CHICAGO,
    prefs: { tentativeBlocks: true },
    expected: [['2025-03-24T19:00:00.000Z', '2025-03-24T20:00:00.000Z']], // 14:00-15:00 CDT
  },
  { name: 'owner answered "maybe": not blocking by default', events: [E.tentativeSelf], calendarTz: CHICAGO, expected: [] },
  {
    name: 'owner answered "maybe": blocking when the owner prefers',
    events: [E.tentativeSelf],
    calendarTz: CHICAGO,
    prefs: { tentativeBlocks: true },
    expected: [['2025-03-24T20:00:00.000Z', '2025-03-24T21:00:00.000Z']], // 15:00-16:00 CDT
  },
  { name: 'declined by the owner', events: [E.declinedSelf], calendarTz: CHICAGO, expected: [] },
  { name: 'declined by the owner, even with tentative preferred', events: [E.declinedSelf], calendarTz: CHICAGO, prefs: { tentativeBlocks: true }, expected: [] },
  {
    name: 'invitation not answered yet (needsAction) blocks',
    events: [E.needsAction],
    calendarTz: CHICAGO,
    expected: [['2025-03-24T22:00:00.000Z', '2025-03-24T23:00:00.000Z']], // 17:00-18:00 CDT
  },
  {
    name: 'accepted invitation blocks',
    events: [E.acceptedSelf],
    calendarTz: CHICAGO,
    expected: [['2025-03-24T23:00:00.000Z', '2025-03-25T00:00:00.000Z']], // 18:00-19:00 CDT
  },
  { name: 'cancelled event', events: [E.cancelledSingle], calendarTz: CHICAGO, expected: [] },
  { name: 'workingLocation never blocks, even opaque', events: [E.workingLocation], calendarTz: CHICAGO, expected: [] },
  { name: 'birthday never blocks', events: [E.birthday], calendarTz: CHICAGO, horizon: ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'], expected: [] },
  {
    name: 'outOfOffice blocks',
    events: [E.outOfOffice],
    calendarTz: CHICAGO,
    expected: [['2025-03-25T14:00:00.000Z', '2025-03-25T22:00:00.000Z']], // 09:00-17:00 CDT
  },
  {
    name: 'focusTime blocks',
    events: [E.focusTime],
    calendarTz: CHICAGO,
    expected: [['2025-03-26T14:00:00.000Z', '2025-03-26T16:00:00.000Z']], // 09:00-11:00 CDT
  },
  { name: 'endTimeUnspecified, Gmail-created and transparent (observed shape)', events: [E.endUnspecifiedGmail], calendarTz: 'Europe/London', expected: [] },
  {
    name: 'endTimeUnspecified: the compatibility end Google sends is used',
    events: [E.endUnspecifiedOpaque],
    calendarTz: 'Europe/Paris',
    expected: [['2025-03-27T18:30:00.000Z', '2025-03-27T19:30:00.000Z']], // 19:30-20:30 CET
  },
  {
    name: 'endTimeUnspecified with an end equal to the start: one hour',
    events: [E.endUnspecifiedZero],
    calendarTz: 'Europe/Paris',
    expected: [['2025-03-27T18:30:00.000Z', '2025-03-27T19:30:00.000Z']],
  },
  {
    name: 'cancelled instance removes its occurrence (daily 08:00 Chicago)',
    events: [E.breakfastMaster, E.breakfastCancelled],
    calendarTz: CHICAGO,
    horizon: ['2025-03-23T00:00:00Z', '2025-03-28T00:00:00Z'],
    expected: [
      ['2025-03-23T13:00:00.000Z', '2025-03-23T14:00:00.000Z'], // 23 Mar 08:00 CDT
      ['2025-03-24T13:00:00.000Z', '2025-03-24T14:00:00.000Z'],
      // 25 Mar cancelled
      ['2025-03-26T13:00:00.000Z', '2025-03-26T14:00:00.000Z'],
      ['2025-03-27T13:00:00.000Z', '2025-03-27T14:00:00.000Z'],
    ],
  },
  {
    name: 'cancelled instance given before its master: same result',
    events: [E.breakfastCancelled, E.breakfastMaster],
    calendarTz: CHICAGO,
    horizon: ['2025-03-24T00:00:00Z', '2025-03-27T00:00:00Z'],
    expected: [
      ['2025-03-24T13:00:00.000Z', '2025-03-24T14:00:00.000Z'],
      ['2025-03-26T13:00:00.000Z', '2025-03-26T14:00:00.000Z'],
    ],
  },
  {
    name: 'series crossing the US spring-forward keeps 08:00 local',
    events: [E.breakfastMaster],
    calendarTz: CHICAGO,
    horizon: ['2025-03-08T00:00:00Z', '2025-03-11T00:00:00Z'],
    expected: [
      ['2025-03-08T14:00:00.000Z', '2025-03-08T15:00:00.000Z'], // 08:00 CST (-6)
      ['2025-03-09T13:00:00.000Z', '2025-03-09T14:00:00.000Z'], // 08:00 CDT (-5), the change was at 02:00
      ['2025-03-10T13:00:00.000Z', '2025-03-10T14:00:00.000Z'],
    ],
  },
  {
    name: 'UNTIL in UTC ends the series on the local day it names',
    events: [E.breakfastMaster],
    calendarTz: CHICAGO,
    horizon: ['2025-03-30T00:00:00Z', '2025-04-03T00:00:00Z'],
    expected: [
      ['2025-03-30T13:00:00.000Z', '2025-03-30T14:00:00.000Z'],
      ['2025-03-31T13:00:00.000Z', '2025-03-31T14:00:00.000Z'], // UNTIL=20250401T045959Z is 31 Mar 23:59:59 CDT
    ],
  },
  {
    name: 'modified instances replace their occurrence, one moved to the next day',
    events: [E.journalMaster, E.journalMovedSameDay, E.journalMovedNextDay],
    calendarTz: CHICAGO,
    horizon: ['2025-03-14T00:00:00Z', '2025-03-22T00:00:00Z'],
    expected: [
      ['2025-03-14T13:15:00.000Z', '2025-03-14T14:00:00.000Z'], // 08:15-09:00 CDT
      ['2025-03-15T21:00:00.000Z', '2025-03-15T21:45:00.000Z'], // 15 Mar moved to 16:00-16:45 CDT
      ['2025-03-16T13:15:00.000Z', '2025-03-16T14:00:00.000Z'],
      ['2025-03-17T13:15:00.000Z', '2025-03-17T14:00:00.000Z'],
      ['2025-03-18T13:15:00.000Z', '2025-03-18T14:00:00.000Z'],
      // 19 Mar 08:15 is gone: moved to 20 Mar 16:30
      ['2025-03-20T13:15:00.000Z', '2025-03-20T14:00:00.000Z'],
      ['2025-03-20T21:30:00.000Z', '2025-03-20T22:15:00.000Z'], // the moved one, 16:30-17:15 CDT
      ['2025-03-21T13:15:00.000Z', '2025-03-21T14:00:00.000Z'],
    ],
  },
  {
    name: 'a moved instance belongs to the horizon of its ORIGINAL start (19 Mar), wherever it went',
    events: [E.journalMaster, E.journalMovedNextDay],
    calendarTz: CHICAGO,
    horizon: ['2025-03-19T00:00:00Z', '2025-03-20T00:00:00Z'],
    expected: [['2025-03-20T21:30:00.000Z', '2025-03-20T22:15:00.000Z']],
  },
  {
    name: '"this and following" split: the old master stops at UNTIL, the new one takes over',
    events: [E.journalMaster, E.journalMovedSameDay, E.journalMovedNextDay],
    calendarTz: CHICAGO,
    horizon: ['2025-03-24T00:00:00Z', '2025-03-28T00:00:00Z'],
    expected: [
      ['2025-03-24T13:15:00.000Z', '2025-03-24T14:00:00.000Z'],
      ['2025-03-25T13:15:00.000Z', '2025-03-25T14:00:00.000Z'], // UNTIL=20250326T045959Z = 25 Mar 23:59:59 CDT
    ],
  },
  {
    name: 'the new master of the split',
    events: [E.journalNewMaster],
    calendarTz: CHICAGO,
    horizon: ['2025-03-24T00:00:00Z', '2025-03-28T00:00:00Z'],
    expected: [
      ['2025-03-26T13:15:00.000Z', '2025-03-26T14:00:00.000Z'],
      ['2025-03-27T13:15:00.000Z', '2025-03-27T14:00:00.000Z'],
    ],
  },
  {
    name: 'instance edited in place (title only): one interval, not two',
    events: [E.dishesMaster, E.dishesEdited26],
    calendarTz: CHICAGO,
    horizon: ['2025-03-24T00:00:00Z', '2025-03-28T00:00:00Z'],
    expected: [
      ['2025-03-24T12:30:00.000Z', '2025-03-24T13:15:00.000Z'], // 07:30-08:15 CDT
      ['2025-03-25T12:30:00.000Z', '2025-03-25T13:15:00.000Z'],
      ['2025-03-26T12:30:00.000Z', '2025-03-26T13:15:00.000Z'],
      ['2025-03-27T12:30:00.000Z', '2025-03-27T13:15:00.000Z'],
    ],
  },
  {
    name: 'weekly series with an EXDATE in the series zone',
    events: [E.standupWeekly],
    calendarTz: 'Europe/Paris',
    horizon: ['2025-05-12T00:00:00Z', '2025-05-26T00:00:00Z'],
    expected: [
      ['2025-05-13T08:00:00.000Z', '2025-05-13T09:00:00.000Z'], // Tue 10:00 CEST
      ['2025-05-15T08:00:00.000Z', '2025-05-15T09:00:00.000Z'], // Thu
      // Tue 20 May excluded
      ['2025-05-22T08:00:00.000Z', '2025-05-22T09:00:00.000Z'],
    ],
  },
  {
    name: 'COUNT, an EXDATE in UTC and an RDATE',
    events: [E.standupUtcExdateRdate],
    calendarTz: 'Europe/Paris',
    horizon: ['2025-05-12T00:00:00Z', '2025-06-30T00:00:00Z'],
    expected: [
      ['2025-05-13T08:00:00.000Z', '2025-05-13T09:00:00.000Z'],
      // Thu 15 May excluded by EXDATE:20250515T080000Z (10:00 CEST)
      ['2025-05-16T13:00:00.000Z', '2025-05-16T14:00:00.000Z'], // RDATE Fri 15:00 CEST
      ['2025-05-20T08:00:00.000Z', '2025-05-20T09:00:00.000Z'],
      ['2025-05-22T08:00:00.000Z', '2025-05-22T09:00:00.000Z'], // the 4th and last of COUNT=4
    ],
  },
  {
    name: 'series in a zone other than the calendar: 09:00 New York, not 15:00 Berlin',
    events: [E.newYorkOnBerlinCalendar],
    calendarTz: 'Europe/Berlin',
    horizon: ['2025-03-03T00:00:00Z', '2025-04-01T00:00:00Z'],
    expected: [
      ['2025-03-03T14:00:00.000Z', '2025-03-03T14:30:00.000Z'], // 09:00 EST = 15:00 CET
      ['2025-03-10T13:00:00.000Z', '2025-03-10T13:30:00.000Z'], // 09:00 EDT = 14:00 CET
      ['2025-03-17T13:00:00.000Z', '2025-03-17T13:30:00.000Z'],
      ['2025-03-24T13:00:00.000Z', '2025-03-24T13:30:00.000Z'],
      ['2025-03-31T13:00:00.000Z', '2025-03-31T13:30:00.000Z'], // 09:00 EDT = 15:00 CEST
    ],
  },
  {
    name: 'weekly all-day series with an EXDATE;VALUE=DATE across the EU spring change',
    events: [E.allDayWeekly],
    calendarTz: 'Europe/Berlin',
    horizon: ['2025-03-15T00:00:00Z', '2025-04-30T00:00:00Z'],
    expected: [
      ['2025-03-20T23:00:00.000Z', '2025-03-21T23:00:00.000Z'], // Fri 21 Mar, CET
      ['2025-03-27T23:00:00.000Z', '2025-03-28T23:00:00.000Z'], // Fri 28 Mar, CET
      // Fri 4 Apr excluded
      ['2025-04-10T22:00:00.000Z', '2025-04-11T22:00:00.000Z'], // Fri 11 Apr, CEST
    ],
  },
  {
    name: 'an instance without its master (invited to one occurrence) blocks on its own',
    events: [E.lonelyInstance],
    calendarTz: CHICAGO,
    horizon: ['2025-03-20T00:00:00Z', '2025-03-28T00:00:00Z'],
    expected: [['2025-03-24T15:00:00.000Z', '2025-03-24T16:00:00.000Z']], // 10:00-11:00 CDT
  },
  {
    name: '...but only when its original start is in the horizon',
    events: [E.lonelyInstance],
    calendarTz: CHICAGO,
    horizon: ['2025-03-25T00:00:00Z', '2025-04-01T00:00:00Z'],
    expected: [],
  },
  {
    name: 'series declined by the owner, one occurrence accepted: only that one blocks',
    events: [E.declinedSeriesAcceptedOnce, E.acceptedOnce],
    calendarTz: CHICAGO,
    horizon: ['2025-03-20T00:00:00Z', '2025-04-01T00:00:00Z'],
    expected: [['2025-03-25T18:00:00.000Z', '2025-03-25T19:00:00.000Z']], // 13:00-14:00 CDT
  },
  {
    name: 'cancelled master: the whole series is gone, instances included',
    events: [{ ...E.journalMaster, status: 'cancelled' }, E.journalMovedSameDay],
    calendarTz: CHICAGO,
    horizon: ['2025-03-14T00:00:00Z', '2025-03-22T00:00:00Z'],
    expected: [],
  },
];

describe('blockedTimesFor: real-shaped Google events, expected intervals by hand', () => {
  for (const c of cases) {
    test(c.name, () => {
      const horizon = c.horizon ? { from: ms(c.horizon[0]), until: ms(c.horizon[1]) } : WIDE;
      const got = blockedTimesFor(
        c.events.map(sourceFromGoogleEvent),
        c.calendarTz,
        { tentativeBlocks: false, ...c.prefs },
        horizon,
      ).map((b) => [new Date(b.start).toISOString(), new Date(b.end).toISOString()]);
      expect(got).toEqual(c.expected);
    });
  }
});

describe('horizon windows partition a series', () => {
  test('expanding [a, b) then [b, c) gives exactly [a, c), with exceptions', () => {
    const events = [E.journalMaster, E.journalMovedSameDay, E.journalMovedNextDay].map(sourceFromGoogleEvent);
    const prefs = { tentativeBlocks: false };
    const a = ms('2025-03-10T00:00:00Z');
    const b = ms('2025-03-19T12:00:00Z'); // between the 19 Mar slot and its moved instance
    const c = ms('2025-03-30T00:00:00Z');
    const whole = blockedTimesFor(events, CHICAGO, prefs, { from: a, until: c });
    const parts = [
      ...blockedTimesFor(events, CHICAGO, prefs, { from: a, until: b }, { recurringOnly: true }),
      ...blockedTimesFor(events, CHICAGO, prefs, { from: b, until: c }, { recurringOnly: true }),
    ].sort((x, y) => x.start - y.start || x.end - y.end);
    expect(parts).toEqual(whole);
    expect(whole.length).toBe(14); // 12 Mar .. 25 Mar, the 19th moved to the 20th
  });

  test('recurringOnly leaves one-off events out (the horizon job must not duplicate them)', () => {
    expect(blockedTimesFor(sourceFromGoogleEvent(E.timed), CHICAGO, { tentativeBlocks: false }, WIDE, { recurringOnly: true })).toEqual([]);
  });
});

describe("whose answer counts (ownerResponse)", () => {
  const OWNER = 'dana@example.com';
  const TEAM = 'team123@group.calendar.google.com';
  test("the owner's own entry first, on any calendar, whatever `self` marks", () => {
    // On a shared calendar Google marks that calendar's entry self, not the reader's.
    expect(ownerResponse([{ email: TEAM, self: true, responseStatus: 'accepted' }, { email: 'Dana@Example.com', responseStatus: 'declined' }], OWNER)).toBe('declined');
    expect(ownerResponse([{ email: 'other@example.com', responseStatus: 'accepted' }, { email: OWNER, responseStatus: 'declined' }], OWNER)).toBe('declined');
  });
  test("the calendar's own entry (self) when the owner is not a guest; null when neither is", () => {
    expect(ownerResponse([{ email: TEAM, self: true, responseStatus: 'declined' }, { email: 'x@example.com', responseStatus: 'accepted' }], OWNER)).toBe('declined');
    expect(ownerResponse([{ email: 'x@example.com', responseStatus: 'declined' }], OWNER)).toBeNull();
    expect(ownerResponse(null, OWNER)).toBeNull();
    // Owner unknown: only self is known (on the primary calendar it is the owner).
    expect(ownerResponse([{ email: OWNER, self: true, responseStatus: 'tentative' }], null)).toBe('tentative');
  });
});

describe('what is kept of an event', () => {
  test('no title, description, location or attendees survive normalisation', () => {
    const src = sourceFromGoogleEvent(E.acceptedSelf);
    const text = JSON.stringify(src);
    for (const secret of ['Dentist', 'x-rays', 'Main St', 'boss@example.com', 'test.user@gmail.com']) expect(text).not.toContain(secret);
    expect(src.selfResponse).toBe('accepted');
  });

  test('a bare tombstone with an instance id is read as a cancelled instance of its series', () => {
    const src = sourceFromGoogleEvent(E.bareInstanceTombstone);
    expect(src).toMatchObject({
      seriesId: '0cu25g99pfkhlfarupevcjc297',
      status: 'cancelled',
      originalStart: { dateTime: '2021-11-23T17:00:00Z' },
    });
  });

  test('an ordinary event id is never split, even with digits after an underscore', () => {
    const src = sourceFromGoogleEvent({ ...E.timed, id: 'abc_20250101' });
    expect(src.seriesId).toBe('abc_20250101');
  });

  test('a broken RRULE is reported and the master counts as its first occurrence only', () => {
    const errors: string[] = [];
    const got = blockedTimesFor(
      sourceFromGoogleEvent({ ...E.timed, recurrence: ['RRULE:INTERVAL=2'] }),
      CHICAGO,
      { tentativeBlocks: false },
      WIDE,
      { onRecurrenceError: (id) => errors.push(id) },
    );
    expect(errors).toEqual(['7akk0g4d8p8ndqgv0tuaoomjon']);
    expect(got.map((b) => new Date(b.start).toISOString())).toEqual(['2025-03-24T14:00:00.000Z']);
  });
});
