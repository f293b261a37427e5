// Meet links on bookings: bookings.request {conference: 'meet'} asks Google for a conference with the
// event (conferenceDataVersion=1, createRequest with the booking id as requestId, hangoutsMeet). When
// Google creates it at once the booking has the link in the answer; when creation stays pending the
// booking says pending, and the link arrives through push + incremental sync (booking.changed, cause
// google.conference); a failed creation says failure. A calendar that does not allow Meet refuses.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { startBookingsHarness, slot, type BookingsHarness, type Booking, subscribeSink, type Sink } from './harness.ts';
import { waitFor } from '../support/service.ts';

// Pending conferences settle through a push and a sync.
setDefaultTimeout(30_000);

const WEBHOOK_TOKEN = 'bookings-conference-token-0123456789';
let h: BookingsHarness;
let receiver: Sink;
const OWNER = 'owner-meet';
const EMAIL = 'owner-meet@example.com';
const bookee = { email: 'meet-guest@example.org', name: 'Mia' };
const MEET_URI = /^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/;

beforeAll(async () => {
  h = await startBookingsHarness('bookings-conference', { GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN });
  await h.linkOwner(OWNER, EMAIL, { waitForChannel: true });
  receiver = await subscribeSink(h, OWNER);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  receiver?.stop();
}, 30_000);

async function booked(title: string, extra: Record<string, unknown> = { conference: 'meet' }): Promise<Booking> {
  const r = await h.request({ externalOwnerId: OWNER, ...slot(), title, bookee, ...extra });
  if (r.status !== 200) throw new Error(`request: ${JSON.stringify(r)}`);
  return r.booking!;
}
const insertOf = async (since: number) =>
  (await h.requests({ sinceId: since, method: 'POST' })).find((r) => r.path.endsWith('/events') && r.status === 200)!;
const eventOf = async (b: Booking) => (await h.allEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;

/** The booking.changed messages published for a booking: cause and the booking's conference. */
async function changes(bookingId: string): Promise<Array<{ cause: string; conference: unknown }>> {
  const rows = await h.sql`select body from deliveries where type = 'booking.changed' order by occurred_at, created_at`;
  return rows
    .map((r) => JSON.parse(r.body as string) as { data: { cause: string; booking: Booking } })
    .filter((m) => m.data.booking.id === bookingId)
    .map((m) => ({ cause: m.data.cause, conference: m.data.booking.conference }));
}

describe("bookings.request with conference: 'meet'", () => {
  test('asks Google for a Meet conference (conferenceDataVersion=1, requestId = booking id); created at once, the answer has the link', async () => {
    const since = await h.lastRequestId();
    const b = await booked('Meet now');
    expect(b.conference).toEqual({ type: 'meet', status: 'success', link: expect.stringMatching(MEET_URI) });
    const insert = await insertOf(since);
    expect(insert.query.conferenceDataVersion).toBe('1');
    expect(insert.query.sendUpdates).toBe('all');
    const ev = await eventOf(b);
    expect((ev.conferenceData as { createRequest: unknown }).createRequest).toEqual({
      requestId: b.id,
      conferenceSolutionKey: { type: 'hangoutsMeet' },
      status: { statusCode: 'success' },
    });
    expect(ev.hangoutLink).toBe(b.conference!.link);
    expect((await h.get(b.id)).conference).toEqual(b.conference);
  });

  test('without conference: no conferenceDataVersion, no conference on the event, conference null', async () => {
    const since = await h.lastRequestId();
    const b = await booked('No meet', {});
    expect(b.conference).toBeNull();
    expect((await insertOf(since)).query.conferenceDataVersion).toBeUndefined();
    expect((await eventOf(b)).conferenceData).toBeUndefined();
  });

  test('an unknown conference kind is BAD_REQUEST; nothing reaches Google', async () => {
    const since = await h.lastRequestId();
    const r = await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Zoom?', bookee, conference: 'zoom' });
    expect(r.status).toBe(400);
    expect(r.error!.code).toBe('BAD_REQUEST');
    expect((await h.requests({ sinceId: since, method: 'POST' })).filter((r) => r.path.endsWith('/events'))).toHaveLength(0);
  });
});

describe('creation pending at Google', () => {
  test('the booking says pending; once Google has created it, push + sync bring the link (booking.changed google.conference)', async () => {
    await h.emuJson('conferences', { mode: 'pending', outcome: 'success', settleAfterMs: null });
    try {
      const b = await booked('Meet later');
      expect(b.conference).toEqual({ type: 'meet', status: 'pending', link: null });
      // the pending event reaches the mirror first (so the settling is an update the sync reports)
      await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId}`).length === 1, {
        what: 'the booking event in the mirror',
      });
      expect((await h.get(b.id)).conference).toEqual({ type: 'meet', status: 'pending', link: null });
      const { settled } = (await h.emuJson('conferences/settle', { eventId: b.googleEventId })) as { settled: unknown[] };
      expect(settled).toHaveLength(1);
      const after = await h.waitForBooking(b.id, (x) => x.conference?.status === 'success', 'the Meet link through the sync', 25_000);
      const link = (await eventOf(b)).hangoutLink as string;
      expect(link).toMatch(MEET_URI);
      expect(after.conference).toEqual({ type: 'meet', status: 'success', link });
      expect(after.status).toBe('requested');
      expect((await changes(b.id)).map((c) => c.cause)).toEqual(['requested', 'google.conference']);
      expect((await changes(b.id))[1]!.conference).toEqual({ type: 'meet', status: 'success', link });
      // The admin API says the same, without the join link.
      const admin = await h.t.graphql<{ bookings: { edges: Array<{ node: { id: string; conference: unknown } }> } }>(
        `query($o: String) { bookings(first: 50, externalOwnerId: $o) { edges { node { id conference { type status hasLink } } } } }`,
        { o: OWNER },
      );
      expect(admin.body.errors).toBeUndefined();
      expect(admin.body.data!.bookings.edges.find((e) => e.node.id === b.id)!.node.conference).toEqual({ type: 'meet', status: 'success', hasLink: true });
      expect(JSON.stringify(admin.body)).not.toContain(link);
    } finally {
      await h.emuJson('conferences', { mode: 'immediate', outcome: 'success', settleAfterMs: null });
    }
  });

  test('creation fails: the booking says failure, without a link, and keeps its status', async () => {
    await h.emuJson('conferences', { mode: 'pending', outcome: 'failure', settleAfterMs: null });
    try {
      const b = await booked('Meet never');
      await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId}`).length === 1, {
        what: 'the booking event in the mirror',
      });
      await h.emuJson('conferences/settle', { eventId: b.googleEventId });
      const after = await h.waitForBooking(b.id, (x) => x.conference?.status === 'failure', 'the failure through the sync', 25_000);
      expect(after.conference).toEqual({ type: 'meet', status: 'failure', link: null });
      expect(after.status).toBe('requested');
    } finally {
      await h.emuJson('conferences', { mode: 'immediate', outcome: 'success', settleAfterMs: null });
    }
  });
});

describe('a calendar that does not allow Meet', () => {
  test('Google refuses the insert (400 Invalid conference type value.): the booking fails and its slot is free', async () => {
    await h.emuJson('conferences', { allowedTypes: { [EMAIL]: [] } });
    try {
      const s = slot();
      const r = await h.request({ externalOwnerId: OWNER, ...s, title: 'No Meet here', bookee, conference: 'meet' });
      expect(r.status).toBe(400);
      // (calwatch's classified Google error names the status and reason, not Google's message)
      expect(r.error!.message).toContain('400 invalid');
      const [row] = await h.sql`select status from bookings where title = 'No Meet here'`;
      expect(row!.status).toBe('failed');
      await h.emuJson('conferences', { allowedTypes: { [EMAIL]: ['hangoutsMeet'] } });
      const again = await h.request({ externalOwnerId: OWNER, ...s, title: 'Same slot', bookee, conference: 'meet' });
      expect(again.status).toBe(200);
    } finally {
      await h.emuJson('conferences', { allowedTypes: { [EMAIL]: ['hangoutsMeet'] } });
    }
  });
});
