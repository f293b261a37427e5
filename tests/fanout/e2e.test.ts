// End to end through the emulator: a person changes their Google Calendar, Google pushes, the
// webhook wakes the sync, the sync's change set reaches fan-out in its transaction, and the
// subscriber receives signed deliveries it verifies with the standardwebhooks library. Also
// calendar.added from the calendar list sync, owner.revoked from links, and a domain event.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { findCalendar } from '../../src/sync/index.ts';
import { publishDomainEvent } from '../../src/fanout/index.ts';
import { waitFor } from '../support/service.ts';
import { startFanoutHarness, type FanoutHarness } from './harness.ts';

const EMAIL = 'gina@example.com';
let h: FanoutHarness;
let ownerId: string;

beforeAll(async () => {
  h = await startFanoutHarness('fanout-e2e');
  // Every owner, every type: subscribed before the owner is even linked.
  await h.subscribe('/all', { types: undefined });
  await h.emuJson('users', { email: EMAIL, timeZone: 'Europe/Berlin' });
  ({ ownerId } = await h.linkOwner('e2e-gina', EMAIL));
  // The first full sync done and the watch channel open: from here on, pushes drive the syncs.
  await waitFor(async () => (await findCalendar(h.t.service.ctx, ownerId, 'primary'))?.lastFullSyncAt, { what: 'the first full sync' });
  await waitFor(async () => (await h.emuJson('channels')).items.some((c: any) => c.user === EMAIL && c.resource.includes('events')), {
    what: 'the events watch channel',
  });
}, 30_000);
afterAll(() => h?.stop(), 30_000);

const ofType = (type: string) => h.rx.ok('/all').filter((r) => r.body.type === type);
const eventPath = (id: string) => `calendars/${encodeURIComponent(EMAIL)}/events/${id}`;

describe('through Google push and the sync', () => {
  test('calendar.added: the primary calendar announced by the first calendar list sync', async () => {
    const [added] = await waitFor(() => (ofType('calendar.added').length ? ofType('calendar.added') : undefined), { what: 'calendar.added' });
    expect(added!.verified).toBe(true);
    expect(added!.body).toMatchObject({
      type: 'calendar.added',
      ownerId,
      externalOwnerId: 'e2e-gina',
      calendarId: EMAIL,
      data: { calendarId: EMAIL, timeZone: 'Europe/Berlin' },
    });
  });

  test('an event created, moved and deleted in Google arrives as event.created, event.updated, event.cancelled', async () => {
    const pushesBefore = (await h.emuJson('notifications')).items.length;
    await h.emuJson(eventPath('planning0001'), { summary: 'Planning', start: { dateTime: '2031-03-03T10:00:00+01:00' }, end: { dateTime: '2031-03-03T11:00:00+01:00' } }, 'PUT');
    const [created] = await waitFor(() => (ofType('event.created').length ? ofType('event.created') : undefined), { what: 'event.created' });
    expect(created!.verified).toBe(true);
    expect(created!.body).toMatchObject({
      type: 'event.created',
      ownerId,
      externalOwnerId: 'e2e-gina',
      calendarId: EMAIL,
      data: { googleEventId: 'planning0001', summary: 'Planning', status: 'confirmed', start: '2031-03-03T09:00:00.000Z', end: '2031-03-03T10:00:00.000Z' },
    });
    // It was Google's push that woke the sync.
    expect((await h.emuJson('notifications')).items.length).toBeGreaterThan(pushesBefore);

    await h.emuJson(eventPath('planning0001'), { summary: 'Planning (moved)', start: { dateTime: '2031-03-03T14:00:00+01:00' }, end: { dateTime: '2031-03-03T15:00:00+01:00' } }, 'PUT');
    const [updated] = await waitFor(() => (ofType('event.updated').length ? ofType('event.updated') : undefined), { what: 'event.updated' });
    expect(updated!.verified).toBe(true);
    expect(updated!.body.changed).toEqual(expect.arrayContaining(['summary', 'start', 'end']));
    expect(updated!.body.data).toMatchObject({ summary: 'Planning (moved)', start: '2031-03-03T13:00:00.000Z' });

    await h.emuJson(eventPath('planning0001'), undefined, 'DELETE');
    const [cancelled] = await waitFor(() => (ofType('event.cancelled').length ? ofType('event.cancelled') : undefined), { what: 'event.cancelled' });
    expect(cancelled!.verified).toBe(true);
    expect(cancelled!.body.data).toMatchObject({ googleEventId: 'planning0001', status: 'cancelled' });

    // In the order they were synced.
    const seq = h.rx.ok('/all').filter((r) => r.body.data?.googleEventId === 'planning0001').map((r) => r.body.type);
    expect(seq).toEqual(['event.created', 'event.updated', 'event.cancelled']);
  }, 20_000);

  test('a domain event published in a transaction reaches the subscriber', async () => {
    const ctx = h.t.service.ctx;
    const n = await ctx.db.transaction((tx) =>
      publishDomainEvent(tx, ctx, { type: 'booking.changed', ownerId, externalOwnerId: 'e2e-gina', calendarId: EMAIL, data: { bookingId: 'b-1', status: 'confirmed' } }),
    );
    expect(n).toBe(1);
    const [got] = await waitFor(() => (ofType('booking.changed').length ? ofType('booking.changed') : undefined), { what: 'booking.changed' });
    expect(got!.verified).toBe(true);
    expect(got!.body).toMatchObject({ type: 'booking.changed', ownerId, externalOwnerId: 'e2e-gina', calendarId: EMAIL, data: { bookingId: 'b-1', status: 'confirmed' } });
  });

  test('owner.revoked: the user revokes access in Google, the next sync finds out', async () => {
    await h.emuJson(`users/${encodeURIComponent(EMAIL)}/revoke`, {});
    // A change makes Google push; the sync's token refresh gets invalid_grant.
    await h.emuJson(eventPath('afterrevoke1'), { summary: 'After', start: { dateTime: '2031-03-04T10:00:00Z' }, end: { dateTime: '2031-03-04T11:00:00Z' } }, 'PUT');
    const [revoked] = await waitFor(() => (ofType('owner.revoked').length ? ofType('owner.revoked') : undefined), { what: 'owner.revoked', timeoutMs: 20_000 });
    expect(revoked!.verified).toBe(true);
    expect(revoked!.body).toMatchObject({ type: 'owner.revoked', ownerId, externalOwnerId: 'e2e-gina', calendarId: null, data: { status: 'revoked' } });
  }, 25_000);
});
