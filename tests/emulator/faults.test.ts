// Injected Calendar API faults, seen by the googleapis client as Google's errors (GaxiosError with status and
// Google's body), and cleared by reset.

import { beforeEach, describe, expect, test } from 'bun:test';
import { control, failure, newUser } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite({ user: 'alice@example.com' });
beforeEach(async () => {
  await suite.user.auth.getAccessToken();
});

// gaxios retries 429 and 5xx on GET by itself; `retry: false` shows the raw answer to the client.
const noRetry = { retry: false } as const;

describe('Calendar API faults', () => {
  test('429 rateLimitExceeded, without Retry-After (Google documents none)', async () => {
    await control(suite.emu, 'POST', 'faults', { status: 429, count: 1 });
    const err = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary' }, noRetry));
    expect(err.status).toBe(429);
    expect(err.body).toEqual({
      error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: 429, message: 'Rate Limit Exceeded' },
    });
    const headers = err.headers instanceof Headers ? Object.fromEntries(err.headers) : err.headers;
    expect(headers['retry-after']).toBeUndefined();
    // The count is used up: the next call succeeds.
    expect((await suite.user.calendar.events.list({ calendarId: 'primary' }, noRetry)).status).toBe(200);
  });

  test('403 usage limits: rateLimitExceeded by default, userRateLimitExceeded on request', async () => {
    await control(suite.emu, 'POST', 'faults', { status: 403, count: 1 });
    const rate = await failure(() => suite.user.calendar.calendarList.list({}, noRetry));
    expect(rate.status).toBe(403);
    expect(rate.body.error.errors[0]).toEqual({ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' });

    await control(suite.emu, 'POST', 'faults', { status: 403, reason: 'userRateLimitExceeded', count: 1 });
    const user = await failure(() => suite.user.calendar.calendarList.list({}, noRetry));
    expect(user.body.error).toEqual({
      errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }], code: 403, message: 'User Rate Limit Exceeded',
    });
  });

  test('500 backendError, for a write too', async () => {
    await control(suite.emu, 'POST', 'faults', { status: 500, count: 1 });
    const err = await failure(() => suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { start: { date: '2030-01-01' }, end: { date: '2030-01-02' } },
    }, noRetry));
    expect(err.status).toBe(500);
    expect(err.body).toEqual({ error: { errors: [{ domain: 'global', reason: 'backendError', message: 'Backend Error' }], code: 500, message: 'Backend Error' } });
    // Nothing was written.
    expect((await suite.user.calendar.events.list({ calendarId: 'primary' })).data.items).toHaveLength(0);
  });

  test('503 is Google\'s UNAVAILABLE body; 502 is the front end\'s HTML page, not JSON', async () => {
    await control(suite.emu, 'POST', 'faults', { status: 503, count: 1 });
    const unavailable = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary' }, noRetry));
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toEqual({
      error: {
        errors: [{ domain: 'global', reason: 'backendError', message: 'The service is currently unavailable.' }],
        code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE',
      },
    });
    await control(suite.emu, 'POST', 'faults', { status: 502, count: 1 });
    const res = await fetch(new URL('calendar/v3/calendars/primary/events', suite.emu.url), { headers: { authorization: `Bearer ${(await suite.user.auth.getAccessToken()).token}` } });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toStartWith('text/html');
    expect(await res.text()).toContain('Error 502 (Server Error)!!1');
    expect((await suite.user.calendar.events.list({ calendarId: 'primary' }, noRetry)).status).toBe(200);
  });

  test('the googleapis client retries a transient 429 on reads by itself', async () => {
    await control(suite.emu, 'POST', 'faults', { status: 429, count: 1 });
    const res = await suite.user.calendar.events.list({ calendarId: 'primary' }, { retryConfig: { retryDelay: 1, retry: 3 } });
    expect(res.status).toBe(200);
    const log = await control<{ items: Array<{ path: string; status: number }> }>(suite.emu, 'GET', 'requests?path=/events');
    expect(log.items.map((r) => r.status)).toEqual([429, 200]);
  });

  test('a path filter limits which calls fail; reset clears faults', async () => {
    await control(suite.emu, 'POST', 'faults', { status: 500, count: 5, paths: '/events' });
    expect((await suite.user.calendar.calendarList.list({}, noRetry)).status).toBe(200);
    expect((await failure(() => suite.user.calendar.events.list({ calendarId: 'primary' }, noRetry))).status).toBe(500);
    await control(suite.emu, 'POST', 'reset');
    suite.user = await newUser(suite.emu, 'alice@example.com');
    expect((await suite.user.calendar.events.list({ calendarId: 'primary' }, noRetry)).status).toBe(200);
    expect(await control(suite.emu, 'GET', 'faults')).toMatchObject({ status: null, remaining: 0, dropNotifications: 0 });
  });
});
