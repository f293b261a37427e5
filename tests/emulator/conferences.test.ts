// conferenceData as Google creates Meet links (conferenceDataVersion, createRequest pending -> success or
// failure, a repeated requestId ignored, allowed solution types), the pending -> success change reaching
// incremental sync and push, and guests' answers reset when the start moves.

import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import type { calendar_v3 } from 'googleapis';
import { control, failure, listAll, startReceiver, waitFor, type Receiver } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite({ user: 'alice@example.com' });

const slot = { start: { dateTime: '2030-05-01T10:00:00Z' }, end: { dateTime: '2030-05-01T11:00:00Z' } };
const meet = (requestId: string) => ({ createRequest: { requestId, conferenceSolutionKey: { type: 'hangoutsMeet' } } });
const MEET_URI = /^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/;

describe('creating a Meet conference', () => {
  test('with conferenceDataVersion=1 the insert answers success, with the video entry point and hangoutLink', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { summary: 'Call', ...slot, conferenceData: meet('req-1') } });
    const cd = ev.data.conferenceData!;
    expect(cd.createRequest).toEqual({ requestId: 'req-1', conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'success' } });
    expect(cd.conferenceSolution?.key?.type).toBe('hangoutsMeet');
    const video = cd.entryPoints!.find((e) => e.entryPointType === 'video')!;
    expect(video.uri).toMatch(MEET_URI);
    expect(cd.conferenceId).toBe(video.uri!.slice('https://meet.google.com/'.length));
    expect(ev.data.hangoutLink).toBe(video.uri!);
    // reads return it (events.get has no conferenceDataVersion)
    const got = await suite.user.calendar.events.get({ calendarId: 'primary', eventId: ev.data.id! });
    expect(got.data.hangoutLink).toBe(video.uri!);
  });

  test('without conferenceDataVersion the conferenceData of the body is ignored (insert and patch)', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...slot, conferenceData: meet('req-2'), hangoutLink: 'https://meet.google.com/aaa-bbbb-ccc' } });
    expect(ev.data.conferenceData).toBeUndefined();
    expect(ev.data.hangoutLink).toBeUndefined();
    const withMeet = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ev.data.id!, conferenceDataVersion: 1, requestBody: { conferenceData: meet('req-3') } });
    const link = withMeet.data.hangoutLink!;
    expect(link).toMatch(MEET_URI);
    // a version-0 patch neither removes nor replaces it
    const v0 = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ev.data.id!, requestBody: { summary: 'Renamed', conferenceData: meet('req-4') } });
    expect(v0.data.hangoutLink).toBe(link);
    expect(v0.data.conferenceData?.createRequest?.requestId).toBe('req-3');
  });

  test('the same requestId again is ignored; a new one makes a new conference; null removes it', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { ...slot, conferenceData: meet('same') } });
    const again = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ev.data.id!, conferenceDataVersion: 1, requestBody: { conferenceData: meet('same') } });
    expect(again.data.hangoutLink).toBe(ev.data.hangoutLink!);
    const fresh = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ev.data.id!, conferenceDataVersion: 1, requestBody: { conferenceData: meet('other') } });
    expect(fresh.data.hangoutLink).toMatch(MEET_URI);
    expect(fresh.data.conferenceData?.createRequest?.requestId).toBe('other');
    const removed = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ev.data.id!, conferenceDataVersion: 1, requestBody: { conferenceData: null } as unknown as calendar_v3.Schema$Event });
    expect(removed.data.conferenceData).toBeUndefined();
    expect(removed.data.hangoutLink).toBeUndefined();
  });

  test('a solution type the calendar does not allow is 400 "Invalid conference type value."', async () => {
    const bad = await failure(() => suite.user.calendar.events.insert({
      calendarId: 'primary', conferenceDataVersion: 1,
      requestBody: { ...slot, conferenceData: { createRequest: { requestId: 'x', conferenceSolutionKey: { type: 'eventHangout' } } } },
    }));
    expect(bad.status).toBe(400);
    expect(bad.body.error.errors[0]).toEqual({ domain: 'global', reason: 'invalid', message: 'Invalid conference type value.' });
    // a calendar whose allowedConferenceSolutionTypes lack hangoutsMeet refuses Meet too, and says so
    await control(suite.emu, 'POST', 'conferences', { allowedTypes: { 'alice@example.com': [] } });
    const cal = await suite.user.calendar.calendars.get({ calendarId: 'primary' });
    expect(cal.data.conferenceProperties).toEqual({ allowedConferenceSolutionTypes: [] });
    const noMeet = await failure(() => suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { ...slot, conferenceData: meet('y') } }));
    expect(noMeet.status).toBe(400);
  });
});

describe('creation that stays pending', () => {
  let receiver: Receiver;
  beforeEach(() => {
    receiver = startReceiver();
  });
  afterEach(async () => {
    await receiver.stop();
  });

  test('pending in the insert answer, then success: a change in incremental sync, pushed to the channel', async () => {
    await control(suite.emu, 'POST', 'conferences', { mode: 'pending', outcome: 'success', settleAfterMs: null });
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { ...slot, conferenceData: meet('slow') } });
    expect(ev.data.conferenceData).toEqual({ createRequest: { requestId: 'slow', conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'pending' } } });
    expect(ev.data.hangoutLink).toBeUndefined();
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'conf-watch', type: 'web_hook', address: receiver.url } });
    await waitFor(() => receiver.received.some((r) => r.headers['x-goog-resource-state'] === 'sync'), 'sync message', 20_000);

    const { settled } = await control<{ settled: unknown[] }>(suite.emu, 'POST', 'conferences/settle', { eventId: ev.data.id });
    expect(settled).toHaveLength(1);
    await waitFor(() => receiver.received.some((r) => r.headers['x-goog-resource-state'] === 'exists'), 'exists message after the conference settled', 20_000);
    const incr = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken });
    expect(incr.data.items).toHaveLength(1);
    const after = incr.data.items![0]!;
    expect(after.etag).not.toBe(ev.data.etag);
    expect(after.conferenceData?.createRequest?.status?.statusCode).toBe('success');
    expect(after.hangoutLink).toMatch(MEET_URI);
    // nothing left to settle
    expect((await control<{ pending: unknown[] }>(suite.emu, 'GET', 'conferences')).pending).toEqual([]);
  });

  test('pending, then failure: no entry points, no solution, no link', async () => {
    await control(suite.emu, 'POST', 'conferences', { mode: 'pending', outcome: 'failure' });
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { ...slot, conferenceData: meet('doomed') } });
    await control(suite.emu, 'POST', 'conferences/settle', {});
    const after = await suite.user.calendar.events.get({ calendarId: 'primary', eventId: ev.data.id! });
    expect(after.data.conferenceData).toEqual({ createRequest: { requestId: 'doomed', conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'failure' } } });
    expect(after.data.hangoutLink).toBeUndefined();
  });

  test('settleAfterMs settles by itself; a deleted event is not revived', async () => {
    await control(suite.emu, 'POST', 'conferences', { mode: 'pending', settleAfterMs: 50 });
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { ...slot, conferenceData: meet('timer') } });
    await waitFor(async () => (await suite.user.calendar.events.get({ calendarId: 'primary', eventId: ev.data.id! })).data.hangoutLink !== undefined, 'settled by the timer', 20_000);
    await control(suite.emu, 'POST', 'conferences', { settleAfterMs: null });
    const gone = await suite.user.calendar.events.insert({ calendarId: 'primary', conferenceDataVersion: 1, requestBody: { ...slot, conferenceData: meet('gone') } });
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: gone.data.id! });
    const { settled } = await control<{ settled: unknown[] }>(suite.emu, 'POST', 'conferences/settle', { eventId: gone.data.id });
    expect(settled).toEqual([]);
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: gone.data.id! })).data.status).toBe('cancelled');
  });
});

describe("guests' answers when the time changes", () => {
  const respond = (id: string, responseStatus: string) =>
    control(suite.emu, 'POST', `calendars/alice@example.com/events/${id}/respond`, { email: 'bob@example.com', responseStatus });
  const bobOf = (ev: { attendees?: Array<{ email?: string | null; responseStatus?: string | null }> }) => ev.attendees?.find((a) => a.email === 'bob@example.com')?.responseStatus;

  test('a new start resets them to needsAction (the organizer stays accepted); a new end only or a new title does not', async () => {
    const ev = await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { ...slot, attendees: [{ email: 'bob@example.com' }, { email: 'alice@example.com' }] } });
    await respond(ev.data.id!, 'accepted');
    const longer = await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ev.data.id!, requestBody: { summary: 'Longer', end: { dateTime: '2030-05-01T12:00:00Z' } } });
    expect(bobOf(longer.data)).toBe('accepted');
    const moved = await suite.user.calendar.events.patch({
      calendarId: 'primary', eventId: ev.data.id!, requestBody: { start: { dateTime: '2030-05-02T10:00:00Z' }, end: { dateTime: '2030-05-02T11:00:00Z' } },
    });
    expect(bobOf(moved.data)).toBe('needsAction');
    expect(moved.data.attendees!.find((a) => a.email === 'alice@example.com')).toMatchObject({ organizer: true, responseStatus: 'accepted' });
    // the same instant written differently is no move
    await respond(ev.data.id!, 'tentative');
    const same = await suite.user.calendar.events.patch({
      calendarId: 'primary', eventId: ev.data.id!, requestBody: { start: { dateTime: '2030-05-02T12:00:00+02:00' } },
    });
    expect(bobOf(same.data)).toBe('tentative');
  });
});
