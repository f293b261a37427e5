// The pure parts of fan-out: which addresses are refused (only global unicast is allowed), the
// retry schedule, Retry-After, the verdict on each kind of answer, the changed fields of an update,
// and ids that keep their order.
import { describe, expect, test } from 'bun:test';
import { IPV4_NOT_GLOBAL, IPV6_NOT_GLOBAL, isGlobalUnicast, isPrivateAddress, notGlobalReason, parseSubscriberUrl, resolveTarget } from '../../src/fanout/address-policy.ts';
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
    // IPv4-compatible (deprecated, ::/96): ::127.0.0.1, the metadata address, any other
    '::7f00:1',
    '::127.0.0.1',
    '::a9fe:a9fe',
    '::808:808',
    // IPv4-mapped ::ffff:0:0/96, whatever it embeds, and IPv4-translated ::ffff:0:0:0/96
    '::ffff:8.8.8.8',
    '0:0:0:0:0:ffff:7f00:1',
    '::ffff:0:7f00:1',
    '::ffff:0:a9fe:a9fe',
    // local-use NAT64 (RFC 8215): the embedding is the network's own, anything may be behind it
    '64:ff9b:1::7f00:1',
    '64:ff9b:1::a9fe:a9fe',
    '64:ff9b:1:ffff::8.8.8.8',
    // the well-known NAT64 prefix, judged by the IPv4 inside
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    // IPv4 special-purpose blocks
    '192.88.99.1', // deprecated 6to4 relay anycast
    '192.0.0.170', // NAT64 discovery
    '192.0.0.9', // PCP anycast: globally reachable in the registry, still no receiver
    '198.19.255.255', // benchmarking
    '198.51.100.7',
    '203.0.113.200',
    '100.127.255.255',
    '240.0.0.1',
    '239.255.255.250',
    // IPv6 outside 2000::/3, or special inside it
    '100::1', // discard-only
    '5f00::1', // SRv6 SIDs
    '4000::1', // unassigned
    'fec0::1', // site-local
    'fe80::1%eth0', // scoped
    '2001::1', // Teredo
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:2::1', // benchmarking
    '2001:db8::1',
    '3fff::1', // documentation (RFC 9637)
    '1.2.3',
    '1::2::3',
  ])('%s is refused', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
    expect(isGlobalUnicast(ip)).toBe(false);
    expect(notGlobalReason(ip)).toBeString();
  });

  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '192.0.1.1',
    '192.88.98.255',
    '192.88.100.0',
    '223.255.255.254',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2001:4860:4860:0:0:0:0:8888',
    '2a00:1450:4001:80b::200e',
    '2001:200::1', // just past 2001::/23
    '3ffe:ffff::1', // just below 3fff::/20
    '64:ff9b::8.8.8.8', // DNS64's synthesis of a public IPv4 address
    '64:ff9b::808:808',
  ])('%s is global unicast', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
    expect(isGlobalUnicast(ip)).toBe(true);
  });

  test('every listed block is refused at its first and last address, and its neighbours outside are not', () => {
    const v4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
    const v4n = (ip: string) => ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
    for (const [net, prefix] of IPV4_NOT_GLOBAL) {
      const first = v4n(net);
      const last = first + 2 ** (32 - prefix) - 1;
      expect([v4(first), isGlobalUnicast(v4(first))]).toEqual([v4(first), false]);
      expect([v4(last), isGlobalUnicast(v4(last))]).toEqual([v4(last), false]);
    }
    expect(IPV6_NOT_GLOBAL.map(([net, prefix]) => [`${net}/${prefix}`, isGlobalUnicast(net.replace(/::$/, '::1'))])).toEqual(IPV6_NOT_GLOBAL.map(([net, prefix]) => [`${net}/${prefix}`, false]));
  });

  test('the refusal names the block', () => {
    expect(notGlobalReason('::7f00:1')).toMatch(/IPv4-compatible/);
    expect(notGlobalReason('64:ff9b:1::7f00:1')).toMatch(/64:ff9b:1::\/48/);
    expect(notGlobalReason('192.88.99.1')).toMatch(/6to4 relay/);
    expect(notGlobalReason('64:ff9b::a9fe:a9fe')).toMatch(/169\.254\.169\.254.*link-local/);
    expect(notGlobalReason('8.8.8.8')).toBeUndefined();
  });

  test('only http(s) without credentials', () => {
    expect(parseSubscriberUrl('https://example.com/h').hostname).toBe('example.com');
    for (const bad of ['ftp://example.com', 'javascript:alert(1)', 'http://a:b@example.com', 'nope', 'file:///etc/passwd']) {
      expect(() => parseSubscriberUrl(bad)).toThrow();
    }
  });

  test('literal and resolved private addresses are refused unless allowed', async () => {
    for (const url of [
      'http://127.0.0.1:1/h',
      'http://[::1]:1/h',
      'http://localhost:1/h',
      'http://169.254.169.254/latest/meta-data',
      // The URL parser's canonical forms of the IPv6 spellings above: still refused.
      'http://[::127.0.0.1]:1/h',
      'http://[0:0:0:0:0:0:a9fe:a9fe]/latest/meta-data',
      'http://[::ffff:0:127.0.0.1]/h',
      'http://[64:ff9b:1::169.254.169.254]/latest/meta-data',
      'http://192.88.99.1/h',
    ]) {
      await expect(resolveTarget(url, { allowPrivate: false })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect(resolveTarget('http://localhost:1/h', { allowPrivate: true })).resolves.toMatchObject({ address: expect.any(String) });
    // FANOUT_ALLOW_PRIVATE keeps its meaning: every address goes, the special-purpose ones too.
    await expect(resolveTarget('http://[::7f00:1]:1/h', { allowPrivate: true })).resolves.toMatchObject({ address: '::7f00:1', family: 6 });
    await expect(resolveTarget('http://8.8.8.8/h', { allowPrivate: false })).resolves.toMatchObject({ address: '8.8.8.8', family: 4 });
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
