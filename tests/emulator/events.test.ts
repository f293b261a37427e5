// events.insert/get/patch/update/delete conformance: ids, etags and If-Match, Google's error bodies,
// attendees (self, invitations copied into attendees' calendars), access roles and the request log.

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
  test('patch merges top-level fields and ignores If-Match; update replaces and honours it (412 conditionNotMet), so does delete', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'One', description: 'keep me', location: 'Room 1', ...slot } });
    const id = ev.data.id ?? '';
    const patched0 = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: 'Two' } });
    expect(patched0.data).toMatchObject({ summary: 'Two', description: 'keep me', location: 'Room 1' });
    expect(patched0.data.etag).not.toBe(ev.data.etag);

    // Google documents conditional modification for update and delete only (version-resources guide):
    // a patch with a stale etag is applied all the same, nobody may rely on it being refused.
    const patched = await suite.user.calendar.events.patch(
      { calendarId: 'primary', eventId: id, requestBody: { summary: 'Three' } },
      { headers: { 'If-Match': ev.data.etag ?? '' } },
    );
    expect(patched.data.summary).toBe('Three');

    const stale = await failure(() => suite.user.calendar.events.update(
      { calendarId: 'primary', eventId: id, requestBody: { summary: 'Four', ...slot } },
      { headers: { 'If-Match': patched0.data.etag ?? '' } },
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

describe('attendees and their copies', () => {
  const ids = (evs: Array<{ id?: string | null }>) => evs.map((e) => e.id);
  const live = async (calendarId: string) =>
    (await control<{ items: Array<Record<string, any>> }>(suite.emu, 'GET', `calendars/${encodeURIComponent(calendarId)}/events`)).items;

  test('self marks the entry of the calendar the copy is on, not the reader', async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    const { id: team } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', {
      owner: 'carol@example.com', summary: 'Team', timeZone: 'UTC', members: [{ email: 'bob@example.com', role: 'reader' }],
    });
    await control(suite.emu, 'PUT', `calendars/${encodeURIComponent(team)}/events/teammeet001`, {
      summary: 'Standup', ...slot, attendees: [{ email: 'bob@example.com', responseStatus: 'declined' }, { email: team }],
    });
    // Bob reads the team calendar: the team calendar's entry is self, Bob's is not.
    const onTeam = (await bob.calendar.events.get({ calendarId: team, eventId: 'teammeet001' })).data;
    expect(onTeam.attendees).toEqual([
      { email: 'bob@example.com', responseStatus: 'declined' },
      { email: team, organizer: true, self: true, responseStatus: 'accepted' },
    ]);
    expect(onTeam.organizer).toEqual({ email: team, displayName: 'Team', self: true });
    // Bob's own copy: his entry is self.
    const onBob = (await bob.calendar.events.get({ calendarId: 'primary', eventId: 'teammeet001' })).data;
    expect(onBob.attendees?.find((a) => a.self)?.email).toBe('bob@example.com');
    expect(onBob.organizer).toEqual({ email: team, displayName: 'Team' });
  });

  test("an invitation is copied into the attendee's calendar with the same id; the organizer's changes follow; private properties stay private", async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary', sendUpdates: 'all',
      requestBody: {
        summary: 'Review', ...slot, attendees: [{ email: 'bob@example.com' }, { email: 'stranger@example.org' }],
        extendedProperties: { private: { mine: 'alice' }, shared: { both: 'yes' } },
      },
    });
    const id = ev.data.id ?? '';
    const copy = (await bob.calendar.events.get({ calendarId: 'primary', eventId: id })).data;
    expect(copy).toMatchObject({ id, iCalUID: ev.data.iCalUID, summary: 'Review', organizer: { email: 'alice@example.com' }, status: 'confirmed' });
    expect(copy.extendedProperties).toEqual({ shared: { both: 'yes' } });
    expect(copy.etag).not.toBe(ev.data.etag);
    expect(copy.htmlLink).not.toBe(ev.data.htmlLink);
    expect(copy.attendees?.find((a) => a.self)).toEqual({ email: 'bob@example.com', self: true, responseStatus: 'needsAction' });

    const bobFull = await listAll(bob.calendar, { calendarId: 'primary' });
    expect(ids(bobFull.items)).toEqual([id]);
    await suite.user.calendar.events.patch({
      calendarId: 'primary', eventId: id,
      requestBody: { start: { dateTime: '2030-05-03T10:00:00+02:00' }, end: { dateTime: '2030-05-03T11:00:00+02:00' } },
    });
    const incr = await bob.calendar.events.list({ calendarId: 'primary', syncToken: bobFull.syncToken });
    expect(incr.data.items?.map((e) => [e.id, e.start?.dateTime, e.sequence])).toEqual([[id, '2030-05-03T10:00:00+02:00', 1]]);
    // The organizer's private properties never reached Bob's copy; his own private ones stay his.
    await bob.calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { extendedProperties: { private: { mine: 'bob' }, shared: { both: 'yes' } } } });
    await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: 'Review 2' } });
    const after = (await bob.calendar.events.get({ calendarId: 'primary', eventId: id })).data;
    expect(after.summary).toBe('Review 2');
    expect(after.extendedProperties).toEqual({ shared: { both: 'yes' }, private: { mine: 'bob' } });
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: id })).data.extendedProperties?.private).toEqual({ mine: 'alice' });
  });

  test("an attendee's answer on their copy shows on the organizer's event and on the other copies", async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    await newUser(suite.emu, 'carol@example.com');
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { summary: 'Plan', ...slot, attendees: [{ email: 'bob@example.com' }, { email: 'carol@example.com' }] },
    });
    const id = ev.data.id ?? '';
    const answers = async (calendarId: string) => (await live(calendarId)).find((e) => e.id === id)?.attendees.map((a: any) => `${a.email}:${a.responseStatus}`);
    // Bob answers through the API on his own copy.
    const mine = (await bob.calendar.events.get({ calendarId: 'primary', eventId: id })).data;
    await bob.calendar.events.patch({
      calendarId: 'primary', eventId: id,
      requestBody: { attendees: mine.attendees?.map((a) => (a.self ? { ...a, responseStatus: 'accepted' } : a)) },
    });
    const expected = ['bob@example.com:accepted', 'carol@example.com:needsAction'];
    expect(await answers('alice@example.com')).toEqual(expected);
    expect(await answers('carol@example.com')).toEqual(expected);
    // Carol answers as a person, on her copy (control API).
    await control(suite.emu, 'POST', `calendars/carol@example.com/events/${id}/respond`, { email: 'carol@example.com', responseStatus: 'declined' });
    const both = ['bob@example.com:accepted', 'carol@example.com:declined'];
    expect(await answers('alice@example.com')).toEqual(both);
    expect(await answers('bob@example.com')).toEqual(both);
  });

  test("removing a guest or deleting the event cancels the copies; an attendee deleting their copy leaves the organizer's event", async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    const carol = await newUser(suite.emu, 'carol@example.com');
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { summary: 'Sync', ...slot, attendees: [{ email: 'bob@example.com' }, { email: 'carol@example.com' }] },
    });
    const id = ev.data.id ?? '';
    await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { attendees: [{ email: 'bob@example.com' }] } });
    expect((await carol.calendar.events.get({ calendarId: 'primary', eventId: id })).data.status).toBe('cancelled');
    expect((await bob.calendar.events.get({ calendarId: 'primary', eventId: id })).data.status).toBe('confirmed');

    await bob.calendar.events.delete({ calendarId: 'primary', eventId: id });
    expect((await bob.calendar.events.get({ calendarId: 'primary', eventId: id })).data.status).toBe('cancelled');
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: id })).data.status).toBe('confirmed');

    const again = await suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { summary: 'Sync 2', ...slot, attendees: [{ email: 'bob@example.com' }] },
    });
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: again.data.id ?? '', sendUpdates: 'all' });
    expect((await bob.calendar.events.get({ calendarId: 'primary', eventId: again.data.id ?? '' })).data.status).toBe('cancelled');
  });

  test("an attendee's out of office declining the invitation on their copy shows on the organizer's event, with its message", async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    await bob.calendar.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Away', eventType: 'outOfOffice',
        outOfOfficeProperties: { autoDeclineMode: 'declineOnlyNewConflictingInvitations', declineMessage: 'On leave' },
        start: { dateTime: '2030-05-01T08:00:00+02:00' }, end: { dateTime: '2030-05-01T18:00:00+02:00' },
      },
    });
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { summary: 'Demo', ...slot, attendees: [{ email: 'bob@example.com' }] },
    });
    const id = ev.data.id ?? '';
    const bobOn = async (calendarId: string, cal = suite.user.calendar) =>
      (await cal.events.get({ calendarId, eventId: id })).data.attendees?.find((a) => a.email === 'bob@example.com');
    expect(await bobOn('primary')).toEqual({ email: 'bob@example.com', responseStatus: 'declined', comment: 'On leave' });
    expect(await bobOn('primary', bob.calendar)).toEqual({ email: 'bob@example.com', self: true, responseStatus: 'declined', comment: 'On leave' });
  });

  test("a Meet link Google finishes creating later reaches the attendee's copy; only the organizer's request is pending", async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    await control(suite.emu, 'POST', 'conferences', { mode: 'pending', outcome: 'success', settleAfterMs: null });
    const ev = await suite.user.calendar.events.insert({
      calendarId: 'primary', conferenceDataVersion: 1,
      requestBody: { ...slot, attendees: [{ email: 'bob@example.com' }], conferenceData: { createRequest: { requestId: 'copy-meet', conferenceSolutionKey: { type: 'hangoutsMeet' } } } },
    });
    const id = ev.data.id ?? '';
    const pending = (await control<{ pending: Array<{ calendarId: string; eventId: string }> }>(suite.emu, 'GET', 'conferences')).pending;
    expect(pending.map((p) => [p.calendarId, p.eventId])).toEqual([['alice@example.com', id]]);
    await control(suite.emu, 'POST', 'conferences/settle', { eventId: id });
    const organizers = (await suite.user.calendar.events.get({ calendarId: 'primary', eventId: id })).data;
    const copy = (await bob.calendar.events.get({ calendarId: 'primary', eventId: id })).data;
    expect(organizers.hangoutLink).toBeDefined();
    expect(copy.hangoutLink).toBe(organizers.hangoutLink);
    expect(copy.conferenceData?.createRequest?.status?.statusCode).toBe('success');
  });

  test('a series is copied; an occurrence the organizer cancels is cancelled in the copy too; privateCopy makes no copy', async () => {
    const bob = await newUser(suite.emu, 'bob@example.com');
    const series = await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Weekly', start: { dateTime: '2030-05-01T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-05-01T11:00:00', timeZone: 'UTC' },
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'], attendees: [{ email: 'bob@example.com' }],
      },
    });
    const id = series.data.id ?? '';
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: `${id}_20300508T100000Z` });
    const inst = await bob.calendar.events.instances({ calendarId: 'primary', eventId: id });
    expect(inst.data.items?.map((e) => e.id)).toEqual([`${id}_20300501T100000Z`, `${id}_20300515T100000Z`]);

    const priv = await suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { summary: 'Mine only', ...slot, privateCopy: true, attendees: [{ email: 'bob@example.com' }] },
    });
    expect((await failure(() => bob.calendar.events.get({ calendarId: 'primary', eventId: priv.data.id ?? '' }))).status).toBe(404);
  });
});
