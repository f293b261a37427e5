// bookings.request against the emulator and a real database: the event inserted with a derived id,
// tentative with the bookee as attendee and sendUpdates=all; auto-confirm; one winner of two
// concurrent requests for a slot (the database's exclusion constraint); Google failing then
// succeeding (one event, never two); bad input refused before anything reaches Google; the token.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { reconcileJob } from '../../src/bookings/index.ts';
import { startBookingsHarness, slot, type BookingsHarness } from './harness.ts';
import { waitFor } from '../support/service.ts';

let h: BookingsHarness;
let owner: { ownerId: string; calendarId: string };
const OWNER = 'owner-req';
const EMAIL = 'owner-req@example.com';
/** The owner's primary calendar in Google's paths. */
const CAL_PATH = `/calendar/v3/calendars/${encodeURIComponent(EMAIL)}/events`;

beforeAll(async () => {
  h = await startBookingsHarness('bookings-request');
  owner = await h.linkOwner(OWNER, EMAIL);
}, 60_000);
afterAll(() => h?.stop(), 30_000);

const bookee = { email: 'Bookee@Example.org', name: 'Bea Bookee' };
const insertsSince = (sinceId: number) => h.requests({ sinceId, method: 'POST', path: `/calendars/` }).then((r) => r.filter((x) => x.path.endsWith('/events')));
const bookingRows = async () => Number((await h.sql`select count(*)::int as n from bookings`)[0]!.n);

describe('bookings.request', () => {
  test('inserts a tentative event with the bookee as attendee, id derived from the booking, sendUpdates=all', async () => {
    const s = slot();
    const since = await h.lastRequestId();
    const r = await h.request({ externalOwnerId: OWNER, ...s, title: 'Intro call', bookee });
    expect(r.status).toBe(200);
    const b = r.booking!;
    expect(b).toMatchObject({
      status: 'requested',
      externalOwnerId: OWNER,
      calendarId: EMAIL, // 'primary' resolved to the real calendar id
      start: s.start,
      end: s.end,
      title: 'Intro call',
      bookee: { email: 'bookee@example.org', name: 'Bea Bookee' },
      bookeeResponse: 'needsAction',
      autoConfirmed: false,
      googlePending: false,
    });
    expect(b.googleEventId).toBe(`bk${b.id.replaceAll('-', '')}`);
    expect(b.googleEventId).toMatch(/^[a-v0-9]{5,1024}$/);

    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;
    expect(ev).toBeDefined();
    expect(ev.status).toBe('tentative');
    expect(ev.summary).toBe('Intro call');
    expect(new Date(ev.start.dateTime!).toISOString()).toBe(s.start);
    expect(new Date(ev.end.dateTime!).toISOString()).toBe(s.end);
    expect(ev.attendees).toEqual([expect.objectContaining({ email: 'bookee@example.org', displayName: 'Bea Bookee', responseStatus: 'needsAction' })]);

    const inserts = await insertsSince(since);
    expect(inserts).toHaveLength(1);
    expect(inserts[0]!.path).toBe(CAL_PATH);
    expect(inserts[0]!.query.sendUpdates).toBe('all');
    expect(inserts[0]!.status).toBe(200);
  });

  test('get returns the same booking', async () => {
    const r = await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Get me', bookee });
    const got = await h.get(r.booking!.id);
    expect(got).toEqual(r.booking!);
  });

  test('an explicit, selected calendarId is used', async () => {
    const cal = (await h.emuJson('calendars', { owner: EMAIL, summary: 'Bookings', timeZone: 'Europe/Paris' })) as { id: string };
    await waitFor(async () => (await h.sql`select 1 from calendars where google_calendar_id = ${cal.id}`).length === 1, { what: 'calendar listed' });
    const unselected = await h.request({ externalOwnerId: OWNER, calendarId: cal.id, ...slot(), title: 'Unselected', bookee });
    expect(unselected.status).toBe(409);
    expect(unselected.error!.message).toContain('is not selected');
    const sel = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: cal.id, selected: true });
    expect(sel.status).toBe(200);
    const r = await h.request({ externalOwnerId: OWNER, calendarId: cal.id, ...slot(), title: 'Secondary', bookee });
    expect(r.status).toBe(200);
    expect(r.booking!.calendarId).toBe(cal.id);
    expect((await h.liveEvents(cal.id)).map((e) => e.id)).toEqual([r.booking!.googleEventId]);
  });

  test('a slot that is busy in the owner\'s calendar (the mirror, through availability) -> CONFLICT, nothing at Google', async () => {
    const s = slot({ minutes: 60 });
    await h.emuJson(`calendars/${EMAIL}/events/busy${Date.now()}`, {
      summary: 'Dentist',
      start: { dateTime: s.start },
      end: { dateTime: s.end },
    }, 'PUT');
    const inner = { start: new Date(Date.parse(s.start) + 15 * 60_000).toISOString(), end: new Date(Date.parse(s.start) + 45 * 60_000).toISOString() };
    await waitFor(async () => {
      const busy = await h.t.trpc<{ intervals: unknown[] }>('availability.busy', { externalOwnerId: OWNER, ...inner, from: inner.start, to: inner.end });
      return busy.body.result?.data.intervals.length === 1;
    }, { what: 'the busy event in availability' });
    const since = await h.lastRequestId();
    const rows = await bookingRows();
    const r = await h.request({ externalOwnerId: OWNER, ...inner, title: 'Over the dentist', bookee });
    expect(r.status).toBe(409);
    expect(r.error!.message).toContain('is not free: the owner is busy');
    expect(await insertsSince(since)).toHaveLength(0);
    expect(await bookingRows()).toBe(rows);
  });
});

describe('auto-confirm ("confirm automatically when the time is free")', () => {
  test('settings.get says off by default; set turns it on; requests are then inserted and stored confirmed', async () => {
    const before = await h.t.trpc<{ autoConfirm: boolean }>('bookings.settings.get', { externalOwnerId: OWNER });
    expect(before.body.result!.data).toMatchObject({ externalOwnerId: OWNER, autoConfirm: false, updatedAt: null });

    const on = await h.t.trpc<{ autoConfirm: boolean }>('bookings.settings.set', { externalOwnerId: OWNER, autoConfirm: true });
    expect(on.status).toBe(200);
    expect(on.body.result!.data.autoConfirm).toBe(true);
    expect((await h.t.trpc<{ autoConfirm: boolean }>('bookings.settings.get', { externalOwnerId: OWNER })).body.result!.data.autoConfirm).toBe(true);

    const r = await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Auto', bookee });
    expect(r.booking).toMatchObject({ status: 'confirmed', autoConfirmed: true });
    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === r.booking!.googleEventId)!;
    expect(ev.status).toBe('confirmed');

    // and off again: back to tentative / requested
    await h.t.trpc('bookings.settings.set', { externalOwnerId: OWNER, autoConfirm: false });
    const r2 = await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Manual', bookee });
    expect(r2.booking).toMatchObject({ status: 'requested', autoConfirmed: false });
    expect((await h.liveEvents(EMAIL)).find((e) => e.id === r2.booking!.googleEventId)!.status).toBe('tentative');
  });

  test('settings of an unknown owner -> NOT_FOUND; bad input -> BAD_REQUEST', async () => {
    expect((await h.t.trpc('bookings.settings.get', { externalOwnerId: 'nobody' })).status).toBe(404);
    expect((await h.t.trpc('bookings.settings.set', { externalOwnerId: 'nobody', autoConfirm: true })).status).toBe(404);
    expect((await h.t.trpc('bookings.settings.set', { externalOwnerId: OWNER, autoConfirm: 'yes' })).status).toBe(400);
  });
});

describe('one slot, one booking', () => {
  test('two concurrent requests for the same slot: one booking, the other CONFLICT; one event at Google', async () => {
    const s = slot();
    const since = await h.lastRequestId();
    const [a, b] = await Promise.all([
      h.request({ externalOwnerId: OWNER, ...s, title: 'Race A', bookee }),
      h.request({ externalOwnerId: OWNER, ...s, title: 'Race B', bookee: { email: 'other@example.org' } }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.error!.code).toBe('CONFLICT');
    expect(loser.error!.message).toContain('overlaps another requested or confirmed booking');
    expect(await insertsSince(since)).toHaveLength(1);
    const inSlot = (await h.liveEvents(EMAIL)).filter((e) => new Date(e.start.dateTime!).toISOString() === s.start);
    expect(inSlot).toHaveLength(1);
  });

  test('ten concurrent overlapping requests: exactly one wins', async () => {
    const s = slot({ minutes: 60 });
    const base = Date.parse(s.start);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.request({
          externalOwnerId: OWNER,
          // all ten share the minutes 18 to 30 past the hour
          start: new Date(base + i * 2 * 60_000).toISOString(),
          end: new Date(base + i * 2 * 60_000 + 30 * 60_000).toISOString(),
          title: `Overlap ${i}`,
          bookee,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
  });

  test('the database itself refuses an overlapping live booking (exclusion constraint), whoever writes it', async () => {
    const r = await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Constraint', bookee });
    const b = r.booking!;
    const insert = (status: string) => h.sql`
      insert into bookings (owner_id, external_owner_id, calendar_id, google_event_id, status, title, bookee_email, start_at, end_at)
      values (${owner.ownerId}, ${OWNER}, ${EMAIL}, ${`bk${crypto.randomUUID().replaceAll('-', '')}`}, ${status}, 'raw', 'x@example.org',
              ${new Date(Date.parse(b.start) + 60_000)}, ${new Date(Date.parse(b.end) + 60_000)})`;
    for (const status of ['requested', 'confirmed']) {
      const err = await insert(status).then(() => null, (e: { code?: string }) => e);
      expect(err?.code).toBe('23P01');
    }
    // decided bookings hold no slot
    for (const status of ['denied', 'declined', 'cancelled', 'failed']) await insert(status);
  });

  test('adjacent slots do not overlap ([start, end))', async () => {
    const s = slot({ minutes: 60 });
    const mid = new Date(Date.parse(s.start) + 30 * 60_000).toISOString();
    const a = await h.request({ externalOwnerId: OWNER, start: s.start, end: mid, title: 'First half', bookee });
    const b = await h.request({ externalOwnerId: OWNER, start: mid, end: s.end, title: 'Second half', bookee });
    expect([a.status, b.status]).toEqual([200, 200]);
  });
});

describe('Google failing', () => {
  test('a 500 on the insert, then ok: one booking, one event (the in-call retry reuses the id)', async () => {
    const s = slot();
    const since = await h.lastRequestId();
    // nothing else calls Google for this calendar now: the fault meets our insert
    await h.syncsSettled();
    await h.emuJson('faults', { status: 500, count: 1, paths: CAL_PATH });
    const r = await h.request({ externalOwnerId: OWNER, ...s, title: 'Flaky', bookee });
    expect(r.status).toBe(200);
    const inserts = await insertsSince(since);
    expect(inserts.map((i) => i.status)).toEqual([500, 200]);
    expect((await h.allEvents(EMAIL)).filter((e) => e.id === r.booking!.googleEventId)).toHaveLength(1);
    expect((await h.liveEvents(EMAIL)).filter((e) => new Date(e.start.dateTime!).toISOString() === s.start)).toHaveLength(1);
  });

  test('an insert Google took but whose answer was lost: the retry gets 409 duplicate, fetches the event, and carries on', async () => {
    const r = await h.request({ externalOwnerId: OWNER, ...slot(), title: 'Lost answer', bookee });
    const id = r.booking!.id;
    // As if the process had died after Google stored the event but before recording it.
    await h.sql`update bookings set event_inserted = false, google_version = google_version + 1 where id = ${id}`;
    const since = await h.lastRequestId();
    await reconcileJob.send(h.t.service.ctx, { bookingId: id });
    reconcileJob.wake(h.t.service.ctx);
    await waitFor(async () => {
      const [row] = await h.sql`select event_inserted, google_version, google_applied_version from bookings where id = ${id}`;
      return row!.event_inserted && row!.google_applied_version >= row!.google_version;
    }, { what: 'reconcile after a lost answer' });
    const calls = (await h.requests({ sinceId: since, path: CAL_PATH })).filter(
      (c) => (c.method === 'POST' && c.path === CAL_PATH) || c.path === `${CAL_PATH}/${r.booking!.googleEventId}`,
    );
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual(['POST 409', `GET 200`]);
    expect((await h.allEvents(EMAIL)).filter((e) => e.id === r.booking!.googleEventId)).toHaveLength(1);
    const after = await h.get(id);
    expect(after).toMatchObject({ status: 'requested', calendarId: EMAIL, googlePending: false });
  });

  test('the process died between the commit and the call to Google: the safety-net job inserts the event', async () => {
    const s = slot();
    const id = crypto.randomUUID();
    const eventId = `bk${id.replaceAll('-', '')}`;
    // The row exactly as the request's transaction leaves it, and the job enqueued with it.
    await h.sql`insert into bookings (id, owner_id, external_owner_id, calendar_id, google_event_id, status, status_reason, title,
                  bookee_email, start_at, end_at, google_version)
                values (${id}, ${owner.ownerId}, ${OWNER}, ${EMAIL}, ${eventId}, 'requested', 'requested by the bookee', 'Crashed',
                  'bookee@example.org', ${s.start}, ${s.end}, 1)`;
    await reconcileJob.send(h.t.service.ctx, { bookingId: id });
    reconcileJob.wake(h.t.service.ctx);
    const b = await h.waitForBooking(id, (x) => !x.googlePending, 'the job inserted the event');
    expect(b.status).toBe('requested');
    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === eventId)!;
    expect(ev.status).toBe('tentative');
    expect(ev.attendees!.map((a) => a.email)).toEqual(['bookee@example.org']);
  });

  test('Google refusing every attempt: BAD_GATEWAY, the booking failed and its slot free; a retry books it, one event', async () => {
    const s = slot();
    await h.syncsSettled();
    // Only the inserts: a sync listing the calendar meanwhile (a late push) must not take a fault.
    await h.emuJson('faults', { status: 500, count: 3, paths: CAL_PATH, method: 'POST' });
    const r = await h.request({ externalOwnerId: OWNER, ...s, title: 'Refused', bookee });
    expect(r.status).toBe(502);
    expect(r.error!.message).toContain('Google did not take the event');
    const [failed] = await h.sql`select id, status, google_event_id from bookings where title = 'Refused'`;
    expect(failed!.status).toBe('failed');
    // the cleanup (a 5xx leaves doubt) asks Google to delete the id: it was never stored
    await waitFor(async () => (await h.requests({ method: 'DELETE', path: failed!.google_event_id })).length > 0, { what: 'cleanup delete' });
    const again = await h.request({ externalOwnerId: OWNER, ...s, title: 'Refused, then booked', bookee });
    expect(again.status).toBe(200);
    const inSlot = (await h.liveEvents(EMAIL)).filter((e) => new Date(e.start.dateTime!).toISOString() === s.start);
    expect(inSlot.map((e) => e.id)).toEqual([again.booking!.googleEventId]);
    expect((await h.get(failed!.id)).status).toBe('failed');
  }, 20_000); // three attempts with Google's backoff (1 s, then 2 s, plus jitter)

  test('a grant revoked at Google: BAD_GATEWAY, the booking failed, the owner revoked; no cleanup (nothing was stored)', async () => {
    await h.linkOwner('owner-grant-gone', 'grant-gone@example.com');
    await h.emuJson('users/grant-gone@example.com/revoke', {});
    // the cached access token is revoked with the grant: Google answers 401, the refresh invalid_grant
    const r = await h.request({ externalOwnerId: 'owner-grant-gone', ...slot(), title: 'Grant gone', bookee });
    expect(r.status).toBe(502);
    expect(r.error!.message).toContain('Google did not take the event');
    const [row] = await h.sql`select status, google_version, google_applied_version from bookings where title = 'Grant gone'`;
    expect(row!.status).toBe('failed');
    expect(row!.google_applied_version).toBe(row!.google_version);
    expect((await h.sql`select status from owners where external_owner_id = 'owner-grant-gone'`)[0]!.status).toBe('revoked');
    expect(await h.liveEvents('grant-gone@example.com')).toHaveLength(0);
  });
});

describe('bad input: a clear error and nothing at Google', () => {
  const cases: Array<[string, () => Record<string, unknown>, number, string]> = [
    ['end before start', () => { const s = slot(); return { start: s.end, end: s.start }; }, 400, 'must be after start'],
    ['end equal to start', () => { const s = slot(); return { start: s.start, end: s.start }; }, 400, 'must be after start'],
    ['a slot in the past', () => ({ start: '2020-01-01T10:00:00Z', end: '2020-01-01T10:30:00Z' }), 400, 'in the past'],
    ['longer than a day', () => ({ start: '2031-06-01T10:00:00Z', end: '2031-06-03T10:00:00Z' }), 400, 'at most 24 hours'],
    ['an invalid email', () => ({ ...slot(), bookee: { email: 'not-an-email' } }), 400, 'email'],
    ['a date without offset', () => ({ start: '2031-06-01T10:00:00', end: '2031-06-01T11:00:00' }), 400, 'ISO 8601'],
    ['not a date at all', () => ({ start: 'tomorrow', end: 'later' }), 400, 'ISO 8601'],
    ['an empty title', () => ({ ...slot(), title: '   ' }), 400, 'title'],
    ['no bookee', () => ({ ...slot(), bookee: undefined }), 400, 'bookee'],
    ['an unknown owner', () => ({ ...slot(), externalOwnerId: 'owner-who-never-was' }), 404, 'no owner owner-who-never-was'],
  ];
  for (const [name, input, status, message] of cases) {
    test(name, async () => {
      const since = await h.lastRequestId();
      const rows = await bookingRows();
      const r = await h.request({ externalOwnerId: OWNER, title: 'Bad', bookee, ...input() });
      expect(r.status).toBe(status);
      expect(r.error!.code).toBe(status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST');
      expect(JSON.stringify(r.error)).toContain(message);
      expect(await insertsSince(since)).toHaveLength(0);
      expect(await bookingRows()).toBe(rows);
    });
  }

  test('"now" is the service clock: a slot in the real future but in the clock\'s past is refused', async () => {
    const s = slot();
    h.t.clock.set(new Date(Date.parse(s.end) + 60_000));
    try {
      const r = await h.request({ externalOwnerId: OWNER, ...s, title: 'Too late', bookee });
      expect(r.status).toBe(400);
      expect(r.error!.message).toContain('in the past');
    } finally {
      h.t.clock.set(new Date());
    }
  });

  test('a revoked owner: CONFLICT naming the state, nothing at Google', async () => {
    await h.linkOwner('owner-revoked', 'revoked@example.com');
    await h.sql`update owners set status = 'revoked', revoked_at = now() where external_owner_id = 'owner-revoked'`;
    const since = await h.lastRequestId();
    const r = await h.request({ externalOwnerId: 'owner-revoked', ...slot(), title: 'Revoked', bookee });
    expect(r.status).toBe(409);
    expect(r.error!.message).toContain('is revoked');
    expect(await insertsSince(since)).toHaveLength(0);
  });
});

describe('authentication', () => {
  const procedures: Array<[string, unknown]> = [
    ['bookings.request', { externalOwnerId: OWNER, ...slot(), title: 'x', bookee }],
    ['bookings.confirm', { id: '00000000-0000-4000-8000-000000000000' }],
    ['bookings.deny', { id: '00000000-0000-4000-8000-000000000000' }],
    ['bookings.get', { id: '00000000-0000-4000-8000-000000000000' }],
    ['bookings.list', { externalOwnerId: OWNER }],
    ['bookings.settings.get', { externalOwnerId: OWNER }],
    ['bookings.settings.set', { externalOwnerId: OWNER, autoConfirm: true }],
  ];
  for (const [path, input] of procedures) {
    test(`${path}: 401 without the token and with a wrong one`, async () => {
      const rows = await bookingRows();
      for (const token of [null, 'wrong-token-0123456789']) {
        const r = await h.t.trpc(path, input, { token });
        expect(r.status).toBe(401);
        expect(r.body.error!.data.code).toBe('UNAUTHORIZED');
      }
      expect(await bookingRows()).toBe(rows);
    });
  }

  test('an attacker-chosen calendar id cannot escape the owner\'s own calendars', async () => {
    // Another user's calendar, not among the owner's: refused before Google is asked.
    await h.emuJson('users', { email: 'victim@example.com' });
    const since = await h.lastRequestId();
    for (const calendarId of ['victim@example.com', '../../users/me/calendarList', 'primary/../victim@example.com']) {
      const r = await h.request({ externalOwnerId: OWNER, calendarId, ...slot(), title: 'Intrusion', bookee });
      expect(r.status).toBe(404);
      expect(r.error!.message).toContain('has no calendar');
    }
    expect(await insertsSince(since)).toHaveLength(0);
    expect(await h.liveEvents('victim@example.com')).toHaveLength(0);
  });
});

