// The pure parts of fan-out: which addresses are refused, the retry schedule, Retry-After, the
// verdict on each kind of answer, the changed fields of an update, and ids that keep their order.
import { describe, expect, test } from 'bun:test';
import { isPrivateAddress, parseSubscriberUrl, resolveTarget } from '../../src/fanout/address-policy.ts';
import { backoffSeconds, nextDelaySeconds, parseRetryAfter } from '../../src/fanout/retry-schedule.ts';
import { judge } from '../../src/fanout/deliver.ts';
import { changedFields } from '../../src/fanout/messages.ts';
import { monotonicUuid } from '../../src/fanout/ids.ts';
import { matches } from '../../src/fanout/publish.ts';

describe('address policy', () => {
  test.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.10',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::10.0.0.1',
    '2002:7f00:1::1',
    'not-an-ip',
  ])('%s is refused', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  test.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  test('only http(s) without credentials', () => {
    expect(parseSubscriberUrl('https://example.com/h').hostname).toBe('example.com');
    for (const bad of ['ftp://example.com', 'javascript:alert(1)', 'http://a:b@example.com', 'nope', 'file:///etc/passwd']) {
      expect(() => parseSubscriberUrl(bad)).toThrow();
    }
  });

  test('literal and resolved private addresses are refused unless allowed', async () => {
    for (const url of ['http://127.0.0.1:1/h', 'http://[::1]:1/h', 'http://localhost:1/h', 'http://169.254.169.254/latest/meta-data']) {
      await expect(resolveTarget(url, { allowPrivate: false })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect(resolveTarget('http://localhost:1/h', { allowPrivate: true })).resolves.toMatchObject({ address: expect.any(String) });
    // Decimal and hex spellings of 127.0.0.1 are normalised by the URL parser, then refused.
    await expect(resolveTarget('http://2130706433/h', { allowPrivate: false })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(resolveTarget('http://0x7f.1/h', { allowPrivate: false })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('retry schedule', () => {
  test('x4 per attempt with +-25% jitter; eight attempts from 15 s span about a day', () => {
    expect(backoffSeconds(1, 15, () => 0.5)).toBe(15);
    expect(backoffSeconds(2, 15, () => 0.5)).toBe(60);
    expect(backoffSeconds(3, 15, () => 0)).toBe(240 * 0.75);
    expect(backoffSeconds(3, 15, () => 1)).toBe(240 * 1.25);
    const total = [1, 2, 3, 4, 5, 6, 7].reduce((s, n) => s + backoffSeconds(n, 15, () => 0.5), 0);
    expect(total / 3600).toBeGreaterThan(20);
    expect(total / 3600).toBeLessThan(28);
  });

  test('Retry-After in seconds or as an HTTP date; it wins only when longer', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:02:00 GMT', now)).toBe(120);
    expect(parseRetryAfter('Tue, 01 Jan 2029 00:02:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('99999999', now)).toBe(86400);
    expect(nextDelaySeconds(1, 1, 30)).toBe(30);
    expect(nextDelaySeconds(5, 100, 1)).toBeGreaterThan(1);
  });
});

describe('verdicts', () => {
  const now = new Date();
  const res = (status: number, extra: Partial<{ retryAfter: string; location: string; body: string }> = {}) =>
    judge({ kind: 'response', status, retryAfter: extra.retryAfter ?? null, location: extra.location ?? null, body: extra.body ?? '' }, now);
  test('2xx delivered; 408, 429, 5xx retried; other 4xx and redirects dead at once', () => {
    expect(res(200).kind).toBe('delivered');
    expect(res(204).kind).toBe('delivered');
    for (const s of [408, 429, 500, 502, 503, 504]) expect(res(s).kind).toBe('retry');
    for (const s of [400, 401, 403, 404, 410, 413, 422]) expect(res(s).kind).toBe('dead');
    expect(res(301, { location: 'http://169.254.169.254/' })).toMatchObject({ kind: 'dead' });
    expect(res(429, { retryAfter: '7' })).toMatchObject({ kind: 'retry', retryAfterSeconds: 7 });
    expect(judge({ kind: 'network', error: 'ECONNREFUSED' }, now).kind).toBe('retry');
    expect(judge({ kind: 'timeout', error: 'slow' }, now).kind).toBe('retry');
    expect(judge({ kind: 'refused', error: 'private' }, now).kind).toBe('dead');
  });
  test("the receiver's body is kept short in the error", () => {
    const v = res(500, { body: 'x'.repeat(10_000) });
    expect(v.kind === 'retry' && v.error.length).toBeLessThan(300);
  });
});

test('changed fields ignore etag and updated', () => {
  expect(changedFields({ summary: 'a', start: '1', etag: '1', updated: 'x' }, { summary: 'b', start: '1', etag: '2', updated: 'y' })).toEqual(['summary']);
  expect(changedFields({ attendees: [{ email: 'a', responseStatus: 'needsAction' }] }, { attendees: [{ email: 'a', responseStatus: 'declined' }] })).toEqual([
    'attendees',
  ]);
});

test('ids increase strictly, also within one millisecond and past 4096 of them', () => {
  const ids = Array.from({ length: 10_000 }, () => monotonicUuid(1_900_000_000_000));
  const sorted = [...ids].sort();
  expect(sorted).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('subscription filters: owner, calendar, types', () => {
  const m = { type: 'event.created' as const, ownerId: 'o1', externalOwnerId: 'x', calendarId: 'c1', data: {}, occurredAt: new Date() };
  expect(matches({ ownerId: null, calendarId: null, types: null }, m)).toBe(true);
  expect(matches({ ownerId: 'o2', calendarId: null, types: null }, m)).toBe(false);
  expect(matches({ ownerId: 'o1', calendarId: 'c2', types: null }, m)).toBe(false);
  expect(matches({ ownerId: 'o1', calendarId: 'c1', types: ['event.updated'] }, m)).toBe(false);
  expect(matches({ ownerId: 'o1', calendarId: 'c1', types: ['event.updated', 'event.created'] }, m)).toBe(true);
});
