// GOOGLE_INVITES off: the application sends its own emails, so the writes to Google carry
// sendUpdates=none (insert, confirm's patch and deny's delete here; the delete after a bookee
// declines goes through the same function).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startBookingsHarness, slot, type BookingsHarness, type Booking } from './harness.ts';

let h: BookingsHarness;
const OWNER = 'owner-quiet';
const EMAIL = 'owner-quiet@example.com';
const bookee = { email: 'quiet-guest@example.org' };

beforeAll(async () => {
  h = await startBookingsHarness('bookings-invites-off', { GOOGLE_INVITES: 'off' });
  await h.linkOwner(OWNER, EMAIL);
}, 60_000);
afterAll(() => h?.stop(), 30_000);

describe('GOOGLE_INVITES=off', () => {
  test('insert, confirm and deny all say sendUpdates=none', async () => {
    const a = (await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Quiet A', bookee })).booking!;
    const b = (await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Quiet B', bookee })).booking!;
    expect((await h.t.trpc<Booking>('bookings.confirm', { id: a.id })).body.result!.data.status).toBe('confirmed');
    expect((await h.t.trpc<Booking>('bookings.deny', { id: b.id })).body.result!.data.status).toBe('denied');
    const writes = (await h.requests()).filter(
      (r) => r.method !== 'GET' && (r.path.endsWith('/events') || r.path.includes('/events/bk')) && r.user === EMAIL,
    );
    expect(writes.map((w) => `${w.method} ${w.query.sendUpdates}`)).toEqual(['POST none', 'POST none', 'PUT none', 'DELETE none']);
  });
});
