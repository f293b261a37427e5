// events.insert/get/patch/update/delete conformance: ids, etags and If-Match, Google's error bodies,
// attendees, access roles and the request log.

import { describe, expect, test } from 'bun:test';
import { control, failure, listAll, newUser } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite({ user: 'alice@example.com' });

const slot = { start: { dateTime: '2030-05-01T10:00:00+02:00' }, end: { dateTime: '2030-05-01T11:00:00+02:00' } };

describe('insert', () => {
  test('a client-supplied id is honoured; inserting it again is 409 duplicate, even once deleted', async () => {
    const id = 'c0ffee0booking0001';
    const created = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { id, summary: 'Booked', ...slot } });
    expect(created.data.id).toBe(id);
    expect(created.data.htmlLink).toStartWith('https://www.google.com/calendar/event?eid=');
    expect(created.data.sequence).toBe(0);
    expect(created.data.created).toBeString();

    const dup = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { id, summary: 'Again', ...slot } }));
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({
      error: { errors: [{ domain: 'global', reason: 'duplicate', message: 'The requested identifier already exists.' }], code: 409, message: 'The requested identifier already exists.' },
    });
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: id });
    expect((await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { id, ...slot } }))).status).toBe(409);
  });

  test('ids outside base32hex (a-v, 0-9, 5-1024 chars) are rejected', async () => {
    for (const id of ['UPPER12345', 'abc', 'has-dash-123', 'wxyz12345']) {
      const err = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { id, ...slot } }));
      expect(err.status).toBe(400);
      expect(err.body.error.errors[0]?.reason).toBe('invalid');
    }
  });

  test('times are validated', async () => {
    const noEnd = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { start: slot.start } }));
    expect(noEnd.status).toBe(400);
    const backwards = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { start: slot.end, end: slot.start } }));
    expect(backwards.body.error.errors[0]?.reason).toBe('timeRangeEmpty');
    const noOffset = await failure(() => suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { start: { dateTime: '2030-05-01T10:00:00' }, end: { dateTime: '2030-05-01T11:00:00' } },
    }));
    expect(noOffset.status).toBe(400);
    // ...unless a timeZone says how to read the wall time.
    const withZone = await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { start: { dateTime: '2030-05-01T10:00:00', timeZone: 'Europe/Paris' }, end: { dateTime: '2030-05-01T11:00:00', timeZone: 'Europe/Paris' } },
    });
    expect(withZone.status).toBe(200);
  });

  test('attendees default to needsAction; a person responding is a change seen by sync', async () => {
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary', sendUpdates: 'all',
      requestBody: { summary: 'Meet', ...slot, attendees: [{ email: 'Bob@Example.com' }, { email: 'alice@example.com' }] },
    });
    expect(ev.data.attendees).toEqual([
      { email: 'bob@example.com', responseStatus: 'needsAction' },
      { email: 'alice@example.com', organizer: true, self: true, responseStatus: 'accepted' },
    ]);
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    await control(suite.emu, 'POST', `calendars/alice@example.com/events/${ev.data.id}/respond`, { email: 'bob@example.com', responseStatus: 'declined' });
    const incr = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken });
    expect(incr.data.items?.[0]?.attendees?.[0]).toEqual({ email: 'bob@example.com', responseStatus: 'declined' });
    expect(incr.data.items?.[0]?.etag).not.toBe(ev.data.etag);

    // sendUpdates is recorded with the request.
    const log = await control<{ items: Array<{ method: string; path: string; query: Record<string, string>; user: string; status: number }> }>(
      suite.emu, 'GET', 'requests?method=POST&path=/calendar/v3/calendars/primary/events',
    );
    expect(log.items.at(-1)).toMatchObject({ method: 'POST', query: { sendUpdates: 'all' }, user: 'alice@example.com', status: 200 });
  });
});

describe('patch, update, delete', () => {
  test('patch merges top-level fields, update replaces, both honour If-Match (412 conditionNotMet)', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'One', description: 'keep me', location: 'Room 1', ...slot } });
    const id = ev.data.id ?? '';
    const patched = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: 'Two' } });
    expect(patched.data).toMatchObject({ summary: 'Two', description: 'keep me', location: 'Room 1' });
    expect(patched.data.etag).not.toBe(ev.data.etag);

    const stale = await failure(() => suite.user.calendar.events.patch(
      { calendarId: 'primary', eventId: id, requestBody: { summary: 'Three' } },
      { headers: { 'If-Match': ev.data.etag ?? '' } },
    ));
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual({
      error: {
        errors: [{ domain: 'global', reason: 'conditionNotMet', message: 'Precondition Failed', locationType: 'header', location: 'If-Match' }],
        code: 412, message: 'Precondition Failed',
      },
    });
    const ok = await suite.user.calendar.events.update(
      { calendarId: 'primary', eventId: id, requestBody: { summary: 'Replaced', ...slot } },
      { headers: { 'If-Match': patched.data.etag ?? '' } },
    );
    expect(ok.data.summary).toBe('Replaced');
    expect(ok.data.description).toBeUndefined();
    expect(ok.data.location).toBeUndefined();
    expect(ok.data.created).toBe(ev.data.created);
    expect((await failure(() => suite.user.calendar.events.delete({ calendarId: 'primary', eventId: id }, { headers: { 'If-Match': ev.data.etag ?? '' } }))).status).toBe(412);
  });

  test('If-None-Match with the current etag answers 304 Not Modified', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'C', ...slot } });
    const res = await fetch(`${suite.emu.url}calendar/v3/calendars/primary/events/${ev.data.id}`, {
      headers: { authorization: `Bearer ${(await suite.user.auth.getAccessToken()).token}`, 'if-none-match': ev.data.etag ?? '' },
    });
    expect(res.status).toBe(304);
  });

  test('moving an event bumps its sequence', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'S', ...slot } });
    const moved = await suite.user.calendar.events.patch({
      calendarId: 'primary', eventId: ev.data.id ?? '',
      requestBody: { start: { dateTime: '2030-05-02T10:00:00+02:00' }, end: { dateTime: '2030-05-02T11:00:00+02:00' } },
    });
    expect(moved.data.sequence).toBe(1);
  });

  test('delete marks cancelled: get still returns it, deleting again is 410, unknown ids 404', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'Bye', ...slot } });
    const id = ev.data.id ?? '';
    const del = await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: id, sendUpdates: 'none' });
    expect(del.status).toBe(204);
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: id })).data.status).toBe('cancelled');
    const again = await failure(() => suite.user.calendar.events.delete({ calendarId: 'primary', eventId: id }));
    expect(again.status).toBe(410);
    expect(again.body.error.errors[0]).toEqual({ domain: 'global', reason: 'deleted', message: 'Resource has been deleted' });
    const missing = await failure(() => suite.user.calendar.events.get({ calendarId: 'primary', eventId: 'nosuchevent1' }));
    expect(missing.status).toBe(404);
    expect(missing.body.error.errors[0]).toEqual({ domain: 'global', reason: 'notFound', message: 'Not Found' });
    // The live view of the control API no longer has it.
    const live = await control<{ items: Array<{ id: string }> }>(suite.emu, 'GET', 'calendars/alice@example.com/events');
    expect(live.items.map((e) => e.id)).not.toContain(id);
  });
});

describe('access', () => {
  test('readers of a shared calendar can list but not write (403); strangers get 404', async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    const { id } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', {
      owner: 'alice@example.com', summary: 'Alice public', timeZone: 'UTC', members: ['bob@example.com'],
    });
    await control(suite.emu, 'PUT', `calendars/${encodeURIComponent(id)}/events/sharedevent1`, { summary: 'Shared', ...slot });
    const list = await bob.calendar.events.list({ calendarId: id });
    expect(list.data.accessRole).toBe('reader');
    const item = list.data.items?.[0];
    expect(item?.summary).toBe('Shared');
    // Events of a secondary calendar are organised by the calendar itself (self: this calendar's copy).
    expect(item?.organizer).toEqual({ email: id, displayName: 'Alice public', self: true });
    expect(item?.creator).toEqual({ email: 'alice@example.com' });
    const denied = await failure(() => bob.calendar.events.insert({ calendarId: id, requestBody: { ...slot } }));
    expect(denied.status).toBe(403);
    const carol = await newUser(suite.emu, 'carol@example.com');
    expect((await failure(() => carol.calendar.events.list({ calendarId: id }))).status).toBe(404);
  });
});

// Event types guide (developers.google.com/workspace/calendar/api/guides/event-types) and the
// discovery document's eventTypes parameter of events.list and events.watch.
describe('event types', () => {
  const ooo = {
    summary: 'Away',
    eventType: 'outOfOffice',
    outOfOfficeProperties: { autoDeclineMode: 'declineAllConflictingInvitations', declineMessage: 'Away' },
    start: { dateTime: '2030-05-06T09:00:00+02:00' },
    end: { dateTime: '2030-05-06T17:00:00+02:00' },
  };
  const birthday = {
    summary: "Ada's birthday",
    eventType: 'birthday',
    start: { date: '2030-12-10' },
    end: { date: '2030-12-11' },
    recurrence: ['RRULE:FREQ=YEARLY'],
    visibility: 'private',
    transparency: 'transparent',
  };
  const secondary = async () => (await control<{ id: string }>(suite.emu, 'POST', 'calendars', { owner: 'alice@example.com', summary: 'Team' })).id;
  const restriction = (message: string | RegExp) => ({
    error: { code: 400, message: expect.stringMatching(message), errors: [expect.objectContaining({ domain: 'calendar', reason: 'eventTypeRestriction', message: expect.stringMatching(message) })] },
  });

  test('focus time, out of office and working location exist only on primary calendars', async () => {
    const made = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: ooo });
    expect(made.data.eventType).toBe('outOfOffice');
    const team = await secondary();
    for (const [eventType, extra] of [
      ['outOfOffice', { outOfOfficeProperties: {} }],
      ['focusTime', { focusTimeProperties: {} }],
      ['workingLocation', { workingLocationProperties: { type: 'homeOffice', homeOffice: {} } }],
    ] as const) {
      const refused = await failure(() => suite.user.calendar.events.insert({ calendarId: team, requestBody: { ...ooo, eventType, ...extra } }));
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual(restriction(/only available on primary calendars/));
      // A person in Google Calendar cannot either.
      const res = await fetch(`${suite.emu.url}_emulator/calendars/${encodeURIComponent(team)}/events/persontype${eventType.toLowerCase()}`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ooo, eventType, ...extra }),
      });
      expect(res.status).toBe(400);
    }
  });

  test('fromGmail cannot be inserted through the API (Gmail, a person, makes them); an unknown type is invalid', async () => {
    const refused = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...slot, summary: 'Flight', eventType: 'fromGmail' } }));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual(restriction(/'fromGmail'.*cannot be created/));
    await control(suite.emu, 'PUT', 'calendars/alice@example.com/events/gmailflight0001', { ...slot, summary: 'Flight', eventType: 'fromGmail' });
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: 'gmailflight0001' })).data.eventType).toBe('fromGmail');
    const unknown = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...slot, eventType: 'holiday' } }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.errors[0]).toMatchObject({ domain: 'global', reason: 'invalid' });
  });

  test('a birthday is inserted only in its one shape, and patched only in its summary, colour, reminders and day', async () => {
    const made = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: birthday });
    expect(made.data.eventType).toBe('birthday');
    const leap = await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { ...birthday, start: { date: '2032-02-29' }, end: { date: '2032-03-01' }, recurrence: ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1'] },
    });
    expect(leap.data.eventType).toBe('birthday');
    for (const wrong of [
      { ...birthday, transparency: 'opaque' },
      { ...birthday, visibility: 'default' },
      { ...birthday, end: { date: '2030-12-12' } },
      { ...birthday, recurrence: ['RRULE:FREQ=MONTHLY'] },
      { ...birthday, start: { date: '2032-02-29' }, end: { date: '2032-03-01' } },
      { ...birthday, description: 'cake' },
      { ...birthday, birthdayProperties: { type: 'anniversary' } },
    ]) {
      const refused = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: wrong }));
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual(restriction(/'birthday'/));
    }
    const renamed = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: made.data.id!, requestBody: { summary: 'Ada (80)', colorId: '3' } });
    expect(renamed.data.summary).toBe('Ada (80)');
    const moved = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: made.data.id!, requestBody: { start: { date: '2030-12-11' }, end: { date: '2030-12-12' } } });
    expect(moved.data.start).toEqual({ date: '2030-12-11' });
    const located = await failure(() => suite.user.calendar.events.patch({ calendarId: 'primary', eventId: made.data.id!, requestBody: { location: 'Home' } }));
    expect(located.body).toEqual(restriction("Attempt made to modify 'birthday' event in a way that is not valid for this event type."));
    expect(located.body.error.errors[0]).toMatchObject({ extendedHelp: 'https://developers.google.com/workspace/calendar/api/guides/event-types#birthday' });
    // Deleting one is allowed.
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: made.data.id! });
  });

  test('the type cannot be changed; a patch or update that does not name it keeps it', async () => {
    const made = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: ooo });
    const changed = await failure(() => suite.user.calendar.events.patch({ calendarId: 'primary', eventId: made.data.id!, requestBody: { eventType: 'default' } }));
    expect(changed.status).toBe(400);
    expect(changed.body).toEqual(restriction('Event type cannot be changed.'));
    const updated = await suite.user.calendar.events.update({ calendarId: 'primary', eventId: made.data.id!, requestBody: { summary: 'Away (longer)', start: ooo.start, end: { dateTime: '2030-05-06T18:00:00+02:00' } } });
    expect(updated.data.eventType).toBe('outOfOffice');
  });

  test('out of office and focus time decline conflicting invitations as their autoDeclineMode says', async () => {
    const invite = async (id: string, start: string, end: string) => {
      await control(suite.emu, 'PUT', `calendars/alice@example.com/events/${id}`, {
        summary: 'Sync with boss',
        organizer: { email: 'boss@example.com' },
        attendees: [{ email: 'boss@example.com', organizer: true, responseStatus: 'accepted' }, { email: 'alice@example.com', responseStatus: 'needsAction' }],
        start: { dateTime: start },
        end: { dateTime: end },
      });
    };
    const mine = async (id: string) => (await suite.user.calendar.events.get({ calendarId: 'primary', eventId: id })).data.attendees?.find((a) => a.email === 'alice@example.com');
    // Overlapping the end of the day off, and one well after it.
    await invite('inviteoverlap01', '2030-05-06T16:00:00+02:00', '2030-05-06T18:00:00+02:00');
    await invite('invitelater0001', '2030-05-06T18:00:00+02:00', '2030-05-06T19:00:00+02:00');
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...ooo, outOfOfficeProperties: { autoDeclineMode: 'declineAllConflictingInvitations', declineMessage: 'On leave' } } });
    expect(await mine('inviteoverlap01')).toMatchObject({ responseStatus: 'declined', comment: 'On leave' });
    expect((await mine('invitelater0001'))?.responseStatus).toBe('needsAction');

    // declineNone declines nothing; declineOnlyNewConflictingInvitations keeps the invitations already there
    // and declines those that arrive while it is present.
    const day2 = (t: string) => `2030-05-07T${t}:00+02:00`;
    await invite('invitekept00001', day2('10:00'), day2('11:00'));
    await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'Focus', eventType: 'focusTime', focusTimeProperties: { autoDeclineMode: 'declineOnlyNewConflictingInvitations', chatStatus: 'doNotDisturb' }, start: { dateTime: day2('09:00') }, end: { dateTime: day2('12:00') } },
    });
    await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { ...ooo, outOfOfficeProperties: { autoDeclineMode: 'declineNone' }, start: { dateTime: day2('14:00') }, end: { dateTime: day2('16:00') } },
    });
    expect((await mine('invitekept00001'))?.responseStatus).toBe('needsAction');
    await invite('invitenew000001', day2('11:30'), day2('12:30'));
    await invite('invitenone00001', day2('14:30'), day2('15:00'));
    expect((await mine('invitenew000001'))?.responseStatus).toBe('declined');
    expect((await mine('invitenone00001'))?.responseStatus).toBe('needsAction');
  });

  test('without eventTypes, events.list returns every type; with it, only those', async () => {
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...slot, summary: 'Meeting' } });
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: ooo });
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...ooo, eventType: 'focusTime', focusTimeProperties: {}, outOfOfficeProperties: undefined } });
    await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { ...ooo, eventType: 'workingLocation', workingLocationProperties: { type: 'homeOffice', homeOffice: {} }, outOfOfficeProperties: undefined, visibility: 'public', transparency: 'transparent' },
    });
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: birthday });
    const all = await listAll(suite.user.calendar, { calendarId: 'primary' });
    expect(all.items.map((e) => e.eventType).sort()).toEqual(['birthday', 'default', 'focusTime', 'outOfOffice', 'workingLocation']);
    const some = await listAll(suite.user.calendar, { calendarId: 'primary', eventTypes: ['outOfOffice', 'focusTime'] });
    expect(some.items.map((e) => e.eventType).sort()).toEqual(['focusTime', 'outOfOffice']);
  });

  test('events.watch with eventTypes announces changes to those types only; without it, every change', async () => {
    const address = 'http://127.0.0.1:9/unreachable';
    await suite.user.calendar.events.watch({ calendarId: 'primary', eventTypes: ['outOfOffice'], requestBody: { id: 'ooo-only', type: 'web_hook', address } });
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'everything', type: 'web_hook', address } });
    const states = async (channelId: string) =>
      (await control<{ items: Array<{ state: string; duplicate: boolean }> }>(suite.emu, 'GET', `notifications?channelId=${channelId}`)).items.filter((r) => !r.duplicate).map((r) => r.state);
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...slot, summary: 'Meeting' } });
    expect(await states('everything')).toEqual(['sync', 'exists']);
    expect(await states('ooo-only')).toEqual(['sync']);
    await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: ooo });
    expect(await states('ooo-only')).toEqual(['sync', 'exists']);
  });
});
