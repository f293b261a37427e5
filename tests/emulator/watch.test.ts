// Push notifications: watch responses, sync/exists deliveries with Google's headers to a local receiver,
// channels.stop, expiry, retries, fault injection, calendarList channels.

import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { control, failure, startReceiver, waitFor, type Receiver } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite({ config: { notificationRetryBaseMs: 5 }, user: 'alice@example.com' });
let receiver: Receiver;

beforeEach(() => {
  receiver = startReceiver();
});
afterEach(async () => {
  await receiver.stop();
});

interface NotificationView {
  channel: string;
  state: string;
  messageNumber: number;
  outcome: string;
  status: number | null;
  attempts: number;
  duplicate: boolean;
}

async function notifications(channelId?: string): Promise<NotificationView[]> {
  const q = channelId ? `?channelId=${encodeURIComponent(channelId)}` : '';
  return (await control<{ items: NotificationView[] }>(suite.emu, 'GET', `notifications${q}`)).items;
}

const slot = { start: { dateTime: '2030-05-01T10:00:00Z' }, end: { dateTime: '2030-05-01T11:00:00Z' } };

async function addEvent(summary = 'x'): Promise<string> {
  return (await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary, ...slot } })).data.id ?? '';
}

const forChannel = (id: string) => (r: { headers: Record<string, string> }): boolean => r.headers['x-goog-channel-id'] === id;

describe('events.watch', () => {
  test('sync then exists notifications with Google headers; none after channels.stop', async () => {
    const before = Date.now();
    const res = await suite.user.calendar.events.watch({
      calendarId: 'primary',
      requestBody: { id: 'chan-1', type: 'web_hook', address: receiver.url, token: 'target=calwatch' },
    });
    expect(res.data.kind).toBe('api#channel');
    expect(res.data.id).toBe('chan-1');
    expect(res.data.token).toBe('target=calwatch');
    expect(res.data.resourceId).toMatch(/^[A-Za-z0-9_-]{27}$/);
    expect(res.data.resourceUri).toBe('https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json');
    // expiration is an int64 and arrives as a string; default TTL 604800 s.
    expect(typeof res.data.expiration).toBe('string');
    const exp = Number(res.data.expiration);
    expect(exp).toBeGreaterThanOrEqual(before + 604_800_000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 604_800_000);

    const sync = await waitFor(() => receiver.received.find(forChannel('chan-1')), 'sync message');
    expect(sync.method).toBe('POST');
    expect(sync.body).toBe('');
    expect(sync.headers).toMatchObject({
      'x-goog-channel-id': 'chan-1',
      'x-goog-channel-token': 'target=calwatch',
      'x-goog-channel-expiration': new Date(exp).toUTCString(),
      'x-goog-resource-id': res.data.resourceId ?? '',
      'x-goog-resource-uri': res.data.resourceUri ?? '',
      'x-goog-resource-state': 'sync',
      'x-goog-message-number': '1',
      'user-agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
      'content-length': '0',
    });
    expect(sync.headers['x-goog-channel-expiration']).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);

    // Each change then brings an `exists` message with a rising number.
    const numbers: number[] = [1];
    for (let i = 0; i < 3; i++) {
      await addEvent(`e${i}`);
      const msg = await waitFor(() => receiver.received.filter(forChannel('chan-1'))[i + 1], `exists #${i + 1}`);
      expect(msg.headers['x-goog-resource-state']).toBe('exists');
      numbers.push(Number(msg.headers['x-goog-message-number']));
    }
    for (let i = 1; i < numbers.length; i++) expect(numbers[i] ?? 0).toBeGreaterThan(numbers[i - 1] ?? 0);
    // A person's change (control API) notifies too, and so does an attendee response.
    await control(suite.emu, 'PUT', 'calendars/alice@example.com/events/byperson01', { summary: 'UI', ...slot });
    await waitFor(() => receiver.received.filter(forChannel('chan-1')).length === 5, 'exists after control change');

    await suite.user.calendar.channels.stop({ requestBody: { id: 'chan-1', resourceId: res.data.resourceId ?? '' } });
    // A second channel on the same calendar proves the next change was processed.
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'canary', type: 'web_hook', address: receiver.url } });
    await addEvent('after stop');
    await waitFor(() => receiver.received.filter(forChannel('canary')).length === 2, 'canary exists');
    expect(receiver.received.filter(forChannel('chan-1'))).toHaveLength(5);
    const views = await notifications('chan-1');
    expect(views.every((n) => n.outcome === 'delivered' && n.status === 200)).toBe(true);
    const channels = await control<{ items: Array<{ id: string; state: string; tokenSet: boolean; resource: string }> }>(suite.emu, 'GET', 'channels');
    expect(channels.items.find((c) => c.id === 'chan-1')).toMatchObject({ state: 'stopped', tokenSet: true, resource: 'events:alice@example.com' });

    // Stopping again, or with the wrong resourceId: 404.
    expect((await failure(() => suite.user.calendar.channels.stop({ requestBody: { id: 'chan-1', resourceId: res.data.resourceId ?? '' } }))).status).toBe(404);
    expect((await failure(() => suite.user.calendar.channels.stop({ requestBody: { id: 'canary', resourceId: 'nope' } }))).status).toBe(404);
  });

  test('resourceId is stable per calendar; resourceUri keeps the calendar id as given', async () => {
    const a = await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'a', type: 'web_hook', address: receiver.url } });
    const b = await suite.user.calendar.events.watch({ calendarId: 'alice@example.com', requestBody: { id: 'b', type: 'webhook', address: receiver.url } });
    expect(a.data.resourceId).toBe(b.data.resourceId ?? '');
    expect(b.data.resourceUri).toBe('https://www.googleapis.com/calendar/v3/calendars/alice@example.com/events?alt=json');
    expect(a.data.token).toBeUndefined();
    const sync = await waitFor(() => receiver.received.find(forChannel('a')), 'sync');
    expect(sync.headers).not.toHaveProperty('x-goog-channel-token');
  });

  test('an expired channel sends nothing more', async () => {
    const expiration = Date.now() + 400;
    const res = await suite.user.calendar.events.watch({
      calendarId: 'primary', requestBody: { id: 'short', type: 'web_hook', address: receiver.url, expiration: String(expiration) },
    });
    expect(res.data.expiration).toBe(String(expiration));
    await waitFor(() => receiver.received.find(forChannel('short')), 'sync');
    await waitFor(() => Date.now() > expiration + 10, 'expiry', 2000);
    await addEvent();
    expect((await notifications('short')).map((n) => n.state)).toEqual(['sync']);
    const ch = (await control<{ items: Array<{ id: string; state: string }> }>(suite.emu, 'GET', 'channels')).items.find((c) => c.id === 'short');
    expect(ch?.state).toBe('expired');
    expect(receiver.received.filter(forChannel('short'))).toHaveLength(1);
  });

  test('params.ttl and the maximum TTL bound the expiration', async () => {
    const now = Date.now();
    const ttl = await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 't1', type: 'web_hook', address: receiver.url, params: { ttl: '3600' } } });
    expect(Number(ttl.data.expiration)).toBeGreaterThanOrEqual(now + 3_600_000);
    expect(Number(ttl.data.expiration)).toBeLessThanOrEqual(Date.now() + 3_600_000);
    await control(suite.emu, 'POST', 'faults', { maxChannelTtlSeconds: 60 });
    const capped = await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 't2', type: 'web_hook', address: receiver.url, params: { ttl: '3600' } } });
    expect(Number(capped.data.expiration)).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  test('validation: channel id characters and length, HTTPS addresses, push-less calendars, unique ids', async () => {
    const bad = async (requestBody: Record<string, unknown>, calendarId = 'primary'): Promise<string> => {
      const err = await failure(() => suite.user.calendar.events.watch({ calendarId, requestBody }));
      expect(err.status).toBe(400);
      return err.body.error.errors[0]?.reason ?? '';
    };
    expect(await bad({ id: 'has.dot', type: 'web_hook', address: receiver.url })).toBe('invalid');
    expect(await bad({ id: 'x'.repeat(65), type: 'web_hook', address: receiver.url })).toBe('invalid');
    expect(await bad({ id: 'ok', type: 'email', address: receiver.url })).toBe('invalid');
    expect(await bad({ id: 'ok', type: 'web_hook', address: 'http://example.com/hook' })).toBe('push.webhookUrlNotHttps');
    expect(await bad({ id: 'ok', type: 'web_hook', address: receiver.url, token: 't'.repeat(257) })).toBe('invalid');
    const { id: holidays } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', {
      owner: 'alice@example.com', id: 'en.usa#holiday@group.v.calendar.google.com', summary: 'Holidays', timeZone: 'UTC', pushNotSupported: true,
    });
    expect(await bad({ id: 'ok', type: 'web_hook', address: receiver.url }, holidays)).toBe('pushNotSupportedForRequestedResource');
    // https addresses are accepted (delivery to them just fails locally).
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'A-z_0+9/=', type: 'web_hook', address: 'https://127.0.0.1:9/x' } });
    expect(await bad({ id: 'A-z_0+9/=', type: 'web_hook', address: receiver.url })).toBe('channelIdNotUnique');
  });

  test('watch with a stale sync token answers 410, with a garbage one 400', async () => {
    const list = await suite.user.calendar.events.list({ calendarId: 'primary' });
    await control(suite.emu, 'POST', 'calendars/alice@example.com/invalidate-sync-tokens');
    const stale = await failure(() => suite.user.calendar.events.watch({
      calendarId: 'primary', syncToken: list.data.nextSyncToken ?? '', requestBody: { id: 'w', type: 'web_hook', address: receiver.url },
    }));
    expect(stale.status).toBe(410);
    expect(stale.body.error.errors[0]?.reason).toBe('fullSyncRequired');
    const garbage = await failure(() => suite.user.calendar.events.watch({
      calendarId: 'primary', syncToken: 'x', requestBody: { id: 'w', type: 'web_hook', address: receiver.url },
    }));
    expect(garbage.status).toBe(400);
  });
});

describe('delivery', () => {
  test('500/502/503/504 answers are retried, other failures are not', async () => {
    receiver.status = (n) => (n === 1 ? 503 : n === 2 ? 502 : 200);
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'retry', type: 'web_hook', address: receiver.url } });
    await waitFor(async () => (await notifications('retry'))[0]?.outcome === 'delivered', 'delivered after retries');
    expect((await notifications('retry'))[0]).toMatchObject({ attempts: 3, status: 200 });
    expect(receiver.received.map((r) => r.headers['x-goog-message-number'])).toEqual(['1', '1', '1']);

    receiver.status = 404;
    await addEvent();
    await waitFor(async () => (await notifications('retry'))[1]?.outcome === 'failed', 'failed exists');
    expect((await notifications('retry'))[1]).toMatchObject({ attempts: 1, status: 404, state: 'exists' });
  });

  test('dropped and duplicated notifications (fault injection)', async () => {
    await control(suite.emu, 'POST', 'faults', { dropNotifications: 1 });
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'lossy', type: 'web_hook', address: receiver.url } });
    await addEvent();
    expect((await notifications('lossy')).map((n) => n.outcome)).toEqual(['dropped', 'dropped']);

    await control(suite.emu, 'POST', 'faults', { dropNotifications: 0, duplicateNotifications: 1 });
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'twice', type: 'web_hook', address: receiver.url } });
    await waitFor(() => receiver.received.filter(forChannel('twice')).length === 2, 'duplicated sync');
    expect(receiver.received.filter(forChannel('twice')).map((r) => r.headers['x-goog-message-number'])).toEqual(['1', '1']);
    expect(receiver.received.filter(forChannel('lossy'))).toHaveLength(0);
  });

  test('calendarList.watch notifies when a calendar is added to the user\'s list', async () => {
    const res = await suite.user.calendar.calendarList.watch({ requestBody: { id: 'list-chan', type: 'web_hook', address: receiver.url } });
    expect(res.data.resourceUri).toBe('https://www.googleapis.com/calendar/v3/users/me/calendarList?alt=json');
    await waitFor(() => receiver.received.find(forChannel('list-chan')), 'sync');
    await control(suite.emu, 'POST', 'calendars', { owner: 'bob@example.com', summary: 'Shared', timeZone: 'UTC', members: ['alice@example.com'] });
    const exists = await waitFor(() => receiver.received.filter(forChannel('list-chan'))[1], 'exists');
    expect(exists.headers['x-goog-resource-state']).toBe('exists');
    expect(exists.headers['x-goog-resource-id']).toBe(res.data.resourceId ?? '');
  });
});

// Push modes (POST /_emulator/push): push as unreliable as Google says it may be.
describe('push modes', () => {
  test('listableDelayMs: the push comes at once, the list shows the change only later; get shows it at once', async () => {
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'late', type: 'web_hook', address: receiver.url } });
    const first = await suite.user.calendar.events.list({ calendarId: 'primary' });
    const syncToken = first.data.nextSyncToken ?? '';
    // Long enough that the list below, made right after the push, cannot outlast it under load.
    await control(suite.emu, 'POST', 'push', { listableDelayMs: 4000 });
    const id = await addEvent('late');
    await waitFor(() => receiver.received.filter(forChannel('late'))[1], 'exists pushed at once');
    const early = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken });
    expect(early.data.items ?? []).toHaveLength(0);
    expect((await suite.user.calendar.events.get({ calendarId: 'primary', eventId: id })).data.summary).toBe('late');
    // The token of the empty answer still covers the change: it is listed once listable, with no further push.
    const later = await waitFor(async () => {
      const r = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: early.data.nextSyncToken ?? '' });
      return (r.data.items ?? []).length > 0 ? r.data.items : undefined;
    }, 'the change listed later', 30_000);
    expect(later.map((e) => e.id)).toEqual([id]);
    expect(receiver.received.filter(forChannel('late'))).toHaveLength(2);
    expect((await control<Record<string, unknown>>(suite.emu, 'GET', 'push')).listableDelayMs).toBe(4000);
  }, 40_000);

  test('dropFirstPush: the first change of each channel is never announced, later ones are', async () => {
    await control(suite.emu, 'POST', 'push', { dropFirstPush: true });
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'first-lost', type: 'web_hook', address: receiver.url } });
    await addEvent('one');
    await addEvent('two');
    await waitFor(async () => (await notifications('first-lost')).filter((n) => n.outcome === 'delivered').length === 2, 'sync and the second exists delivered');
    expect((await notifications('first-lost')).map((n) => `${n.state}:${n.outcome}`)).toEqual(['sync:delivered', 'exists:dropped', 'exists:delivered']);
  });

  test('retries 0: a 503 answer is not retried', async () => {
    expect((await control<Record<string, unknown>>(suite.emu, 'POST', 'push', { retries: 0 })).retries).toBe(0);
    receiver.status = 503;
    await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'once', type: 'web_hook', address: receiver.url } });
    await waitFor(async () => (await notifications('once'))[0]?.outcome === 'failed', 'sync failed');
    expect((await notifications('once'))[0]).toMatchObject({ attempts: 1, status: 503 });
  });

  test('refuseWatches: the next watches answer 403 forbidden or 404, then watching works again', async () => {
    await control(suite.emu, 'POST', 'push', { refuseWatches: { status: 403, count: 1 } });
    const refused = await failure(() => suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'w1', type: 'web_hook', address: receiver.url } }));
    expect(refused.status).toBe(403);
    expect(refused.body.error.errors[0]).toMatchObject({ domain: 'global', reason: 'forbidden' });
    await control(suite.emu, 'POST', 'push', { refuseWatches: { status: 404, count: 1 } });
    expect((await failure(() => suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'w2', type: 'web_hook', address: receiver.url } }))).status).toBe(404);
    const ok = await suite.user.calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'w3', type: 'web_hook', address: receiver.url } });
    expect(ok.data.id).toBe('w3');
    // Unknown fields are refused.
    const bad = await fetch(`${suite.emu.url}_emulator/push`, { method: 'POST', body: JSON.stringify({ listable: 1 }) });
    expect(bad.status).toBe(400);
  });
});
