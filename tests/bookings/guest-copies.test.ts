// A booking's event has copies: Google puts the invitation, with the same event id, on the guest's
// own calendar. When the owner has that calendar selected too (a colleague's calendar shared with
// them), its change sets carry the same event id. Only the booking's own calendar speaks for the
// booking: the guest removing their copy, or moving it on their calendar, must neither cancel nor
// move the booking, nor take the booking's calendar over; the guest's answer given on their copy
// reaches the organizer's event (the emulator writes it there, as Google does) and counts from there.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { findCalendar } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startBookingsHarness, slot, type Booking, type BookingsHarness } from './harness.ts';

setDefaultTimeout(40_000);

let h: BookingsHarness;
const OWNER = 'owner-copies';
const EMAIL = 'owner-copies@example.com';
const GUEST = 'guest-copies@example.com';

beforeAll(async () => {
  h = await startBookingsHarness('bookings-guest-copies');
  // The guest is a Google user whose primary calendar is shared with the owner.
  await h.emuJson('users', { email: GUEST });
  await h.emuJson('calendars', { owner: GUEST, primary: true, members: [{ email: EMAIL, role: 'reader' }] });
  const { ownerId } = await h.linkOwner(OWNER, EMAIL, { waitForChannel: true });
  const sel = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: GUEST, selected: true });
  if (sel.status !== 200) throw new Error(`setSelected: ${JSON.stringify(sel.body)}`);
  await waitFor(async () => (await findCalendar(h.t.service.ctx, ownerId, GUEST))?.lastFullSyncAt, { what: "first sync of the guest's calendar", timeoutMs: 20_000 });
}, 60_000);
afterAll(() => h?.stop(), 30_000);

/** A booking whose event is mirrored from both calendars: the owner's, and the guest's copy. */
async function bookedWithCopy(title: string): Promise<Booking> {
  const r = await h.request({ externalOwnerId: OWNER, ...slot(), title, bookee: { email: GUEST, name: 'Gus' } });
  if (r.status !== 200) throw new Error(`request: ${JSON.stringify(r)}`);
  const b = r.booking!;
  await waitFor(
    async () => (await h.sql`select c.google_calendar_id from calendar_events e join calendars c on c.id = e.calendar_id where e.google_event_id = ${b.googleEventId}`).length === 2,
    { what: 'the event mirrored from both calendars', timeoutMs: 20_000 },
  );
  return b;
}

/** Waits until the mirror of the guest's calendar shows its copy of the event in `status`. */
async function guestCopyMirrored(b: Booking, status: string): Promise<void> {
  await waitFor(
    async () =>
      (await h.sql`select e.status from calendar_events e join calendars c on c.id = e.calendar_id
        where c.google_calendar_id = ${GUEST} and e.google_event_id = ${b.googleEventId}`)[0]?.status === status
      || (status === 'cancelled' && (await h.sql`select 1 from calendar_events e join calendars c on c.id = e.calendar_id
        where c.google_calendar_id = ${GUEST} and e.google_event_id = ${b.googleEventId}`).length === 0),
    { what: `the guest's copy ${status} in the mirror`, timeoutMs: 20_000 },
  );
  await h.syncsSettled();
}

describe("the guest's copy of a booking's event", () => {
  test('is on the guest calendar with the same id (as Google copies invitations)', async () => {
    const b = await bookedWithCopy('Copied');
    const copy = (await h.liveEvents(GUEST)).find((e) => e.id === b.googleEventId);
    expect(copy).toBeDefined();
    expect((await h.get(b.id)).calendarId).toBe(EMAIL);
  });

  test('the guest deleting their copy neither cancels the booking nor moves it to their calendar', async () => {
    const b = await bookedWithCopy('Guest removes copy');
    await h.emuJson(`calendars/${GUEST}/events/${b.googleEventId}`, undefined, 'DELETE');
    await guestCopyMirrored(b, 'cancelled');
    const after = await h.get(b.id);
    expect(after).toMatchObject({ status: 'requested', calendarId: EMAIL, start: b.start, end: b.end });
    // The organizer's event is untouched.
    expect((await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)?.status).toBe('tentative');
  });

  test('the guest moving their own copy does not move the booking', async () => {
    const b = await bookedWithCopy('Guest moves copy');
    const copy = (await h.liveEvents(GUEST)).find((e) => e.id === b.googleEventId)!;
    const start = new Date(Date.parse(b.start) + 3 * 3_600_000).toISOString();
    const end = new Date(Date.parse(b.end) + 3 * 3_600_000).toISOString();
    await h.emuJson(`calendars/${GUEST}/events/${b.googleEventId}`, { ...copy, start: { dateTime: start }, end: { dateTime: end } }, 'PUT');
    await waitFor(
      async () =>
        (await h.sql`select e.start_at from calendar_events e join calendars c on c.id = e.calendar_id
          where c.google_calendar_id = ${GUEST} and e.google_event_id = ${b.googleEventId}`)[0]?.start_at?.toISOString() === start,
      { what: "the guest's moved copy in the mirror", timeoutMs: 20_000 },
    );
    await h.syncsSettled();
    expect(await h.get(b.id)).toMatchObject({ status: 'requested', calendarId: EMAIL, start: b.start, end: b.end });
  });

  test("the guest declining on their copy reaches the organizer's event: the booking is declined", async () => {
    const b = await bookedWithCopy('Guest declines on copy');
    await h.emuJson(`calendars/${GUEST}/events/${b.googleEventId}/respond`, { email: GUEST, responseStatus: 'declined' });
    const after = await h.waitForBooking(b.id, (x) => x.status === 'declined' && !x.googlePending, 'declined', 20_000);
    expect(after).toMatchObject({ bookeeResponse: 'declined', calendarId: EMAIL });
    // Our deletion of the organizer's event cancels the guest's copy too.
    expect((await h.liveEvents(GUEST)).some((e) => e.id === b.googleEventId)).toBe(false);
  });
});
