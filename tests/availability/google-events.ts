// Real-shaped Google Calendar event resources for the availability suites. The recurring ones are
// copied from captured events.list pages (SwitchbackTech/compass, Aurelain/destiny, public repos; see
// /work/shared/google/fixtures), trimmed of fields availability never reads; the others follow the
// same shape (calendar_v3.Schema$Event) with the case they exercise.
import type { GoogleEventShape } from '../../src/availability/source-event.ts';

type Ev = GoogleEventShape & Record<string, unknown>;

const owner = { email: 'test.user@gmail.com', self: true };

function timed(id: string, start: string, end: string, tz: string | undefined, extra: Partial<Ev> = {}): Ev {
  return {
    kind: 'calendar#event',
    etag: '"3485452990504510"',
    id,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${id}`,
    created: '2025-03-01T10:00:00.000Z',
    updated: '2025-03-01T10:00:00.000Z',
    summary: 'Dentist (private)',
    description: 'bring the x-rays',
    location: '1 Main St',
    creator: owner,
    organizer: owner,
    start: { dateTime: start, ...(tz ? { timeZone: tz } : {}) },
    end: { dateTime: end, ...(tz ? { timeZone: tz } : {}) },
    iCalUID: `${id}@google.com`,
    sequence: 0,
    reminders: { useDefault: true },
    eventType: 'default',
    ...extra,
  };
}

function allDay(id: string, start: string, end: string, extra: Partial<Ev> = {}): Ev {
  return {
    kind: 'calendar#event',
    etag: '"3389239000176000"',
    id,
    status: 'confirmed',
    created: '2023-09-01T10:00:00.000Z',
    updated: '2023-09-01T10:00:00.000Z',
    summary: 'Holiday',
    creator: owner,
    organizer: owner,
    start: { date: start },
    end: { date: end },
    iCalUID: `${id}@google.com`,
    sequence: 0,
    reminders: { useDefault: false },
    eventType: 'default',
    ...extra,
  };
}

const withSelf = (responseStatus: string) => ({
  organizer: { email: 'boss@example.com' },
  attendees: [
    { email: 'boss@example.com', organizer: true, responseStatus: 'accepted' },
    { email: 'test.user@gmail.com', self: true, responseStatus },
  ],
});

export const E = {
  timed: timed('7akk0g4d8p8ndqgv0tuaoomjon', '2025-03-24T09:00:00-05:00', '2025-03-24T10:30:00-05:00', 'America/Chicago'),
  /** Aurelain/destiny page: all-day, transparent ("Available"), no timeZone. */
  allDayTransparent: allDay('52uj3nelsca3bgar5ii0ua2vgn', '2023-09-23', '2023-09-24', { transparency: 'transparent' }),
  allDay: allDay('c8o3ec1gc9hm2b9jcoo68b9k6dgm2b9o71h64b9o70s30pb16gpjee9mcc', '2023-09-24', '2023-09-25'),
  allDaySpringForward: allDay('0b7l8n3mkjg9lqv6a1ctiq2vk4', '2025-03-30', '2025-03-31'),
  allDayFallBack: allDay('1c8m9o4nlkh0mrv7b2dujr3vl5', '2025-10-26', '2025-10-27'),
  multiDayAllDay: allDay('2d9n0p5omli1nsv8c3evks4vm6', '2025-03-08', '2025-03-11', { summary: 'Ski trip' }),
  transparent: timed('3eao1q6pnmj2otv9d4fvlt5vn7', '2025-03-24T12:00:00-05:00', '2025-03-24T13:00:00-05:00', 'America/Chicago', {
    transparency: 'transparent',
  }),
  tentativeStatus: timed('4fbp2r7qonk3puva0e5gmu6vo8', '2025-03-24T14:00:00-05:00', '2025-03-24T15:00:00-05:00', 'America/Chicago', {
    status: 'tentative',
  }),
  tentativeSelf: timed('5gcq3s8rpol4qvvb1f6hnv7vp9', '2025-03-24T15:00:00-05:00', '2025-03-24T16:00:00-05:00', 'America/Chicago', withSelf('tentative')),
  declinedSelf: timed('6hdr4t9sqpm5rvvc2g7iov8vqa', '2025-03-24T16:00:00-05:00', '2025-03-24T17:00:00-05:00', 'America/Chicago', withSelf('declined')),
  needsAction: timed('7ies5uatrqn6svvd3h8jpv9vrb', '2025-03-24T17:00:00-05:00', '2025-03-24T18:00:00-05:00', 'America/Chicago', withSelf('needsAction')),
  acceptedSelf: timed('8jft6vbusro7tvve4i9kqvavsc', '2025-03-24T18:00:00-05:00', '2025-03-24T19:00:00-05:00', 'America/Chicago', withSelf('accepted')),
  cancelledSingle: { kind: 'calendar#event', etag: '"3485815948352798"', id: '9kgu7vcvtsp8uvvf5jakrvbvtd', status: 'cancelled' } as Ev,
  workingLocation: timed('a0hv8vdvutq9vvvg6kblsvcvue', '2025-03-24T08:00:00-05:00', '2025-03-24T17:00:00-05:00', 'America/Chicago', {
    eventType: 'workingLocation',
    // Real ones are usually transparent too; this one is opaque so that only its type frees the time.
    workingLocationProperties: { type: 'homeOffice', homeOffice: {} },
    visibility: 'public',
  }),
  birthday: allDay('b1iv9vevvur0vvvh7clmtvdvvf', '2025-03-24', '2025-03-25', {
    eventType: 'birthday',
    recurrence: ['RRULE:FREQ=YEARLY'],
    birthdayProperties: { type: 'birthday' },
  }),
  outOfOffice: timed('c2jv0vfvvvs1vvvi8dmnuvevvg', '2025-03-25T09:00:00-05:00', '2025-03-25T17:00:00-05:00', 'America/Chicago', {
    eventType: 'outOfOffice',
    outOfOfficeProperties: { autoDeclineMode: 'declineAllConflictingInvitations' },
  }),
  focusTime: timed('d3kv1vgvvvt2vvvj9envvvfvvh', '2025-03-26T09:00:00-05:00', '2025-03-26T11:00:00-05:00', 'America/Chicago', {
    eventType: 'focusTime',
    focusTimeProperties: { autoDeclineMode: 'declineOnlyNewConflictingInvitations', chatStatus: 'doNotDisturb' },
  }),
  /** Observed Gmail-created shape (2017): endTimeUnspecified with an end one hour after the start, transparent. */
  endUnspecifiedGmail: {
    kind: 'calendar#event',
    etag: '"2998712345678000"',
    id: '_6tlnaqrle5p6cpb4dhmj4phpehomscridgq64obidcsn4djmd5q6es9mdpknae34ddlj8qpi65h78p9m74smgp3',
    status: 'confirmed',
    summary: 'Show at Somerset House',
    organizer: { email: 'unknownorganizer@calendar.google.com', displayName: 'Unknown Organizer' },
    start: { dateTime: '2017-07-11T19:30:00+01:00' },
    end: { dateTime: '2017-07-11T20:30:00+01:00' },
    endTimeUnspecified: true,
    transparency: 'transparent',
    visibility: 'private',
    privateCopy: true,
    attendees: [{ email: 'test.user@gmail.com', self: true, responseStatus: 'accepted' }],
  } as Ev,
  endUnspecifiedOpaque: timed('e4lv2vhvvvu3vvvk0fovvvgvvi', '2025-03-27T19:30:00+01:00', '2025-03-27T20:30:00+01:00', undefined, {
    endTimeUnspecified: true,
  }),
  endUnspecifiedZero: timed('f5mv3vivvvv4vvvl1gpvvvhvvj', '2025-03-27T19:30:00+01:00', '2025-03-27T19:30:00+01:00', undefined, {
    endTimeUnspecified: true,
  }),

  // --- compass fixture gcal-events-incr-single-instance-cancelled (America/Chicago calendar)
  breakfastMaster: timed('5hni4sj3ql1669otmjg7sn1mok', '2025-02-09T08:00:00-06:00', '2025-02-09T09:00:00-06:00', 'America/Chicago', {
    etag: '"3485815948352798"',
    summary: '🍜 Breakfast',
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250401T045959Z'],
  }),
  breakfastCancelled: {
    kind: 'calendar#event',
    etag: '"3485815948352798"',
    id: '5hni4sj3ql1669otmjg7sn1mok_20250325T130000Z',
    status: 'cancelled',
    recurringEventId: '5hni4sj3ql1669otmjg7sn1mok',
    originalStartTime: { dateTime: '2025-03-25T08:00:00-05:00', timeZone: 'America/Chicago' },
  } as Ev,

  // --- compass fixture gcal-events-incr-this-and-following-with-exceptions (America/Chicago calendar)
  journalMaster: timed('3i234gl45i6i1s8rpui7dleor0', '2025-03-12T08:15:00-05:00', '2025-03-12T09:00:00-05:00', 'America/Chicago', {
    etag: '"3485631231664030"',
    summary: '📝 journal',
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250326T045959Z'],
  }),
  journalMovedSameDay: timed('3i234gl45i6i1s8rpui7dleor0_20250315T131500Z', '2025-03-15T16:00:00-05:00', '2025-03-15T16:45:00-05:00', 'America/Chicago', {
    recurringEventId: '3i234gl45i6i1s8rpui7dleor0',
    originalStartTime: { dateTime: '2025-03-15T08:15:00-05:00', timeZone: 'America/Chicago' },
    sequence: 1,
  }),
  journalMovedNextDay: timed('3i234gl45i6i1s8rpui7dleor0_20250319T131500Z', '2025-03-20T16:30:00-05:00', '2025-03-20T17:15:00-05:00', 'America/Chicago', {
    recurringEventId: '3i234gl45i6i1s8rpui7dleor0',
    originalStartTime: { dateTime: '2025-03-19T08:15:00-05:00', timeZone: 'America/Chicago' },
    sequence: 1,
  }),
  journalNewMaster: timed('3i234gl45i6i1s8rpui7dleor0_R20250326T131500', '2025-03-26T08:15:00-05:00', '2025-03-26T09:00:00-05:00', 'America/Chicago', {
    recurrence: ['RRULE:FREQ=DAILY'],
    iCalUID: '3i234gl45i6i1s8rpui7dleor0_R20250326T131500@google.com',
  }),

  // --- compass fixture gcal-events-incr-multiple-instance-exceptions: instances edited in place (summary only)
  dishesMaster: timed('1kmd7abo2uok36n1pkaemqncba', '2025-03-24T07:30:00-05:00', '2025-03-24T08:15:00-05:00', 'America/Chicago', {
    summary: '🍽️ Dishes',
    recurrence: ['RRULE:FREQ=DAILY'],
  }),
  dishesEdited26: timed('1kmd7abo2uok36n1pkaemqncba_20250326T123000Z', '2025-03-26T07:30:00-05:00', '2025-03-26T08:15:00-05:00', 'America/Chicago', {
    summary: '🧼 Dishes-Edited Just This One',
    recurringEventId: '1kmd7abo2uok36n1pkaemqncba',
    originalStartTime: { dateTime: '2025-03-26T07:30:00-05:00', timeZone: 'America/Chicago' },
  }),

  /** Weekly Tuesday/Thursday stand-up in Paris with one Tuesday removed (EXDATE in the series' zone). */
  standupWeekly: timed('g6nv4vjvvvw5vvvm2hqvvvivvk', '2025-05-13T10:00:00+02:00', '2025-05-13T11:00:00+02:00', 'Europe/Paris', {
    summary: 'Stand-up',
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU,TH', 'EXDATE;TZID=Europe/Paris:20250520T100000'],
  }),
  /** The same with the EXDATE in UTC and an extra RDATE on a Friday. */
  standupUtcExdateRdate: timed('h7ov5vkvvvx6vvvn3irvvvjvvl', '2025-05-13T10:00:00+02:00', '2025-05-13T11:00:00+02:00', 'Europe/Paris', {
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4', 'EXDATE:20250515T080000Z', 'RDATE;TZID=Europe/Paris:20250516T150000'],
  }),
  /** A New York series on a Berlin calendar, across the three weeks when only the US is on summer time. */
  newYorkOnBerlinCalendar: timed('i8pv6vlvvvy7vvvo4jsvvvkvvm', '2025-03-03T09:00:00-05:00', '2025-03-03T09:30:00-05:00', 'America/New_York', {
    summary: 'NY sync',
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO'],
  }),
  /** Weekly all-day series (every Friday) with one Friday removed, across the EU spring change. */
  allDayWeekly: allDay('j9qv7vmvvvz8vvvp5ktvvvlvvn', '2025-03-21', '2025-03-22', {
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=4', 'EXDATE;VALUE=DATE:20250404'],
  }),
  /** An invitation to one occurrence of someone else's series: the instance without its master. */
  lonelyInstance: timed('k0rv8vnvvv09vvvq6luvvvmvvo_20250324T150000Z', '2025-03-24T10:00:00-05:00', '2025-03-24T11:00:00-05:00', 'America/Chicago', {
    recurringEventId: 'k0rv8vnvvv09vvvq6luvvvmvvo',
    originalStartTime: { dateTime: '2025-03-24T10:00:00-05:00', timeZone: 'America/Chicago' },
    ...withSelf('accepted'),
  }),
  /** Observed bare tombstone: instance-shaped id, no recurringEventId, no originalStartTime. */
  bareInstanceTombstone: { kind: 'calendar#event', etag: '"3279003328426000"', id: '0cu25g99pfkhlfarupevcjc297_20211123T170000Z', status: 'cancelled' } as Ev,
  declinedSeriesAcceptedOnce: timed('l1sv9vovvv1avvvr7mvvvvnvvp', '2025-03-24T13:00:00-05:00', '2025-03-24T14:00:00-05:00', 'America/Chicago', {
    recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    ...withSelf('declined'),
  }),
  acceptedOnce: timed('l1sv9vovvv1avvvr7mvvvvnvvp_20250325T180000Z', '2025-03-25T13:00:00-05:00', '2025-03-25T14:00:00-05:00', 'America/Chicago', {
    recurringEventId: 'l1sv9vovvv1avvvr7mvvvvnvvp',
    originalStartTime: { dateTime: '2025-03-25T13:00:00-05:00', timeZone: 'America/Chicago' },
    ...withSelf('accepted'),
  }),
} satisfies Record<string, Ev>;
