// Recurring events: expansion with singleEvents, modified and cancelled instances (exceptions), instance ids,
// DST, all-day series, and how they appear in incremental sync.

import { describe, expect, test } from 'bun:test';
import type { calendar_v3 } from 'googleapis';
import { control, failure, listAll } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite({ user: 'alice@example.com' });

/** A daily 08:00-09:00 America/Chicago series over the 2025 DST switch (March 9). */
async function dailyChicago(count = 5, firstDay = '2025-03-07'): Promise<calendar_v3.Schema$Event> {
  const res = await suite.user.calendar.events.insert({
    calendarId: 'primary',
    requestBody: {
      summary: 'Breakfast',
      start: { dateTime: `${firstDay}T08:00:00-06:00`, timeZone: 'America/Chicago' },
      end: { dateTime: `${firstDay}T09:00:00-06:00`, timeZone: 'America/Chicago' },
      recurrence: [`RRULE:FREQ=DAILY;COUNT=${count}`],
    },
  });
  return res.data;
}

describe('recurring events', () => {
  test('singleEvents expands a master; a modified and a cancelled instance replace their occurrences', async () => {
    const master = await dailyChicago();
    const id = master.id ?? '';
    // The series keeps 08:00 local time across DST, so the UTC instance ids shift by an hour.
    const expected = ['20250307T140000Z', '20250308T140000Z', '20250309T130000Z', '20250310T130000Z', '20250311T130000Z'].map((s) => `${id}_${s}`);
    const expanded = await suite.user.calendar.events.list({ calendarId: 'primary', singleEvents: true, orderBy: 'startTime' });
    expect(expanded.data.items?.map((e) => e.id)).toEqual(expected);
    const third = expanded.data.items?.[2];
    expect(third).toMatchObject({
      recurringEventId: id,
      start: { dateTime: '2025-03-09T08:00:00-05:00', timeZone: 'America/Chicago' },
      originalStartTime: { dateTime: '2025-03-09T08:00:00-05:00', timeZone: 'America/Chicago' },
      etag: master.etag,
      summary: 'Breakfast',
    });
    expect(third?.recurrence).toBeUndefined();

    // Modify the 2nd occurrence and cancel the 4th, as clients do: by instance id.
    const moved = await suite.user.calendar.events.patch({
      calendarId: 'primary', eventId: expected[1] ?? '',
      requestBody: { summary: 'Late breakfast', start: { dateTime: '2025-03-08T10:00:00-06:00', timeZone: 'America/Chicago' }, end: { dateTime: '2025-03-08T11:00:00-06:00', timeZone: 'America/Chicago' } },
    });
    expect(moved.data).toMatchObject({ id: expected[1], recurringEventId: id, originalStartTime: { dateTime: '2025-03-08T08:00:00-06:00' } });
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: expected[3] ?? '' });

    const single = await suite.user.calendar.events.list({ calendarId: 'primary', singleEvents: true, orderBy: 'startTime' });
    expect(single.data.items?.map((e) => [e.id, e.summary])).toEqual([
      [expected[0], 'Breakfast'], [expected[1], 'Late breakfast'], [expected[2], 'Breakfast'], [expected[4], 'Breakfast'],
    ]);
    const withDeleted = await suite.user.calendar.events.list({ calendarId: 'primary', singleEvents: true, showDeleted: true });
    expect(withDeleted.data.items?.find((e) => e.id === expected[3])?.status).toBe('cancelled');

    // Without singleEvents: the master, the modified instance and (as Google does even without showDeleted)
    // the cancelled instance in minimal form.
    const raw = await suite.user.calendar.events.list({ calendarId: 'primary' });
    const rawIds = raw.data.items?.map((e) => e.id).sort();
    expect(rawIds).toEqual([id, expected[1], expected[3]].map(String).sort());
    const cancelled = raw.data.items?.find((e) => e.id === expected[3]);
    expect(cancelled).toEqual({
      kind: 'calendar#event', etag: expect.any(String), id: expected[3], status: 'cancelled', recurringEventId: id,
      originalStartTime: { dateTime: '2025-03-10T08:00:00-05:00', timeZone: 'America/Chicago' },
    });

    // events.get on a plain occurrence and events.instances.
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: expected[4] ?? '' })).data.recurringEventId).toBe(id);
    const instances = await suite.user.calendar.events.instances({ calendarId: 'primary', eventId: id });
    expect(instances.data.items?.map((e) => e.id)).toEqual([expected[0], expected[1], expected[2], expected[4]]);
  });

  test('incremental sync reports a cancelled instance with recurringEventId and originalStartTime', async () => {
    const master = await dailyChicago(3);
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    const instanceId = `${master.id}_20250308T140000Z`;
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: instanceId });
    const incr = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken });
    expect(incr.data.items).toEqual([{
      kind: 'calendar#event', etag: expect.any(String), id: instanceId, status: 'cancelled', recurringEventId: master.id,
      originalStartTime: { dateTime: '2025-03-08T08:00:00-06:00', timeZone: 'America/Chicago' },
    }]);

    // Deleting the whole series: the master's minimal tombstone.
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: master.id ?? '' });
    const after = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: incr.data.nextSyncToken ?? '' });
    expect(after.data.items).toContainEqual({ kind: 'calendar#event', etag: expect.any(String), id: master.id, status: 'cancelled' });
  });

  test('all-day series use _YYYYMMDD ids; EXDATE removes occurrences; timeMin/timeMax window the expansion', async () => {
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Standup day', start: { date: '2030-01-07' }, end: { date: '2030-01-08' },
        recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE', 'EXDATE;VALUE=DATE:20300109'],
      },
    });
    const res = await suite.user.calendar.events.list({
      calendarId: 'primary', singleEvents: true, orderBy: 'startTime', timeMin: '2030-01-01T00:00:00Z', timeMax: '2030-01-20T00:00:00Z',
    });
    expect(res.data.items?.map((e) => e.id)).toEqual([`${ev.data.id}_20300107`, `${ev.data.id}_20300114`, `${ev.data.id}_20300116`]);
    expect(res.data.items?.[1]?.start).toEqual({ date: '2030-01-14' });
    // Without singleEvents a series overlapping the window is listed once, as its master.
    const masters = await suite.user.calendar.events.list({ calendarId: 'primary', timeMin: '2030-01-10T00:00:00Z', timeMax: '2030-01-12T00:00:00Z' });
    expect(masters.data.items).toHaveLength(0);
    const hit = await suite.user.calendar.events.list({ calendarId: 'primary', timeMin: '2030-01-14T00:00:00Z', timeMax: '2030-01-15T00:00:00Z' });
    expect(hit.data.items?.map((e) => e.id)).toEqual([ev.data.id]);
  });

  test('a person edits one occurrence through the control API; paging splits an expanded series', async () => {
    const master = await dailyChicago(6);
    await control(suite.emu, 'PUT', `calendars/alice@example.com/events/${master.id}_20250309T130000Z`, {
      summary: 'Brunch', start: { dateTime: '2025-03-09T11:00:00-05:00', timeZone: 'America/Chicago' }, end: { dateTime: '2025-03-09T12:00:00-05:00', timeZone: 'America/Chicago' },
    });
    const paged = await listAll(suite.user.calendar, { calendarId: 'primary', singleEvents: true, maxResults: 4 });
    expect(paged.pages).toBe(2);
    expect(paged.items.map((e) => e.id)).toHaveLength(6);
    expect(new Set(paged.items.map((e) => e.id)).size).toBe(6);
    expect(paged.items.find((e) => e.summary === 'Brunch')?.recurringEventId).toBe(master.id);
  });

  test('recurring events need a start timeZone and a valid rule', async () => {
    const noZone = await failure(() => suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { start: { dateTime: '2030-01-01T08:00:00Z' }, end: { dateTime: '2030-01-01T09:00:00Z' }, recurrence: ['RRULE:FREQ=DAILY'] },
    }));
    expect(noZone.status).toBe(400);
    const badRule = await failure(() => suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { start: { dateTime: '2030-01-01T08:00:00Z', timeZone: 'UTC' }, end: { dateTime: '2030-01-01T09:00:00Z', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=SOMETIMES'] },
    }));
    expect(badRule.status).toBe(400);
  });
});
