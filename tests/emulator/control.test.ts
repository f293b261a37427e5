// The control API itself: reset, users, calendars, live events view, and a size check that listing stays
// linear (a benchmark full-syncs 50,000 events through the emulator).

import { describe, expect, test } from 'bun:test';
import { control, failure, newUser, oauthClient, startReceiver } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite();

describe('control API', () => {
  test('reset clears users, grants, calendars, channels, faults, Slack and logs', async () => {
    const alice = await newUser(suite.emu, 'alice@example.com');
    await alice.calendar.events.list({ calendarId: 'primary' });
    const receiver = startReceiver();
    try {
      await alice.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'c1', type: 'web_hook', address: receiver.url } });
      await control(suite.emu, 'POST', 'faults', { status: 500, count: 99, paths: '/nothing' });
      await control(suite.emu, 'POST', 'slack/users', { email: 'alice@example.com' });
      await control(suite.emu, 'POST', 'reset');
      expect(await control(suite.emu, 'GET', 'users')).toEqual({ items: [] });
      expect(await control(suite.emu, 'GET', 'calendars')).toEqual({ items: [] });
      expect(await control(suite.emu, 'GET', 'channels')).toEqual({ items: [] });
      expect(await control(suite.emu, 'GET', 'notifications')).toEqual({ items: [] });
      expect(await control(suite.emu, 'GET', 'requests')).toEqual({ items: [] });
      expect(await control(suite.emu, 'GET', 'slack/messages')).toEqual({ items: [] });
      expect(await control(suite.emu, 'GET', 'faults')).toMatchObject({ status: null, remaining: 0 });
      const fresh = oauthClient(suite.emu);
      fresh.setCredentials({ refresh_token: alice.refreshToken });
      expect((await failure(() => fresh.refreshAccessToken())).status).toBe(400);
    } finally {
      await receiver.stop();
    }
  });

  test('users get a primary calendar; calendars can be shared; the live view hides cancelled events', async () => {
    const created = await control<{ email: string; refreshToken: string }>(suite.emu, 'POST', 'users', { email: 'Alice@Example.com', timeZone: 'Europe/Paris' });
    expect(created.email).toBe('alice@example.com');
    expect(created.refreshToken).toStartWith('1//');
    const { id } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', {
      owner: 'alice@example.com', summary: 'Rooms', timeZone: 'Europe/Paris', members: [{ email: 'bob@example.com', role: 'writer' }],
    });
    expect(id).toMatch(/@group\.calendar\.google\.com$/);
    const users = await control<{ items: Array<{ email: string; calendars: Array<{ id: string; accessRole: string; primary: boolean }> }> }>(suite.emu, 'GET', 'users');
    expect(users.items.find((u) => u.email === 'bob@example.com')?.calendars).toContainEqual({ id, accessRole: 'writer', primary: false });
    expect(users.items.find((u) => u.email === 'alice@example.com')?.calendars).toContainEqual({ id: 'alice@example.com', accessRole: 'owner', primary: true });

    const slot = { start: { dateTime: '2030-01-01T10:00:00+01:00' }, end: { dateTime: '2030-01-01T11:00:00+01:00' } };
    const put = await fetch(`${suite.emu.url}_emulator/calendars/${encodeURIComponent(id)}/events/room00001`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ summary: 'Room booked', ...slot }),
    });
    expect(put.status).toBe(201);
    await control(suite.emu, 'PUT', `calendars/${encodeURIComponent(id)}/events/room00002`, { summary: 'Other', ...slot });
    await control(suite.emu, 'DELETE', `calendars/${encodeURIComponent(id)}/events/room00002`);
    const live = await control<{ items: Array<{ id: string; summary: string; kind: string }> }>(suite.emu, 'GET', `calendars/${encodeURIComponent(id)}/events`);
    expect(live.items.map((e) => [e.id, e.summary, e.kind])).toEqual([['room00001', 'Room booked', 'calendar#event']]);

    const missing = await fetch(`${suite.emu.url}_emulator/calendars/nope/events/x1234`, { method: 'PUT', body: '{}' });
    expect(missing.status).toBe(404);
    const invalid = await fetch(`${suite.emu.url}_emulator/users`, { method: 'POST', body: JSON.stringify({ email: 'not-an-email' }) });
    expect(invalid.status).toBe(400);
  });

  test('a large calendar full-syncs in linear time', async () => {
    const n = 20_000;
    await control(suite.emu, 'POST', 'users', { email: 'big@example.com' });
    const base = Date.UTC(2030, 0, 1);
    for (let i = 0; i < n; i++) {
      const res = await suite.emu.fetch(new Request(`${suite.emu.url}_emulator/calendars/big@example.com/events/big${i.toString(32).padStart(6, '0')}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ summary: `e${i}`, start: { dateTime: new Date(base + i * 3_600_000).toISOString() }, end: { dateTime: new Date(base + i * 3_600_000 + 1_800_000).toISOString() } }),
      }));
      if (res.status !== 201) throw new Error(await res.text());
    }
    const big = await newUser(suite.emu, 'big@example.com');
    const t0 = performance.now();
    let pageToken: string | undefined;
    let count = 0;
    let pages = 0;
    do {
      const res = await big.calendar.events.list({ calendarId: 'primary', maxResults: 2500, ...(pageToken ? { pageToken } : {}) });
      count += res.data.items?.length ?? 0;
      pages++;
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    const elapsed = performance.now() - t0;
    expect(count).toBe(n);
    expect(pages).toBe(8);
    // Generous bound: quadratic paging would take far longer than this on any machine.
    expect(elapsed).toBeLessThan(5000);
  }, 60_000); // (seeding 20,000 events takes seconds on a loaded machine; the bound above is the paging's)
});
