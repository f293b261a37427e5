// bookings.confirm / bookings.deny (the emulator shows the patch and the delete, both with
// sendUpdates=all), the state machine's CONFLICTs naming the current state, bookings.get and
// bookings.list, and the admin GraphQL `bookings` connection.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { reconcileJob } from '../../src/bookings/index.ts';
import { startBookingsHarness, slot, type BookingsHarness, type Booking } from './harness.ts';

let h: BookingsHarness;
const OWNER = 'owner-dec';
const EMAIL = 'owner-dec@example.com';
const bookee = { email: 'guest@example.org', name: 'Gus Guest' };

beforeAll(async () => {
  h = await startBookingsHarness('bookings-decisions');
  await h.linkOwner(OWNER, EMAIL);
}, 60_000);
afterAll(() => h?.stop(), 30_000);

async function requested(title: string, s = slot()): Promise<Booking> {
  const r = await h.request({ externalOwnerId: OWNER, ...s, title, bookee });
  if (r.status !== 200) throw new Error(`request: ${JSON.stringify(r)}`);
  return r.booking!;
}
const confirm = (id: string) => h.t.trpc<Booking>('bookings.confirm', { id });
const deny = (id: string) => h.t.trpc<Booking>('bookings.deny', { id });
const eventCalls = (b: Booking, sinceId: number) => h.requests({ sinceId, path: `/events/${b.googleEventId}` });

describe('bookings.confirm', () => {
  test('patches the event to confirmed with sendUpdates=all (read first, patched under If-Match); the booking is confirmed', async () => {
    const b = await requested('To confirm');
    const since = await h.lastRequestId();
    const r = await confirm(b.id);
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ id: b.id, status: 'confirmed', statusReason: 'confirmed by the owner', googlePending: false });
    const calls = await eventCalls(b, since);
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual(['GET 200', 'PUT 200']);
    expect(calls[1]!.query.sendUpdates).toBe('all');
    expect((await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!.status).toBe('confirmed');
  });

  test('confirming again returns the booking and calls Google no more', async () => {
    const b = await requested('Confirm twice');
    await confirm(b.id);
    const since = await h.lastRequestId();
    const again = await confirm(b.id);
    expect(again.status).toBe(200);
    expect(again.body.result!.data.status).toBe('confirmed');
    expect(await eventCalls(b, since)).toHaveLength(0);
  });

  test('confirming a denied booking -> CONFLICT naming its state; nothing at Google', async () => {
    const b = await requested('Denied first');
    await deny(b.id);
    const since = await h.lastRequestId();
    const r = await confirm(b.id);
    expect(r.status).toBe(409);
    expect(r.body.error!.data.code).toBe('CONFLICT');
    expect(r.body.error!.message).toBe(`booking ${b.id} is denied: only a requested booking can be confirmed`);
    expect(await eventCalls(b, since)).toHaveLength(0);
    expect((await h.get(b.id)).status).toBe('denied');
  });

  test('Google failing the patch: the decision stands, Google is pending, and the job catches up', async () => {
    const b = await requested('Patch later');
    await h.emuJson('faults', { status: 500, count: 3, paths: `/events/${b.googleEventId}` });
    const r = await confirm(b.id);
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ status: 'confirmed', googlePending: true });
    expect(r.body.result!.data.lastError).toContain('500');
    // The safety net is 30 s away: let it run now instead of waiting.
    await reconcileJob.send(h.t.service.ctx, { bookingId: b.id });
    reconcileJob.wake(h.t.service.ctx);
    const done = await h.waitForBooking(b.id, (x) => !x.googlePending, 'patch retried');
    expect(done.lastError).toBeNull();
    expect((await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!.status).toBe('confirmed');
    // Three 500s retried with backoff inside the confirm, then the job's retry: about 4 s on a quiet
    // machine, which bun's 5 s default leaves no room for under load.
  }, 20_000);

  test('the owner deleted the event in Google before the confirm reached it: CONFLICT, booking cancelled', async () => {
    const b = await requested('Gone before confirm');
    // Deleted at Google; the booking has not heard of it yet (the sync may be slower than this call).
    await h.emuJson(`calendars/${EMAIL}/events/${b.googleEventId}`, undefined, 'DELETE');
    const r = await confirm(b.id);
    // Either the sync got there first (cancelled, and confirm is refused), or the read before the
    // patch found the event deleted; either way it is not brought back.
    expect(r.status).toBe(409);
    expect(r.body.error!.message).toContain('cancelled (the owner deleted the event in Google Calendar)');
    expect((await h.get(b.id)).status).toBe('cancelled');
    expect((await h.liveEvents(EMAIL)).some((e) => e.id === b.googleEventId)).toBe(false);
    expect(await h.requests({ method: 'PUT', path: b.googleEventId })).toHaveLength(0);
    expect(await h.requests({ method: 'PATCH', path: b.googleEventId })).toHaveLength(0);
  });
});

describe('bookings.deny', () => {
  test('deletes the event with sendUpdates=all; the booking is denied and its slot free again', async () => {
    const s = slot();
    const b = await requested('To deny', s);
    const since = await h.lastRequestId();
    const r = await deny(b.id);
    expect(r.status).toBe(200);
    expect(r.body.result!.data).toMatchObject({ status: 'denied', googlePending: false });
    const calls = await eventCalls(b, since);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'DELETE', status: 204, query: { sendUpdates: 'all' } });
    expect((await h.liveEvents(EMAIL)).some((e) => e.id === b.googleEventId)).toBe(false);
    const again = await h.request({ externalOwnerId: OWNER, ...s, title: 'After the denial', bookee });
    expect(again.status).toBe(200);
  });

  test('denying a confirmed booking -> CONFLICT naming its state', async () => {
    const b = await requested('Confirmed first');
    await confirm(b.id);
    const r = await deny(b.id);
    expect(r.status).toBe(409);
    expect(r.body.error!.message).toBe(`booking ${b.id} is confirmed: only a requested booking can be denied`);
    expect((await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!.status).toBe('confirmed');
  });

  test('denying twice returns the booking; Google is asked once', async () => {
    const b = await requested('Deny twice');
    const since = await h.lastRequestId();
    await deny(b.id);
    const again = await deny(b.id);
    expect(again.status).toBe(200);
    expect(again.body.result!.data.status).toBe('denied');
    expect(await eventCalls(b, since)).toHaveLength(1);
  });

  test('concurrent confirm and deny: exactly one decision wins, the other is a CONFLICT', async () => {
    const b = await requested('Race of decisions');
    const [c, d] = await Promise.all([confirm(b.id), deny(b.id)]);
    expect([c.status, d.status].sort()).toEqual([200, 409]);
    const final = await h.get(b.id);
    expect(final.status).toBe(c.status === 200 ? 'confirmed' : 'denied');
  });
});

describe('bad ids', () => {
  for (const verb of ['confirm', 'deny', 'get'] as const) {
    test(`${verb}: unknown id -> NOT_FOUND, malformed id -> BAD_REQUEST`, async () => {
      const unknown = await h.t.trpc(`bookings.${verb}`, { id: '00000000-0000-4000-8000-000000000000' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error!.message).toBe('no booking 00000000-0000-4000-8000-000000000000');
      for (const id of ['not-a-uuid', "1' or '1'='1", '']) {
        const bad = await h.t.trpc(`bookings.${verb}`, { id });
        expect(bad.status).toBe(400);
      }
    });
  }
});

describe('bookings.list', () => {
  const OWNER2 = 'owner-list';
  const EMAIL2 = 'owner-list@example.com';
  const made: Booking[] = [];

  beforeAll(async () => {
    await h.linkOwner(OWNER2, EMAIL2);
    for (let i = 0; i < 5; i++) {
      const start = new Date(Date.UTC(2032, 2, 1 + i, 9)).toISOString();
      const end = new Date(Date.UTC(2032, 2, 1 + i, 10)).toISOString();
      const r = await h.request({ externalOwnerId: OWNER2, start, end, title: `List ${i}`, bookee });
      made.push(r.booking!);
    }
    await confirm(made[1]!.id);
    await deny(made[3]!.id);
  });

  type Page = { items: Booking[]; nextCursor: string | null };
  const list = (input: Record<string, unknown>) => h.t.trpc<Page>('bookings.list', { externalOwnerId: OWNER2, ...input });

  test('all of an owner\'s bookings by start time, and only theirs', async () => {
    const r = await list({});
    expect(r.status).toBe(200);
    expect(r.body.result!.data.items.map((b) => b.title)).toEqual(['List 0', 'List 1', 'List 2', 'List 3', 'List 4']);
    expect(r.body.result!.data.nextCursor).toBeNull();
  });

  test('by status, and by time range (overlapping [from, to))', async () => {
    expect((await list({ status: 'confirmed' })).body.result!.data.items.map((b) => b.title)).toEqual(['List 1']);
    expect((await list({ status: 'denied' })).body.result!.data.items.map((b) => b.title)).toEqual(['List 3']);
    const ranged = await list({ from: '2032-03-02T09:30:00Z', to: '2032-03-04T09:00:00Z' });
    expect(ranged.body.result!.data.items.map((b) => b.title)).toEqual(['List 1', 'List 2']);
  });

  test('pages with a cursor', async () => {
    const p1 = (await list({ limit: 2 })).body.result!.data;
    expect(p1.items.map((b) => b.title)).toEqual(['List 0', 'List 1']);
    const p2 = (await list({ limit: 2, cursor: p1.nextCursor })).body.result!.data;
    expect(p2.items.map((b) => b.title)).toEqual(['List 2', 'List 3']);
    const p3 = (await list({ limit: 2, cursor: p2.nextCursor })).body.result!.data;
    expect(p3.items.map((b) => b.title)).toEqual(['List 4']);
    expect(p3.nextCursor).toBeNull();
  });

  test('errors: unknown owner, to before from, bad status, forged cursor', async () => {
    expect((await h.t.trpc('bookings.list', { externalOwnerId: 'nobody' })).status).toBe(404);
    expect((await list({ from: '2032-03-04T00:00:00Z', to: '2032-03-01T00:00:00Z' })).status).toBe(400);
    expect((await list({ status: 'approved' })).status).toBe(400);
    const forged = await list({ cursor: 'eyJub3BlIjp0cnVlfQ' });
    expect(forged.status).toBe(400);
    expect(forged.body.error!.message).toContain('cursor');
  });
});

describe('GraphQL admin: bookings', () => {
  const Q = `query($externalOwnerId: String, $status: BookingStatus, $first: Int, $after: String) {
    bookings(externalOwnerId: $externalOwnerId, status: $status, first: $first, after: $after) {
      edges { cursor node { id externalOwnerId status statusReason calendarId googleEventId start end bookeeEmail bookeeResponse autoConfirmed googlePending lastError createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  type Conn = { bookings: { edges: Array<{ cursor: string; node: { id: string; status: string; externalOwnerId: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };

  test('newest first, filtered by owner and status, paged', async () => {
    const all = await h.t.graphql<Conn>(Q, { externalOwnerId: 'owner-list' });
    expect(all.status).toBe(200);
    expect(all.body.errors).toBeUndefined();
    const nodes = all.body.data!.bookings.edges.map((e) => e.node);
    expect(nodes).toHaveLength(5);
    expect(nodes.every((n) => n.externalOwnerId === 'owner-list')).toBe(true);
    const denied = await h.t.graphql<Conn>(Q, { externalOwnerId: 'owner-list', status: 'DENIED' });
    expect(denied.body.data!.bookings.edges.map((e) => e.node.status)).toEqual(['DENIED']);

    const p1 = await h.t.graphql<Conn>(Q, { externalOwnerId: 'owner-list', first: 3 });
    expect(p1.body.data!.bookings.pageInfo.hasNextPage).toBe(true);
    const p2 = await h.t.graphql<Conn>(Q, { externalOwnerId: 'owner-list', first: 3, after: p1.body.data!.bookings.pageInfo.endCursor });
    expect(p2.body.data!.bookings.pageInfo.hasNextPage).toBe(false);
    const ids = [...p1.body.data!.bookings.edges, ...p2.body.data!.bookings.edges].map((e) => e.node.id);
    expect(ids).toEqual(nodes.map((n) => n.id));

    // backwards: the last two (the oldest), then the two before them
    const LQ = `query($last: Int, $before: String) { bookings(externalOwnerId: "owner-list", last: $last, before: $before) {
      edges { node { id } } pageInfo { hasPreviousPage startCursor } } }`;
    type Back = { bookings: { edges: Array<{ node: { id: string } }>; pageInfo: { hasPreviousPage: boolean; startCursor: string } } };
    const b1 = await h.t.graphql<Back>(LQ, { last: 2 });
    expect(b1.body.data!.bookings.edges.map((e) => e.node.id)).toEqual(nodes.slice(3).map((n) => n.id));
    expect(b1.body.data!.bookings.pageInfo.hasPreviousPage).toBe(true);
    const b2 = await h.t.graphql<Back>(LQ, { last: 2, before: b1.body.data!.bookings.pageInfo.startCursor });
    expect(b2.body.data!.bookings.edges.map((e) => e.node.id)).toEqual(nodes.slice(1, 3).map((n) => n.id));
  });

  test('no title in the admin API', async () => {
    const r = await h.t.graphql(`{ bookings(first: 1) { edges { node { title } } } }`);
    expect(r.body.errors?.[0]?.message).toContain('Cannot query field "title"');
  });

  test('an unknown owner lists nothing; a forged cursor is a VALIDATION error', async () => {
    const none = await h.t.graphql<Conn>(Q, { externalOwnerId: 'nobody' });
    expect(none.body.data!.bookings.edges).toEqual([]);
    const forged = await h.t.graphql<Conn>(Q, { after: 'bm9wZQ' });
    expect(forged.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  test('401 without the admin token, and with the service token', async () => {
    expect((await h.t.graphql(Q, {}, { token: null })).status).toBe(401);
    expect((await h.t.graphql(Q, {}, { token: 'test-service-token-0123456789' })).status).toBe(401);
  });
});

describe('what reached Google, in all', () => {
  test('no booking event at Google was ever inserted twice', async () => {
    const inserts = (await h.requests({ method: 'POST', path: '/events' })).filter((r) => r.path.endsWith('/events'));
    const bookingIds = (await h.sql`select google_event_id from bookings`).map((r) => r.google_event_id as string);
    const all = [...(await h.allEvents(EMAIL)), ...(await h.allEvents('owner-list@example.com'))];
    for (const id of bookingIds) expect(all.filter((e) => e.id === id).length).toBeLessThanOrEqual(1);
    expect(inserts.filter((i) => i.status === 200).length).toBe(bookingIds.length);
  });
});
