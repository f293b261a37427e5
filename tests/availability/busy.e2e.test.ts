// availability.busy / availability.free end to end: events written in the emulator (as a person
// in Google Calendar) reach the mirror through the real sync, and availability answers from its
// blocked times. The owner's calendar is in Asia/Tokyo (+09:00, no DST: DST is the pure suite's job).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { at, compactUtc, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

const TZ = '+09:00';
const EMAIL = 'kenji@example.com';
const OWNER = 'owner-kenji';
let h: AvailabilityHarness;
let ownerId: string;

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-busy-e2e');
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER, 'Asia/Tokyo'));
}, 30_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

const range = (from: number, to: number) => [`${day(from)}T00:00:00Z`, `${day(to)}T00:00:00Z`] as const;
const iv = (start: string, end: string) => ({ start: utc(start), end: utc(end) });

describe('events written in Google Calendar become busy times', () => {
  test('an event created shows up in availability.busy; deleting it frees the time', async () => {
    await h.putEvent(EMAIL, 'dentist00001', {
      summary: 'Dentist (root canal)',
      start: { dateTime: at(1, '15:00', TZ) },
      end: { dateTime: at(1, '16:30', TZ) },
    });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(0, 3);
    await h.busyBecomes(OWNER, from, to, [iv(at(1, '15:00', TZ), at(1, '16:30', TZ))], 'the dentist to block time');

    await h.deleteEvent(EMAIL, 'dentist00001');
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(OWNER, from, to, [], 'the deleted dentist to free the time');
  });

  test('a moved event frees its old time and blocks the new one; overlapping events merge', async () => {
    await h.putEvent(EMAIL, 'review000001', { summary: 'Review', start: { dateTime: at(2, '09:00', TZ) }, end: { dateTime: at(2, '10:00', TZ) } });
    await h.putEvent(EMAIL, 'review000002', { summary: 'Review 2', start: { dateTime: at(2, '09:30', TZ) }, end: { dateTime: at(2, '11:00', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(2, 4);
    await h.busyBecomes(OWNER, from, to, [iv(at(2, '09:00', TZ), at(2, '11:00', TZ))], 'two overlapping reviews, merged');

    await h.putEvent(EMAIL, 'review000001', { summary: 'Review', start: { dateTime: at(3, '13:00', TZ) }, end: { dateTime: at(3, '14:00', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(
      OWNER,
      from,
      to,
      [iv(at(2, '09:30', TZ), at(2, '11:00', TZ)), iv(at(3, '13:00', TZ), at(3, '14:00', TZ))],
      'the review moved to the next day',
    );
  });

  test('an all-day event blocks midnight to midnight in the calendar zone', async () => {
    await h.putEvent(EMAIL, 'holiday00001', { summary: 'Holiday', start: { date: day(5) }, end: { date: day(7) } });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(4, 8);
    // 00:00 JST on day 5 is 15:00 UTC on day 4.
    await h.busyBecomes(OWNER, from, to, [iv(at(5, '00:00', TZ), at(7, '00:00', TZ))], 'a two-day holiday');
  });

  test('free, declined and working-location events do not block; a marker proves the sync ran', async () => {
    await h.putEvent(EMAIL, 'freeevent001', {
      summary: 'Lunch (free)',
      transparency: 'transparent',
      start: { dateTime: at(10, '12:00', TZ) },
      end: { dateTime: at(10, '13:00', TZ) },
    });
    await h.putEvent(EMAIL, 'declined0001', {
      summary: 'Vendor pitch',
      organizer: { email: 'vendor@example.com' },
      attendees: [
        { email: 'vendor@example.com', organizer: true, responseStatus: 'accepted' },
        { email: EMAIL, responseStatus: 'declined' },
      ],
      start: { dateTime: at(10, '14:00', TZ) },
      end: { dateTime: at(10, '15:00', TZ) },
    });
    await h.putEvent(EMAIL, 'workloc00001', {
      summary: 'Home',
      eventType: 'workingLocation',
      workingLocationProperties: { type: 'homeOffice', homeOffice: {} },
      visibility: 'public',
      start: { dateTime: at(10, '08:00', TZ) },
      end: { dateTime: at(10, '18:00', TZ) },
    });
    await h.putEvent(EMAIL, 'marker000001', { summary: 'Marker', start: { dateTime: at(10, '19:00', TZ) }, end: { dateTime: at(10, '19:15', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(10, 11);
    await h.busyBecomes(OWNER, from, to, [iv(at(10, '19:00', TZ), at(10, '19:15', TZ))], 'only the marker to block');
  });

  test('a weekly series with an EXDATE, a moved instance and a cancelled instance', async () => {
    const master = 'weekly000001';
    await h.putEvent(EMAIL, master, {
      summary: 'Team sync',
      start: { dateTime: at(14, '10:00', TZ), timeZone: 'Asia/Tokyo' },
      end: { dateTime: at(14, '11:00', TZ), timeZone: 'Asia/Tokyo' },
      // Mondays and Wednesdays, six slots; the first Wednesday removed by EXDATE.
      recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6', `EXDATE;TZID=Asia/Tokyo:${day(16).replace(/-/g, '')}T100000`],
    });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(14, 35);
    const slot = (n: number) => iv(at(n, '10:00', TZ), at(n, '11:00', TZ));
    await h.busyBecomes(OWNER, from, to, [slot(14), slot(21), slot(23), slot(28), slot(30)], 'the series minus its EXDATE');

    // The second Monday moves to Tuesday 14:00; the second Wednesday is cancelled.
    await h.putEvent(EMAIL, `${master}_${compactUtc(at(21, '10:00', TZ))}`, {
      summary: 'Team sync (moved)',
      start: { dateTime: at(22, '14:00', TZ), timeZone: 'Asia/Tokyo' },
      end: { dateTime: at(22, '15:00', TZ), timeZone: 'Asia/Tokyo' },
    });
    await h.deleteEvent(EMAIL, `${master}_${compactUtc(at(23, '10:00', TZ))}`);
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(
      OWNER,
      from,
      to,
      [slot(14), iv(at(22, '14:00', TZ), at(22, '15:00', TZ)), slot(28), slot(30)],
      'the moved instance replacing its slot and the cancelled one gone',
    );

    // The whole series deleted: every occurrence and the moved instance go.
    await h.deleteEvent(EMAIL, master);
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(OWNER, from, to, [], 'the deleted series to free its time');
  });

  test('after a 410 (sync token gone) the full resync frees what was deleted meanwhile', async () => {
    await h.putEvent(EMAIL, 'gone00000001', { summary: 'Gone', start: { dateTime: at(38, '09:00', TZ) }, end: { dateTime: at(38, '10:00', TZ) } });
    await h.putEvent(EMAIL, 'stays0000001', { summary: 'Stays', start: { dateTime: at(38, '11:00', TZ) }, end: { dateTime: at(38, '12:00', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(38, 39);
    await h.busyBecomes(OWNER, from, to, [iv(at(38, '09:00', TZ), at(38, '10:00', TZ)), iv(at(38, '11:00', TZ), at(38, '12:00', TZ))], 'both events');
    await h.emuJson(`calendars/${encodeURIComponent(EMAIL)}/invalidate-sync-tokens`, {});
    await h.deleteEvent(EMAIL, 'gone00000001');
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(OWNER, from, to, [iv(at(38, '11:00', TZ), at(38, '12:00', TZ))], 'the deleted event swept by the full resync');
  });

  test('busy answers are cut to the asked range', async () => {
    await h.putEvent(EMAIL, 'longmeet0001', { summary: 'Offsite', start: { dateTime: at(40, '09:00', TZ) }, end: { dateTime: at(40, '17:00', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(OWNER, utc(at(40, '12:00', TZ)), utc(at(41, '00:00', TZ)), [iv(at(40, '12:00', TZ), at(40, '17:00', TZ))], 'the offsite, cut at noon');
  });
});

describe('tentative events follow the owner preference', () => {
  test('not blocking by default; blocking once preferred; not again once switched back', async () => {
    await h.putEvent(EMAIL, 'maybe0000001', {
      summary: 'Maybe',
      status: 'tentative',
      start: { dateTime: at(45, '09:00', TZ) },
      end: { dateTime: at(45, '10:00', TZ) },
    });
    await h.putEvent(EMAIL, 'marker000045', { summary: 'Marker', start: { dateTime: at(45, '18:00', TZ) }, end: { dateTime: at(45, '18:30', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(45, 46);
    const marker = iv(at(45, '18:00', TZ), at(45, '18:30', TZ));
    const maybe = iv(at(45, '09:00', TZ), at(45, '10:00', TZ));
    await h.busyBecomes(OWNER, from, to, [marker], 'only the marker (tentative not blocking by default)');

    const get = await h.t.trpc('availability.preferences.get', { externalOwnerId: OWNER });
    expect(get.body.result!.data).toEqual({ tentativeBlocks: false, calendarIds: null });
    const set = await h.t.trpc('availability.preferences.set', { externalOwnerId: OWNER, tentativeBlocks: true });
    expect(set.status).toBe(200);
    expect(set.body.result!.data).toEqual({ tentativeBlocks: true, calendarIds: null });
    // Recomputed in the same transaction as the preference: no waiting.
    expect(await h.busy(OWNER, from, to)).toEqual([maybe, marker]);

    await h.t.trpc('availability.preferences.set', { externalOwnerId: OWNER, tentativeBlocks: false });
    expect(await h.busy(OWNER, from, to)).toEqual([marker]);
  });
});

describe('which calendars count', () => {
  test('a selected secondary calendar counts; calendarIds and the preference narrow it; deselecting removes it', async () => {
    const team = await h.emuJson<{ id: string }>('calendars', { owner: EMAIL, summary: 'Team', timeZone: 'Asia/Tokyo' });
    const teamId = team.id;
    await h.t.trpc('calendars.resync', { externalOwnerId: OWNER }); // the calendar list picks the new calendar up
    await waitFor(async () => (await h.t.trpc<any>('links.get', { externalOwnerId: OWNER })).body.result?.data.calendars.some((c: any) => c.calendarId === teamId), {
      what: 'the team calendar in the list',
    });
    const sel = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: teamId, selected: true });
    expect(sel.status).toBe(200);
    await h.putEvent(teamId, 'teamevent001', { summary: 'Team lunch', start: { dateTime: at(50, '12:00', TZ) }, end: { dateTime: at(50, '13:00', TZ) } });
    await h.putEvent(EMAIL, 'mine00000050', { summary: 'Mine', start: { dateTime: at(50, '09:00', TZ) }, end: { dateTime: at(50, '10:00', TZ) } });
    await h.syncNow(ownerId, teamId);
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(50, 51);
    const mine = iv(at(50, '09:00', TZ), at(50, '10:00', TZ));
    const lunch = iv(at(50, '12:00', TZ), at(50, '13:00', TZ));
    await h.busyBecomes(OWNER, from, to, [mine, lunch], 'both calendars');

    expect(await h.busy(OWNER, from, to, ['primary'])).toEqual([mine]);
    expect(await h.busy(OWNER, from, to, [teamId])).toEqual([lunch]);
    expect(await h.busy(OWNER, from, to, ['nobody@example.com'])).toEqual([]);

    const set = await h.t.trpc('availability.preferences.set', { externalOwnerId: OWNER, calendarIds: [teamId] });
    expect(set.body.result!.data).toEqual({ tentativeBlocks: false, calendarIds: [teamId] });
    expect(await h.busy(OWNER, from, to)).toEqual([lunch]);
    expect(await h.busy(OWNER, from, to, ['primary'])).toEqual([mine]); // an explicit list wins over the preference
    await h.t.trpc('availability.preferences.set', { externalOwnerId: OWNER, calendarIds: null });
    expect(await h.busy(OWNER, from, to)).toEqual([mine, lunch]);

    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: teamId, selected: false });
    expect(await h.busy(OWNER, from, to)).toEqual([mine]);
  });
});

describe("whose answer counts", () => {
  test("on a colleague's calendar shared with the owner, the owner's own decline frees the time (self there is the calendar's entry, not the owner's)", async () => {
    const shared = await h.emuJson<{ id: string }>('calendars', {
      owner: 'yuki@example.com', summary: 'Yuki team', timeZone: 'Asia/Tokyo', members: [{ email: EMAIL, role: 'reader' }],
    });
    const sharedId = shared.id;
    await h.t.trpc('calendars.resync', { externalOwnerId: OWNER });
    await waitFor(async () => (await h.t.trpc<any>('links.get', { externalOwnerId: OWNER })).body.result?.data.calendars.some((c: any) => c.calendarId === sharedId), {
      what: 'the shared calendar in the list',
    });
    expect((await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: sharedId, selected: true })).status).toBe(200);
    await h.putEvent(sharedId, 'shareddecl01', {
      summary: 'Planning',
      attendees: [{ email: 'yuki@example.com', responseStatus: 'accepted' }, { email: EMAIL, responseStatus: 'declined' }],
      start: { dateTime: at(60, '10:00', TZ) },
      end: { dateTime: at(60, '11:00', TZ) },
    });
    await h.putEvent(sharedId, 'sharedacc001', {
      summary: 'Review',
      attendees: [{ email: EMAIL, responseStatus: 'accepted' }],
      start: { dateTime: at(60, '14:00', TZ) },
      end: { dateTime: at(60, '15:00', TZ) },
    });
    // As Google shows it to the owner: no attendee of the shared calendar's copy is `self`.
    const onShared = (await h.emuJson<{ items: any[] }>(`calendars/${encodeURIComponent(sharedId)}/events`)).items.find((e) => e.id === 'shareddecl01');
    expect(onShared.attendees.some((a: any) => a.self)).toBe(false);
    await h.syncNow(ownerId, sharedId);
    const [from, to] = range(60, 61);
    await h.busyBecomes(OWNER, from, to, [iv(at(60, '14:00', TZ), at(60, '15:00', TZ))], 'only the accepted meeting to block on the shared calendar', [sharedId]);
  }, 30_000);
});

describe('availability.free', () => {
  test('free slots of at least the duration within working hours', async () => {
    // Day 60 is a Monday + 60 days = a Saturday; use day 63 (Monday) and day 64.
    await h.putEvent(EMAIL, 'freeslot0001', { summary: 'Busy', start: { dateTime: at(63, '11:00', TZ) }, end: { dateTime: at(63, '12:00', TZ) } });
    await h.putEvent(EMAIL, 'freeslot0002', { summary: 'Busy', start: { dateTime: at(63, '12:30', TZ) }, end: { dateTime: at(63, '16:00', TZ) } });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(63, 64);
    await h.busyBecomes(OWNER, from, to, [iv(at(63, '11:00', TZ), at(63, '12:00', TZ)), iv(at(63, '12:30', TZ), at(63, '16:00', TZ))], 'the two busy blocks');
    const r = await h.t.trpc<{ slots: Array<{ start: string; end: string }> }>('availability.free', {
      externalOwnerId: OWNER,
      from: utc(at(63, '00:00', TZ)),
      to: utc(at(65, '00:00', TZ)),
      durationMinutes: 60,
      workingHours: { timeZone: 'Asia/Tokyo', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    });
    expect(r.status).toBe(200);
    expect(r.body.result!.data.slots).toEqual([
      iv(at(63, '09:00', TZ), at(63, '11:00', TZ)),
      // 12:00-12:30 is too short
      iv(at(63, '16:00', TZ), at(63, '17:00', TZ)),
      iv(at(64, '09:00', TZ), at(64, '17:00', TZ)),
    ]);
  });
});

describe('privacy', () => {
  test('no title, description or attendee leaves the mirror through availability', async () => {
    await h.putEvent(EMAIL, 'secret000001', {
      summary: 'Divorce lawyer XYZZY',
      description: 'bring papers PLUGH',
      location: 'Secret St 42',
      attendees: [{ email: 'lawyer-qwerty@example.com' }],
      start: { dateTime: at(70, '09:00', TZ) },
      end: { dateTime: at(70, '10:00', TZ) },
    });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(70, 71);
    await h.busyBecomes(OWNER, from, to, [iv(at(70, '09:00', TZ), at(70, '10:00', TZ))], 'the secret meeting to block');
    const r = await fetch(`${h.t.url}/trpc/availability.busy?input=${encodeURIComponent(JSON.stringify({ externalOwnerId: OWNER, from, to }))}`, {
      headers: { authorization: 'Bearer test-service-token-0123456789' },
    });
    const text = await r.text();
    for (const word of ['XYZZY', 'PLUGH', 'Secret St', 'lawyer-qwerty', 'secret000001']) expect(text).not.toContain(word);
    const tables = ['blocked_times', 'availability_sources', 'availability_series', 'frozen_blocked_times', 'availability_preferences'];
    for (const table of tables) {
      const rows = await h.sql.unsafe(`select row_to_json(t)::text as j from "${table}" t`);
      for (const { j } of rows) for (const word of ['XYZZY', 'PLUGH', 'Secret St', 'lawyer-qwerty']) expect(j).not.toContain(word);
    }
    const [cols] = await h.sql`select array_agg(column_name::text order by ordinal_position) as c from information_schema.columns where table_name = 'blocked_times'`;
    expect(cols!.c).toEqual(['id', 'owner_id', 'calendar_row_id', 'calendar_id', 'series_id', 'source_event_id', 'start_at', 'end_at']);
  });
});

// Status events (docs/availability.md, "Event types"): out of office and focus time block whatever their
// autoDeclineMode; what the mode changes is the owner's answer to the invitations under them, which
// Google writes (declined) and the sync brings: the declined part no longer blocks once the status
// event is gone or where it reaches beyond it.
describe('out of office and its automatic declines', () => {
  const invite = (id: string, start: string, end: string) =>
    h.putEvent(EMAIL, id, {
      summary: 'Quarterly review',
      organizer: { email: 'boss@example.com' },
      attendees: [
        { email: 'boss@example.com', organizer: true, responseStatus: 'accepted' },
        { email: EMAIL, responseStatus: 'needsAction' },
      ],
      start: { dateTime: start },
      end: { dateTime: end },
    });

  test('declineAllConflictingInvitations: an invitation reaching past the day off is declined, so only the day off blocks', async () => {
    await invite('oooinvite0001', at(80, '16:00', TZ), at(80, '19:00', TZ));
    await h.putEvent(EMAIL, 'oooevent00001', {
      summary: 'Out of office',
      eventType: 'outOfOffice',
      outOfOfficeProperties: { autoDeclineMode: 'declineAllConflictingInvitations', declineMessage: 'On leave' },
      start: { dateTime: at(80, '09:00', TZ) },
      end: { dateTime: at(80, '17:00', TZ) },
    });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(80, 81);
    await h.busyBecomes(OWNER, from, to, [iv(at(80, '09:00', TZ), at(80, '17:00', TZ))], 'the day off only: the review was declined for the owner');
    // The day off cancelled: the declined review stays declined, nothing blocks.
    await h.deleteEvent(EMAIL, 'oooevent00001');
    await h.syncNow(ownerId, EMAIL);
    await h.busyBecomes(OWNER, from, to, [], 'nothing once the day off is gone');
  });

  test('declineNone: the invitation keeps blocking; focus time blocks too; a working location does not', async () => {
    await invite('oooinvite0002', at(82, '16:00', TZ), at(82, '19:00', TZ));
    await h.putEvent(EMAIL, 'oooevent00002', {
      summary: 'Out of office',
      eventType: 'outOfOffice',
      outOfOfficeProperties: { autoDeclineMode: 'declineNone' },
      start: { dateTime: at(82, '09:00', TZ) },
      end: { dateTime: at(82, '17:00', TZ) },
    });
    await h.putEvent(EMAIL, 'focusevent001', {
      summary: 'Focus',
      eventType: 'focusTime',
      focusTimeProperties: { autoDeclineMode: 'declineOnlyNewConflictingInvitations', chatStatus: 'doNotDisturb' },
      start: { dateTime: at(83, '09:00', TZ) },
      end: { dateTime: at(83, '11:00', TZ) },
    });
    await h.putEvent(EMAIL, 'workloc00002', {
      summary: 'Office',
      eventType: 'workingLocation',
      workingLocationProperties: { type: 'officeLocation', officeLocation: { label: 'HQ' } },
      visibility: 'public',
      transparency: 'transparent',
      start: { dateTime: at(83, '08:00', TZ) },
      end: { dateTime: at(83, '18:00', TZ) },
    });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(82, 84);
    await h.busyBecomes(
      OWNER,
      from,
      to,
      [iv(at(82, '09:00', TZ), at(82, '19:00', TZ)), iv(at(83, '09:00', TZ), at(83, '11:00', TZ))],
      'the day off merged with the review it did not decline, and the focus time',
    );
  });
});

// One reading of recurrence (docs/availability.md, "Recurring series"): events.list and availability.busy
// expand a series with the same function, so a date UNTIL keeps its last day and an EXDATE;VALUE=DATE
// removes its whole local day in both.
describe('events.list and availability.busy agree about a series', () => {
  test('a daily series with a date UNTIL and an EXDATE;VALUE=DATE: the same four days in both', async () => {
    const compact = (n: number) => day(n).replace(/-/g, '');
    await h.putEvent(EMAIL, 'untildate0001', {
      summary: 'Standup',
      start: { dateTime: at(90, '10:00', TZ), timeZone: 'Asia/Tokyo' },
      end: { dateTime: at(90, '10:30', TZ), timeZone: 'Asia/Tokyo' },
      recurrence: [`RRULE:FREQ=DAILY;UNTIL=${compact(94)}`, `EXDATE;VALUE=DATE:${compact(92)}`],
    });
    await h.syncNow(ownerId, EMAIL);
    const [from, to] = range(89, 97);
    const slots = [90, 91, 93, 94].map((n) => iv(at(n, '10:00', TZ), at(n, '10:30', TZ)));
    await h.busyBecomes(OWNER, from, to, slots, 'the series: day 90, 91, 93 and 94');
    const r = await h.t.trpc<{ items: Array<{ googleEventId: string; start: string; end: string; recurringEventId?: string }> }>('events.list', { externalOwnerId: OWNER, from, to });
    const listed = r.body.result!.data.items.filter((i) => i.recurringEventId === 'untildate0001');
    expect(listed.map((i) => ({ start: utc(i.start), end: utc(i.end) }))).toEqual(slots);
    expect(listed.map((i) => i.googleEventId)).toEqual([90, 91, 93, 94].map((n) => `untildate0001_${compactUtc(at(n, '10:00', TZ))}`));
  });
});
