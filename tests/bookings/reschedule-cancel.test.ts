// bookings.reschedule and bookings.cancel, what a booking page's user needs besides confirm/deny.
// Reschedule patches the event's start and end with sendUpdates=all (Google resets the bookee's answer
// when the start moves, and the booking says needsAction with it), keeps the status, holds the exclusion
// constraint (one live booking per slot) and the owner's busy time (the booking's own time excepted),
// publishes booking.changed (cause rescheduled), and is not undone by the sync that follows. Cancel
// deletes the event with sendUpdates=all and frees the slot. CONFLICTs name the state.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { reconcileJob } from '../../src/bookings/index.ts';
import { startBookingsHarness, slot, type BookingsHarness, type Booking, type GoogleEvent, subscribeSink, type Sink } from './harness.ts';
import { waitFor } from '../support/service.ts';

// Answers and moves in Google reach the booking through a push and a sync.
setDefaultTimeout(30_000);

const WEBHOOK_TOKEN = 'bookings-reschedule-token-0123456789';
let h: BookingsHarness;
let receiver: Sink;
const OWNER = 'owner-resched';
const EMAIL = 'owner-resched@example.com';
const BOOKEE = 'resched-guest@example.org';
const HOUR = 3_600_000;

beforeAll(async () => {
  h = await startBookingsHarness('bookings-reschedule-cancel', { GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN });
  await h.linkOwner(OWNER, EMAIL, { waitForChannel: true });
  receiver = await subscribeSink(h, OWNER);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  receiver?.stop();
}, 30_000);

const iso = (ms: number) => new Date(ms).toISOString();
const reschedule = (id: string, start: string, end: string) => h.t.trpc<Booking>('bookings.reschedule', { id, start, end });
const cancel = (input: { id: string; reason?: string }) => h.t.trpc<Booking>('bookings.cancel', input);
const eventWrites = async (b: Booking, since: number) =>
  (await h.requests({ sinceId: since })).filter((r) => r.path.endsWith(`/events/${b.googleEventId}`) && r.method !== 'GET');
const eventOf = async (b: Booking): Promise<GoogleEvent> => (await h.allEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;
const bookeeAnswer = (ev: GoogleEvent) => ev.attendees?.find((a) => a.email === BOOKEE)?.responseStatus;

/** The booking.changed messages published for a booking. */
async function changes(bookingId: string): Promise<Array<{ cause: string; booking: Booking; previous?: { start: string; end: string } }>> {
  const rows = await h.sql`select body from deliveries where type = 'booking.changed' order by occurred_at, created_at`;
  return rows
    .map((r) => JSON.parse(r.body as string) as { data: { cause: string; booking: Booking; previous?: { start: string; end: string } } })
    .filter((m) => m.data.booking.id === bookingId)
    .map((m) => m.data);
}

/** A booking whose event the mirror holds, optionally confirmed and accepted by the bookee. */
async function booking(title: string, opts: { confirmed?: boolean; accepted?: boolean; at?: { start: string; end: string } } = {}): Promise<Booking> {
  const r = await h.request({ externalOwnerId: OWNER, ...(opts.at ?? slot()), title, bookee: { email: BOOKEE } });
  if (r.status !== 200) throw new Error(`request: ${JSON.stringify(r)}`);
  let b = r.booking!;
  await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId}`).length === 1, {
    what: 'the booking event in the mirror',
  });
  if (opts.confirmed) b = (await h.t.trpc<Booking>('bookings.confirm', { id: b.id })).body.result!.data;
  if (opts.accepted) {
    await h.emuJson(`calendars/${EMAIL}/events/${b.googleEventId}/respond`, { email: BOOKEE, responseStatus: 'accepted' });
    b = await h.waitForBooking(b.id, (x) => x.bookeeResponse === 'accepted', 'the bookee accepted');
  }
  return b;
}

describe('bookings.reschedule', () => {
  test('patches start and end with sendUpdates=all; status kept, the bookee asked again; old slot free, new one held', async () => {
    const b = await booking('Move me', { confirmed: true, accepted: true });
    // another day, far from every other slot() of this file, and an hour long
    const target = slot({ dayOffset: 300, minutes: 60 });
    const { start, end } = target;
    const since = await h.lastRequestId();
    const r = await reschedule(b.id, start, end);
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ id: b.id, status: 'confirmed', start, end, bookeeResponse: 'needsAction', googlePending: false });
    const writes = await eventWrites(b, since);
    expect(writes.map((w) => `${w.method} ${w.status}`)).toEqual(['PUT 200']);
    expect(writes[0]!.query.sendUpdates).toBe('all');
    const ev = await eventOf(b);
    expect(Date.parse(ev.start.dateTime!)).toBe(Date.parse(start));
    expect(Date.parse(ev.end.dateTime!)).toBe(Date.parse(end));
    expect(ev.status).toBe('confirmed');
    // Google itself reset the bookee's answer when the start moved
    expect(bookeeAnswer(ev)).toBe('needsAction');
    const published = await changes(b.id);
    expect(published.map((c) => c.cause)).toEqual(['requested', 'confirmed', 'google.responded', 'rescheduled']);
    expect(published.at(-1)!.previous).toMatchObject({ start: b.start, end: b.end });
    // the sync that follows our own patch changes nothing back
    await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId} and start_at = ${start}`).length === 1, {
      what: 'the moved event in the mirror',
    });
    await h.syncsSettled();
    expect(await h.get(b.id)).toMatchObject({ start, end, status: 'confirmed', bookeeResponse: 'needsAction' });
    expect((await changes(b.id)).map((c) => c.cause)).toEqual(['requested', 'confirmed', 'google.responded', 'rescheduled']);
    // the old slot is free again, the new one is not
    expect((await h.request({ externalOwnerId: OWNER, start: b.start, end: b.end, title: 'Old slot', bookee: { email: 'x@example.org' } })).status).toBe(200);
    expect((await h.request({ externalOwnerId: OWNER, start, end, title: 'New slot', bookee: { email: 'x@example.org' } })).status).toBe(409);
  });

  test('a longer booking (same start) keeps the bookee\'s answer, as Google does', async () => {
    const b = await booking('Longer', { accepted: true });
    const end = iso(Date.parse(b.end) + 30 * 60_000);
    const r = await reschedule(b.id, b.start, end);
    expect(r.body.result!.data).toMatchObject({ start: b.start, end, status: 'requested', bookeeResponse: 'accepted' });
    expect(bookeeAnswer(await eventOf(b))).toBe('accepted');
  });

  test('onto its own current time, shifted a quarter hour: allowed (its own event is not "busy")', async () => {
    // confirmed, so that its own event makes the owner busy (a tentative one may not, by preference)
    const b = await booking('Shift', { confirmed: true });
    await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId} and status = 'confirmed'`).length === 1, {
      what: 'the confirmed event in the mirror',
    });
    await h.syncsSettled();
    const busy = await h.t.trpc<{ intervals: Array<{ start: string; end: string }> }>('availability.busy', { externalOwnerId: OWNER, from: b.start, to: b.end });
    expect(busy.body.result!.data.intervals).toHaveLength(1);
    const start = iso(Date.parse(b.start) + 15 * 60_000);
    const end = iso(Date.parse(b.end) + 15 * 60_000);
    const r = await reschedule(b.id, start, end);
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ start, end });
  });

  test('onto another live booking: CONFLICT, times kept, nothing at Google', async () => {
    const a = await booking('Holder');
    const b = await booking('Mover');
    const since = await h.lastRequestId();
    const r = await reschedule(b.id, a.start, a.end);
    expect(r.status).toBe(409);
    expect(r.body.error!.data.code).toBe('CONFLICT');
    expect(r.body.error!.message).toMatch(/not free|overlaps another requested or confirmed booking/);
    expect(await eventWrites(b, since)).toEqual([]);
    expect(await h.get(b.id)).toMatchObject({ start: b.start, end: b.end });
  });

  test('onto time the owner is busy with another event in Google: CONFLICT naming the busy time', async () => {
    const b = await booking('Not there');
    const busy = slot();
    await h.emuJson(`calendars/${EMAIL}/events/busyelsewhere${Date.now().toString(32)}`, { summary: 'Dentist', start: { dateTime: busy.start }, end: { dateTime: busy.end } }, 'PUT');
    await waitFor(async () => (await h.sql`select 1 from calendar_events where summary = 'Dentist'`).length > 0, { what: 'the busy event in the mirror' });
    await h.syncsSettled();
    const r = await reschedule(b.id, busy.start, busy.end);
    expect(r.status).toBe(409);
    expect(r.body.error!.message).toContain('the owner is busy');
  });

  test('the owner moving the event in Google after a reschedule is still followed', async () => {
    const b = await booking('Rescheduled, then moved');
    const s = slot();
    expect((await reschedule(b.id, s.start, s.end)).status).toBe(200);
    await h.syncsSettled();
    const ev = await eventOf(b);
    const start = iso(Date.parse(s.start) + HOUR);
    const end = iso(Date.parse(s.end) + HOUR);
    await h.emuJson(`calendars/${EMAIL}/events/${ev.id}`, { ...ev, start: { dateTime: start }, end: { dateTime: end } }, 'PUT');
    const after = await h.waitForBooking(b.id, (x) => x.start === start, 'the move in Google followed');
    expect(after.end).toBe(end);
  });

  test('Google failing the patch: the new times stand (googlePending), a sync showing the old ones does not undo them, the job catches up', async () => {
    const b = await booking('Patch fails');
    const s = slot();
    await h.emuJson('faults', { status: 500, count: 50, paths: `/events/${b.googleEventId}`, method: 'PUT' });
    let r;
    try {
      r = await reschedule(b.id, s.start, s.end);
      expect(r.status).toBe(200);
      expect(r.body.result!.data).toMatchObject({ start: s.start, end: s.end, googlePending: true });
      // a change at Google while our patch is owed: the event (still at the old time) comes back through the sync
      await h.emuJson(`calendars/${EMAIL}/events/${b.googleEventId}/respond`, { email: BOOKEE, responseStatus: 'accepted' });
      const seen = await h.waitForBooking(b.id, (x) => x.bookeeResponse === 'accepted', 'the answer through the sync');
      expect(seen).toMatchObject({ start: s.start, end: s.end });
    } finally {
      await h.emuJson('faults', { count: 0 });
    }
    await reconcileJob.send(h.t.service.ctx, { bookingId: b.id });
    reconcileJob.wake(h.t.service.ctx);
    await h.waitForBooking(b.id, (x) => !x.googlePending, 'patch retried');
    const ev = await eventOf(b);
    expect(Date.parse(ev.start.dateTime!)).toBe(Date.parse(s.start));
    expect(Date.parse(ev.end.dateTime!)).toBe(Date.parse(s.end));
  });

  test('a confirm carries no times: the owner\'s move in Google (refused onto another booking) is not undone', async () => {
    const a = await booking('Holds A');
    const b = await booking('Moved onto A by the owner');
    const ev = await eventOf(b);
    await h.emuJson(`calendars/${EMAIL}/events/${ev.id}`, { ...ev, start: { dateTime: a.start }, end: { dateTime: a.end } }, 'PUT');
    await h.waitForBooking(b.id, (x) => (x.lastError ?? '').includes('overlaps another booking'), 'move refused');
    const since = await h.lastRequestId();
    expect((await h.t.trpc<Booking>('bookings.confirm', { id: b.id })).status).toBe(200);
    const patch = (await h.requests({ sinceId: since, method: 'PUT' })).filter((r) => r.path.endsWith(`/events/${b.googleEventId}`));
    expect(patch).toHaveLength(1);
    const after = await eventOf(b);
    expect(after.status).toBe('confirmed');
    expect(Date.parse(after.start.dateTime!)).toBe(Date.parse(a.start));
  });

  test('errors: not live -> CONFLICT naming the state; end before start, past -> BAD_REQUEST; unknown -> NOT_FOUND', async () => {
    const b = await booking('Denied');
    await h.t.trpc('bookings.deny', { id: b.id });
    const s = slot();
    const denied = await reschedule(b.id, s.start, s.end);
    expect(denied.status).toBe(409);
    expect(denied.body.error!.message).toBe(`booking ${b.id} is denied: only a requested or confirmed booking can be rescheduled`);
    expect((await reschedule(b.id, s.end, s.start)).status).toBe(400);
    expect((await reschedule(b.id, '2001-01-01T10:00:00Z', '2001-01-01T11:00:00Z')).status).toBe(400);
    expect((await reschedule(b.id, '2031-01-01T10:00:00', '2031-01-01T11:00:00')).status).toBe(400);
    const unknown = await reschedule('00000000-0000-4000-8000-000000000000', s.start, s.end);
    expect(unknown.status).toBe(404);
  });
});

describe('bookings.cancel', () => {
  test('a confirmed booking: cancelled with the reason, the event deleted with sendUpdates=all, the slot free', async () => {
    const b = await booking('Call off', { confirmed: true });
    const since = await h.lastRequestId();
    const r = await cancel({ id: b.id, reason: 'owner is ill' });
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ status: 'cancelled', statusReason: 'cancelled by the owner: owner is ill', googlePending: false });
    const writes = await eventWrites(b, since);
    expect(writes.map((w) => `${w.method} ${w.status}`)).toEqual(['DELETE 204']);
    expect(writes[0]!.query.sendUpdates).toBe('all');
    expect((await eventOf(b)).status).toBe('cancelled');
    expect((await changes(b.id)).map((c) => c.cause)).toEqual(['requested', 'confirmed', 'cancelled']);
    // the deletion coming back through the sync changes nothing more, and the time is free again
    await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId} and status <> 'cancelled'`).length === 0, {
      what: 'the deletion in the mirror',
    });
    await h.syncsSettled();
    expect((await h.request({ externalOwnerId: OWNER, start: b.start, end: b.end, title: 'Freed', bookee: { email: 'x@example.org' } })).status).toBe(200);
    expect((await changes(b.id)).map((c) => c.cause)).toEqual(['requested', 'confirmed', 'cancelled']);
  });

  test('cancelling again returns it and calls Google no more; a denied booking cannot be cancelled', async () => {
    const b = await booking('Cancel twice');
    await cancel({ id: b.id });
    const since = await h.lastRequestId();
    const again = await cancel({ id: b.id });
    expect(again.status).toBe(200);
    expect(again.body.result!.data).toMatchObject({ status: 'cancelled', statusReason: 'cancelled by the owner' });
    expect(await eventWrites(b, since)).toEqual([]);
    const d = await booking('Denied, then cancel');
    await h.t.trpc('bookings.deny', { id: d.id });
    const refused = await cancel({ id: d.id });
    expect(refused.status).toBe(409);
    expect(refused.body.error!.message).toBe(`booking ${d.id} is denied: only a requested or confirmed booking can be cancelled`);
    expect((await cancel({ id: 'not-a-uuid' })).status).toBe(400);
  });
});
