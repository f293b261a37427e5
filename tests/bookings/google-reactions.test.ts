// What flows back from Google, through the real path: a change in the emulator (a person acting
// in Google Calendar) -> Google's push to the webhook -> the coalesced sync -> the change set ->
// the bookings reaction (and its job). The bookee declines -> declined + event deleted with
// sendUpdates=all; accepts -> recorded only; the owner deletes the event -> cancelled; the owner
// moves it -> start/end follow. Each transition once, under floods of notifications and resyncs.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { startBookingsHarness, slot, type BookingsHarness, type Booking, type GoogleEvent, subscribeSink, type Sink } from './harness.ts';
import { waitFor } from '../support/service.ts';
import { enqueueEventSync } from '../../src/sync/index.ts';
import { inTransaction, type ChangeSet, type MirrorEvent } from '../../src/context/index.ts';
import { reactToChangeSet } from '../../src/bookings/reactions.ts';

// Each reaction waits for a push and a sync (spaced a second apart per calendar).
setDefaultTimeout(30_000);

const WEBHOOK_TOKEN = 'bookings-webhook-token-0123456789';
let h: BookingsHarness;
/** Receives the booking.changed deliveries of fan-out (their bodies are also kept in `deliveries`). */
let receiver: Sink;
const OWNER = 'owner-react';
const EMAIL = 'owner-react@example.com';
const BOOKEE = 'bookee-react@example.org';

beforeAll(async () => {
  h = await startBookingsHarness('bookings-google-reactions', { GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN });
  await h.linkOwner(OWNER, EMAIL, { waitForChannel: true });
  receiver = await subscribeSink(h, OWNER);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  receiver?.stop();
}, 30_000);

/** The causes of the booking.changed messages published for a booking, in order. */
async function changes(bookingId: string): Promise<string[]> {
  const rows = await h.sql`select body from deliveries where type = 'booking.changed' order by occurred_at, created_at`;
  return rows
    .map((r) => JSON.parse(r.body as string) as { data: { cause: string; booking: { id: string } } })
    .filter((b) => b.data.booking.id === bookingId)
    .map((b) => b.data.cause);
}

/** A requested booking whose event the mirror already holds (so that later changes are updates). */
async function mirroredBooking(title: string, opts: { autoConfirm?: boolean } = {}): Promise<Booking> {
  if (opts.autoConfirm !== undefined) await h.t.trpc('bookings.settings.set', { externalOwnerId: OWNER, autoConfirm: opts.autoConfirm });
  const r = await h.request({ externalOwnerId: OWNER, ...slot(), title, bookee: { email: BOOKEE, name: 'Bo' } });
  if (r.status !== 200) throw new Error(`request: ${JSON.stringify(r)}`);
  const b = r.booking!;
  await waitFor(async () => (await h.sql`select 1 from calendar_events where google_event_id = ${b.googleEventId}`).length === 1, {
    what: 'the booking event in the mirror',
  });
  return b;
}

const respond = (b: Booking, responseStatus: string) =>
  h.emuJson(`calendars/${EMAIL}/events/${b.googleEventId}/respond`, { email: BOOKEE, responseStatus });
const ourWrites = async (b: Booking) =>
  (await h.requests({ path: `/calendar/v3/calendars/` })).filter((r) => r.path.endsWith(`/events/${b.googleEventId}`) && r.method !== 'GET');
const statusChangedAt = async (id: string) => (await h.sql`select status_changed_at from bookings where id = ${id}`)[0]!.status_changed_at as Date;

const syncsSettled = () => h.syncsSettled();

/**
 * What "many notifications" can do: Google delivering the last message of the channel ten more
 * times (dropped at the webhook as duplicates), ten more syncs asked for the calendar (as ten new
 * messages would), and a full resync that hands every mirrored event to the reactors again.
 */
async function flood(): Promise<void> {
  const { items } = (await h.emuJson('channels')) as { items: Array<{ id: string; resourceId: string; resource: string; state: string; lastMessageNumber: number }> };
  const ch = items.find((c) => c.resource === `events:${EMAIL}` && c.state === 'active')!;
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${h.t.url}/webhooks/google/calendar`, {
      method: 'POST',
      headers: {
        'X-Goog-Channel-ID': ch.id,
        'X-Goog-Channel-Token': WEBHOOK_TOKEN,
        'X-Goog-Resource-ID': ch.resourceId,
        'X-Goog-Resource-State': 'exists',
        'X-Goog-Resource-URI': `https://www.googleapis.com/calendar/v3/calendars/${EMAIL}/events?alt=json`,
        'X-Goog-Message-Number': String(ch.lastMessageNumber),
      },
    });
    expect(res.status).toBe(204);
  }
  const [cal] = await h.sql`select id from calendars where google_calendar_id = ${EMAIL}`;
  const syncsDone = async () =>
    Number((await h.sql`select count(*)::int as n from pgboss.job where name = 'sync.events' and state = 'completed' and data->>'calendarRowId' = ${cal!.id}`)[0]!.n);
  const before = await syncsDone();
  for (let i = 0; i < 10; i++) await enqueueEventSync(h.t.service.ctx, cal!.id as string, { reason: 'notification' });
  await syncsSettled();
  const resync = await h.t.trpc('calendars.resync', { externalOwnerId: OWNER, calendarId: EMAIL });
  expect(resync.status).toBe(200);
  await syncsSettled();
  // at least one incremental sync for the ten requests (they coalesce) and the full resync ran
  expect(await syncsDone()).toBeGreaterThanOrEqual(before + 2);
  const [full] = await h.sql`select last_full_sync_at from calendars where id = ${cal!.id}`;
  expect(Date.now() - (full!.last_full_sync_at as Date).getTime()).toBeLessThan(10_000);
}

describe('the bookee answers in Google Calendar', () => {
  test('accepts: the response is recorded, the booking stays requested, nothing is written to Google', async () => {
    const b = await mirroredBooking('Accepted');
    await respond(b, 'accepted');
    const after = await h.waitForBooking(b.id, (x) => x.bookeeResponse === 'accepted', 'acceptance recorded');
    expect(after.status).toBe('requested');
    expect(after.statusChangedAt).toBe(b.statusChangedAt);
    expect(await ourWrites(b)).toEqual([]);
    // and the owner can still confirm it
    const c = await h.t.trpc<Booking>('bookings.confirm', { id: b.id });
    expect(c.body.result!.data).toMatchObject({ status: 'confirmed', bookeeResponse: 'accepted' });
    expect(await changes(b.id)).toEqual(['requested', 'google.responded', 'confirmed']);
  });

  test('declines: the booking is declined and the event deleted with sendUpdates=all, once', async () => {
    const b = await mirroredBooking('Declined');
    await respond(b, 'declined');
    const after = await h.waitForBooking(b.id, (x) => x.status === 'declined' && !x.googlePending, 'declined and deleted');
    expect(after).toMatchObject({ bookeeResponse: 'declined', statusReason: 'the bookee declined in Google Calendar' });
    const writes = await ourWrites(b);
    expect(writes.map((w) => `${w.method} ${w.status}`)).toEqual(['DELETE 204']);
    expect(writes[0]!.query.sendUpdates).toBe('all');
    expect((await h.liveEvents(EMAIL)).some((e) => e.id === b.googleEventId)).toBe(false);
    // the deletion flows back too, and changes nothing: declined stays declined
    await syncsSettled();
    expect((await h.get(b.id)).status).toBe('declined');
    expect(await changes(b.id)).toEqual(['requested', 'google.declined']);
  });

  test('declines a confirmed booking: declined as well', async () => {
    const b = await mirroredBooking('Confirmed then declined', { autoConfirm: true });
    await h.t.trpc('bookings.settings.set', { externalOwnerId: OWNER, autoConfirm: false });
    expect(b.status).toBe('confirmed');
    await respond(b, 'declined');
    await h.waitForBooking(b.id, (x) => x.status === 'declined' && !x.googlePending, 'confirmed -> declined');
    expect((await ourWrites(b)).map((w) => w.method)).toEqual(['DELETE']);
  });
});

describe('the owner acts in Google Calendar', () => {
  test('deletes the event: the booking is cancelled, and we write nothing', async () => {
    const b = await mirroredBooking('Deleted by owner');
    await h.emuJson(`calendars/${EMAIL}/events/${b.googleEventId}`, undefined, 'DELETE');
    const after = await h.waitForBooking(b.id, (x) => x.status === 'cancelled', 'cancelled');
    expect(after.statusReason).toBe('the owner deleted the event in Google Calendar');
    expect(await ourWrites(b)).toEqual([]);
    // a cancelled booking cannot be confirmed
    const c = await h.t.trpc('bookings.confirm', { id: b.id });
    expect(c.status).toBe(409);
    expect(c.body.error!.message).toContain('is cancelled');
    expect(await changes(b.id)).toEqual(['requested', 'google.cancelled']);
  });

  test('moves the event: the booking\'s start and end follow, the status does not change', async () => {
    const b = await mirroredBooking('Moved by owner');
    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;
    const start = new Date(Date.parse(b.start) + 24 * 3_600_000 + 15 * 60_000).toISOString();
    const end = new Date(Date.parse(b.end) + 24 * 3_600_000 + 45 * 60_000).toISOString();
    await movedEvent(ev, start, end);
    const after = await h.waitForBooking(b.id, (x) => x.start === start, 'moved');
    expect(after).toMatchObject({ start, end, status: 'requested', statusChangedAt: b.statusChangedAt });
    expect(await ourWrites(b)).toEqual([]);
    // the old slot is free again, the new one is not
    const old = await h.request({ externalOwnerId: OWNER, start: b.start, end: b.end, title: 'Old slot', bookee: { email: 'x@example.org' } });
    expect(old.status).toBe(200);
    const taken = await h.request({ externalOwnerId: OWNER, start, end, title: 'New slot', bookee: { email: 'x@example.org' } });
    expect(taken.status).toBe(409);
    expect(await changes(b.id)).toEqual(['requested', 'google.moved']);
  });

  test('moves it onto another booking\'s time: the booking keeps its times and says why (the sync goes on)', async () => {
    const a = await mirroredBooking('Stays');
    const b = await mirroredBooking('Moved onto A');
    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;
    await movedEvent(ev, a.start, a.end);
    const after = await h.waitForBooking(b.id, (x) => (x.lastError ?? '').includes('overlaps another booking'), 'move refused');
    expect(after.start).toBe(b.start);
    // the sync was not aborted: later changes still arrive
    await respond(a, 'accepted');
    await h.waitForBooking(a.id, (x) => x.bookeeResponse === 'accepted', 'later change still synced');
  });
});

async function movedEvent(ev: GoogleEvent, start: string, end: string): Promise<void> {
  // A person's edit in Google Calendar: the whole event again, with new times.
  await h.emuJson(`calendars/${EMAIL}/events/${ev.id}`, { ...ev, start: { dateTime: start }, end: { dateTime: end } }, 'PUT');
}

describe('each transition once, however many notifications arrive', () => {
  test('decline, then 10 more notifications and a full resync: declined once, deleted once', async () => {
    await h.emuJson('faults', { duplicateNotifications: 1 });
    try {
      const b = await mirroredBooking('Flooded decline');
      await respond(b, 'declined');
      await h.waitForBooking(b.id, (x) => x.status === 'declined' && !x.googlePending, 'declined');
      const changedAt = await statusChangedAt(b.id);
      const published = await changes(b.id);
      expect(published).toEqual(['requested', 'google.declined']);
      await flood();
      const after = await h.get(b.id);
      expect(after.status).toBe('declined');
      expect(await changes(b.id)).toEqual(published);
      expect(await statusChangedAt(b.id)).toEqual(changedAt);
      expect((await ourWrites(b)).map((w) => w.method)).toEqual(['DELETE']);
      const [jobs] = await h.sql`select count(*)::int as n from pgboss.job where name = 'bookings.reconcile' and data->>'bookingId' = ${b.id} and start_after <= now() + interval '5 seconds'`;
      expect(jobs!.n).toBe(1); // the decline's own job (the request's safety net is still 30 s away)
    } finally {
      await h.emuJson('faults', { duplicateNotifications: 0 });
    }
  });

  test('accept, owner delete and owner move, then 10 more notifications and a full resync: each applied once', async () => {
    const accepted = await mirroredBooking('Flooded accept');
    const deleted = await mirroredBooking('Flooded delete');
    const moved = await mirroredBooking('Flooded move');
    await respond(accepted, 'accepted');
    await h.emuJson(`calendars/${EMAIL}/events/${deleted.googleEventId}`, undefined, 'DELETE');
    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === moved.googleEventId)!;
    const start = new Date(Date.parse(moved.start) + 3_600_000).toISOString();
    const end = new Date(Date.parse(moved.end) + 3_600_000).toISOString();
    await movedEvent(ev, start, end);
    await h.waitForBooking(accepted.id, (x) => x.bookeeResponse === 'accepted', 'accepted');
    await h.waitForBooking(deleted.id, (x) => x.status === 'cancelled', 'cancelled');
    const movedNow = await h.waitForBooking(moved.id, (x) => x.start === start, 'moved');
    const snapshot = async () =>
      h.sql`select id, status, status_changed_at, bookee_response, start_at, end_at, updated_at from bookings where id in ${h.sql([accepted.id, deleted.id, moved.id])} order by id`;
    const before = await snapshot();
    const publishedBefore = await Promise.all([accepted, deleted, moved].map((b) => changes(b.id)));
    expect(publishedBefore).toEqual([
      ['requested', 'google.responded'],
      ['requested', 'google.cancelled'],
      ['requested', 'google.moved'],
    ]);
    await flood();
    expect(await snapshot()).toEqual(before);
    expect(await Promise.all([accepted, deleted, moved].map((b) => changes(b.id)))).toEqual(publishedBefore);
    expect(movedNow.status).toBe('requested');
    for (const b of [accepted, deleted, moved]) expect(await ourWrites(b)).toEqual([]);
  });
});

describe('the reaction itself is idempotent', () => {
  test('the same decline handed over ten times (as a redelivered change set would be): one transition, one job, one booking.changed', async () => {
    const b = await mirroredBooking('Replayed decline');
    const [row] = await h.sql`select * from calendar_events where google_event_id = ${b.googleEventId}`;
    const [cal] = await h.sql`select id, owner_id, external_owner_id, google_calendar_id, time_zone from calendars where id = ${row!.calendar_id}`;
    const event: MirrorEvent = {
      ownerId: cal!.owner_id,
      externalOwnerId: cal!.external_owner_id,
      calendarRowId: cal!.id,
      calendarId: cal!.google_calendar_id,
      calendarTimeZone: cal!.time_zone,
      googleEventId: b.googleEventId,
      status: row!.status,
      summary: row!.summary,
      startAt: row!.start_at,
      endAt: row!.end_at,
      startDate: null,
      endDate: null,
      timeZone: row!.time_zone,
      allDay: false,
      transparency: row!.transparency,
      eventType: row!.event_type,
      recurrence: null,
      recurringEventId: null,
      originalStartTime: null,
      organizerEmail: row!.organizer_email,
      attendees: [{ email: BOOKEE, responseStatus: 'declined' }],
      updated: row!.updated,
      etag: row!.etag,
      raw: row!.raw,
    };
    const changeSet: ChangeSet = {
      ownerId: event.ownerId,
      externalOwnerId: event.externalOwnerId,
      calendarRowId: event.calendarRowId,
      calendarId: event.calendarId,
      calendarTimeZone: event.calendarTimeZone,
      fullSync: false,
      syncedAt: new Date(),
      changes: [{ kind: 'updated', event, previous: { ...event, attendees: [{ email: BOOKEE, responseStatus: 'needsAction' }] } }],
    };
    const ctx = h.t.service.ctx;
    const published = await h.sql`select count(*)::int as n from pgboss.job where name = 'bookings.reconcile' and data->>'bookingId' = ${b.id}`;
    // Redeliveries come one after another (one sync per calendar at a time); a few at once as well.
    for (let i = 0; i < 7; i++) await ctx.db.transaction((tx) => reactToChangeSet(inTransaction(ctx, tx), changeSet));
    await Promise.all(Array.from({ length: 3 }, () => ctx.db.transaction((tx) => reactToChangeSet(inTransaction(ctx, tx), changeSet))));
    const after = await h.waitForBooking(b.id, (x) => x.status === 'declined' && !x.googlePending, 'declined');
    expect(after.statusReason).toBe('the bookee declined in Google Calendar');
    const [jobs] = await h.sql`select count(*)::int as n from pgboss.job where name = 'bookings.reconcile' and data->>'bookingId' = ${b.id}`;
    expect(jobs!.n - published[0]!.n).toBe(1);
    expect((await ourWrites(b)).map((w) => w.method)).toEqual(['DELETE']);
    expect(await changes(b.id)).toEqual(['requested', 'google.declined']);
  });
});

describe('unlinking the owner', () => {
  test('the owner\'s bookings and settings go with their other rows', async () => {
    const { ownerId } = await h.linkOwner('owner-leaving', 'leaving@example.com');
    await h.t.trpc('bookings.settings.set', { externalOwnerId: 'owner-leaving', autoConfirm: true });
    expect((await h.sql`select count(*)::int as n from booking_settings where owner_id = ${ownerId}`)[0]!.n).toBe(1);
    const r = await h.request({ externalOwnerId: 'owner-leaving', ...slot(), title: 'Leaving', bookee: { email: BOOKEE } });
    expect(r.status).toBe(200);
    const unlinked = await h.t.trpc('links.event', { type: 'UNLINKED', externalOwnerId: 'owner-leaving' });
    expect(unlinked.status).toBe(200);
    expect((await h.sql`select count(*)::int as n from bookings where external_owner_id = 'owner-leaving'`)[0]!.n).toBe(0);
    expect((await h.sql`select count(*)::int as n from booking_settings where owner_id = ${ownerId}`)[0]!.n).toBe(0);
    expect((await h.t.trpc('bookings.get', { id: r.booking!.id })).status).toBe(404);
    const after = await h.t.trpc('bookings.list', { externalOwnerId: 'owner-leaving' });
    expect(after.status).toBe(404);
    expect(after.body.error!.message).toContain('unlinked');
  });
});
