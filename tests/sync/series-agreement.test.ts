// One reading of recurrence (docs/architecture.md): the emulator's events.instances (Google's expansion,
// as modelled), the sync's expansion behind events.list and availability's blocked times must give
// the same occurrences for the same master. The masters are the captured series of
// /work/shared/google/fixtures (recreated here: this project's tests never read ../shared), with
// their real UNTIL values written by Google's "this and following" splits, plus the readings the
// captures do not show: a DATE UNTIL and an EXDATE;VALUE=DATE on a timed series (the whole local
// day), a DTSTART the rule does not match (it still counts), and an all-day series.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { calendar_v3 } from 'googleapis';
import type { Emulator } from '../../src/emulator/index.ts';
import { blockedTimesFor, DEFAULT_PREFERENCES } from '../../src/availability/blocked-times.ts';
import { sourceFromGoogleEvent } from '../../src/availability/source-event.ts';
import { expandSeries } from '../../src/sync/expand-series.ts';
import { toRow } from '../../src/sync/map-event.ts';
import { calendarClient, control, oauthClient, start } from '../emulator/helpers.ts';

const CAL_TZ = 'America/Chicago';
const EMAIL = 'series-agreement@example.com';
let emu: Emulator;
let calendar: calendar_v3.Calendar;

beforeAll(async () => {
  emu = await start();
  const { refreshToken } = await control<{ refreshToken: string }>(emu, 'POST', 'users', { email: EMAIL, timeZone: CAL_TZ });
  const auth = oauthClient(emu);
  auth.setCredentials({ refresh_token: refreshToken });
  calendar = calendarClient(emu, auth);
});
afterAll(async () => {
  await emu?.stop();
});

interface Case {
  name: string;
  start: calendar_v3.Schema$EventDateTime;
  end: calendar_v3.Schema$EventDateTime;
  recurrence: string[];
  /** The window asked of all three (no occurrence straddles its edges). */
  from: string;
  to: string;
  /** Instance-id suffixes expected (Google's own, where the capture has them). */
  expected?: string[];
}

const chicago = (dateTime: string) => ({ dateTime, timeZone: CAL_TZ });
const days = (first: string, count: number, time: string) =>
  Array.from({ length: count }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '') + time);

const CASES: Case[] = [
  {
    // gcal-events-recurring-master-with-expanded-instances.json: the capture lists Google's own ten instances.
    name: 'Africa/Lagos daily 02:30, UNTIL=20250916T225959Z (Google expanded it: ten instances)',
    start: { dateTime: '2025-09-07T02:30:00+01:00', timeZone: 'Africa/Lagos' },
    end: { dateTime: '2025-09-07T03:30:00+01:00', timeZone: 'Africa/Lagos' },
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250916T225959Z'],
    from: '2025-09-01T00:00:00Z',
    to: '2025-10-01T00:00:00Z',
    expected: days('2025-09-07', 10, 'T013000Z'),
  },
  {
    // gcal-events-incr-this-and-following-new-master-id.json: the old master after the split, across DST.
    name: 'Chicago daily 08:00 from 2025-02-09, UNTIL=20250401T045959Z, across the March DST change',
    start: chicago('2025-02-09T08:00:00-06:00'),
    end: chicago('2025-02-09T09:00:00-06:00'),
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250401T045959Z'],
    from: '2025-02-01T00:00:00Z',
    to: '2025-05-01T00:00:00Z',
    expected: [...days('2025-02-09', 28, 'T140000Z'), ...days('2025-03-09', 23, 'T130000Z')],
  },
  {
    // gcal-events-incr-this-and-following-deleted.json
    name: 'Chicago daily 08:00, cut by "this and following deleted" (UNTIL=20250327T045959Z)',
    start: chicago('2025-02-09T08:00:00-06:00'),
    end: chicago('2025-02-09T09:00:00-06:00'),
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250327T045959Z'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-05T00:00:00Z',
    expected: days('2025-03-20', 7, 'T130000Z'),
  },
  {
    // gcal-events-incr-edit-all-series-split.json: the old half of an "all events" edit.
    name: 'Chicago daily 07:30-08:15 from 2025-03-24, UNTIL=20250326T045959Z',
    start: chicago('2025-03-24T07:30:00-05:00'),
    end: chicago('2025-03-24T08:15:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250326T045959Z'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-01T00:00:00Z',
    expected: ['20250324T123000Z', '20250325T123000Z'],
  },
  {
    // gcal-events-incr-edit-all-series-split.json: the new, open-ended half.
    name: 'Chicago daily 07:30 from 2025-03-26, no end',
    start: chicago('2025-03-26T07:30:00-05:00'),
    end: chicago('2025-03-26T08:15:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-03T00:00:00Z',
    expected: days('2025-03-26', 8, 'T123000Z'),
  },
  {
    // gcal-events-incr-split-of-split.json
    name: 'Chicago daily 07:00 from 2025-04-01, UNTIL=20250409T045959Z (a split of a split)',
    start: chicago('2025-04-01T07:00:00-05:00'),
    end: chicago('2025-04-01T08:00:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250409T045959Z'],
    from: '2025-03-25T00:00:00Z',
    to: '2025-04-20T00:00:00Z',
    expected: days('2025-04-01', 8, 'T120000Z'),
  },
  {
    // gcal-events-incr-this-and-following-deleted-orphan.json
    name: 'Chicago daily 10:00-11:30 from 2025-03-24, UNTIL=20250326T045959Z',
    start: chicago('2025-03-24T10:00:00-05:00'),
    end: chicago('2025-03-24T11:30:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250326T045959Z'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-01T00:00:00Z',
    expected: ['20250324T150000Z', '20250325T150000Z'],
  },
  {
    // The same series with a DATE UNTIL: the 27th is still in (the whole local day).
    name: 'DATE UNTIL on a timed series: UNTIL=20250327 keeps the 27th',
    start: chicago('2025-03-24T08:00:00-05:00'),
    end: chicago('2025-03-24T09:00:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250327'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-01T00:00:00Z',
    expected: days('2025-03-24', 4, 'T130000Z'),
  },
  {
    name: 'EXDATE;VALUE=DATE on a timed series removes that local day',
    start: chicago('2025-03-24T08:00:00-05:00'),
    end: chicago('2025-03-24T09:00:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY;COUNT=4', 'EXDATE;VALUE=DATE:20250326'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-01T00:00:00Z',
    expected: ['20250324T130000Z', '20250325T130000Z', '20250327T130000Z'],
  },
  {
    // 23:30 local is the next day in UTC: the EXDATE's day is the local one.
    name: 'EXDATE;VALUE=DATE names the local day, not the UTC one',
    start: chicago('2025-03-24T23:30:00-05:00'),
    end: chicago('2025-03-25T00:15:00-05:00'),
    recurrence: ['RRULE:FREQ=DAILY;COUNT=3', 'EXDATE;VALUE=DATE:20250325'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-01T00:00:00Z',
    expected: ['20250325T043000Z', '20250327T043000Z'],
  },
  {
    // (With COUNT, whether such a DTSTART uses up one of the count is left undefined by RFC 5545 §3.8.5.3.)
    name: 'a DTSTART the rule does not match still counts (Monday start, Tuesdays rule)',
    start: chicago('2025-03-24T09:00:00-05:00'),
    end: chicago('2025-03-24T10:00:00-05:00'),
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU'],
    from: '2025-03-20T00:00:00Z',
    to: '2025-04-05T00:00:00Z',
    expected: ['20250324T140000Z', '20250325T140000Z', '20250401T140000Z'],
  },
  {
    name: 'all-day weekly series with a DATE UNTIL and an EXDATE;VALUE=DATE',
    start: { date: '2025-03-03' },
    end: { date: '2025-03-04' },
    recurrence: ['RRULE:FREQ=WEEKLY;UNTIL=20250324', 'EXDATE;VALUE=DATE:20250310'],
    from: '2025-03-01T00:00:00Z',
    to: '2025-04-01T00:00:00Z',
    expected: ['20250303', '20250317', '20250324'],
  },
];

const cal = { id: '00000000-0000-4000-8000-000000000001', ownerId: '00000000-0000-4000-8000-000000000002' };
const suffix = (id: string, masterId: string) => id.slice(masterId.length + 1);

describe('the emulator, events.list and availability read a series the same way', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const master = (await calendar.events.insert({ calendarId: 'primary', requestBody: { summary: c.name, start: c.start, end: c.end, recurrence: c.recurrence } })).data;
      const id = master.id!;

      // The emulator: events.instances over the window.
      const instances = (await calendar.events.instances({ calendarId: 'primary', eventId: id, timeMin: c.from, timeMax: c.to, maxResults: 2500 })).data.items ?? [];
      const instant = (t: calendar_v3.Schema$EventDateTime | undefined) => (t?.dateTime ? Date.parse(t.dateTime) : null);
      const emulator = instances.map((i) => ({ suffix: suffix(i.id!, id), start: instant(i.start), end: instant(i.end), date: i.start?.date ?? null }));

      // The sync: the mirror row of the master, expanded as events.list does.
      const row = toRow(master as calendar_v3.Schema$Event & { id: string }, cal, CAL_TZ, 1);
      const listed = expandSeries(
        { googleEventId: id, recurrence: row.recurrence!, allDay: row.allDay!, startAt: row.startAt!, endAt: row.endAt!, startDate: row.startDate ?? null, endDate: row.endDate ?? null, timeZone: row.timeZone ?? CAL_TZ },
        new Date(c.from),
        new Date(c.to),
      );
      const sync = listed.map((o) => ({ suffix: suffix(o.instanceId, id), start: o.startDate ? null : o.start.getTime(), end: o.startDate ? null : o.end.getTime(), date: o.startDate }));

      // Availability: the blocked times of the master for original starts in the window.
      const blocked = blockedTimesFor(sourceFromGoogleEvent(master), CAL_TZ, DEFAULT_PREFERENCES, { from: Date.parse(c.from), until: Date.parse(c.to) });

      if (c.expected) expect(emulator.map((e) => e.suffix)).toEqual(c.expected);
      expect(sync).toEqual(emulator);
      if (c.start.date) {
        // All-day: availability blocks local midnight to midnight; the sync places the same days.
        expect(blocked.map((b) => [b.start, b.end])).toEqual(listed.map((o) => [o.start.getTime(), o.end.getTime()]));
      } else {
        expect(blocked.map((b) => [b.start, b.end])).toEqual(emulator.map((e) => [e.start!, e.end!]));
      }
    });
  }
});
