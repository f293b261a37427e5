// changes.list: every mirror change (and calendar and owner event) once, per calendar in Google's
// order, read with a cursor that returns only what is newer; safe against a writer that took its
// place in the order earlier and commits later; an expired cursor is told to resync.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sql as dsql } from 'drizzle-orm';
import { findCalendar } from '../../src/sync/index.ts';
import { pruneChanges } from '../../src/changes/index.ts';
import { startServiceWithEmulator, type ServiceWithEmulator } from '../support/service-with-emulator.ts';
import { startTestService, waitFor } from '../support/service.ts';
import { startReceiver } from '../support/webhook-receiver.ts';

const EMAIL = 'feed-fay@example.com';
let s: ServiceWithEmulator;
let ownerId: string;

interface Item {
  cursor: string;
  type: string;
  externalOwnerId: string;
  calendarId: string | null;
  googleEventId: string | null;
  occurredAt: string;
  event: Record<string, any> | null;
  data?: Record<string, any>;
}
type Page = { items: Item[]; nextCursor: string | null };

const list = async (input: Record<string, unknown> = {}) => {
  const r = await s.t.trpc<Page>('changes.list', input);
  if (r.status !== 200) throw new Error(`changes.list: ${JSON.stringify(r.body)}`);
  return r.body.result!.data;
};
/** Everything after `after`, page by page. */
const readAll = async (input: Record<string, unknown> = {}, limit = 2): Promise<{ items: Item[]; cursor: string | null }> => {
  const items: Item[] = [];
  let cursor = (input.after as string | undefined) ?? null;
  for (;;) {
    const page = await list({ ...input, ...(cursor ? { after: cursor } : {}), limit });
    items.push(...page.items);
    if (page.items.length === 0) return { items, cursor };
    cursor = page.nextCursor;
  }
};
const eventPath = (id: string) => `calendars/${encodeURIComponent(EMAIL)}/events/${id}`;

beforeAll(async () => {
  s = await startServiceWithEmulator({ name: 'changes-feed' });
  ownerId = await s.linkOwner(EMAIL, 'feed-fay', { timeZone: 'UTC' });
  await s.primarySynced(ownerId, { what: 'the first full sync' });
  await waitFor(async () => (await s.ctl.channels()).some((c) => c.user === EMAIL && c.resource.includes('events')), { what: 'the events channel' });
}, 60_000);
afterAll(() => s?.stop(), 30_000);

describe('changes.list', () => {
  let mark: string | null = null;

  test('calendar.added, then an event created, moved and deleted in Google: each once, in order, with the events.list shape', async () => {
    const start = await readAll({ externalOwnerId: 'feed-fay' });
    expect(start.items.map((i) => i.type)).toEqual(['calendar.added']);
    expect(start.items[0]).toMatchObject({ calendarId: EMAIL, event: null, data: { calendarId: EMAIL } });

    await s.ctl.putEvent(EMAIL, 'feedev0001', { summary: 'Review', start: { dateTime: '2031-06-02T10:00:00Z' }, end: { dateTime: '2031-06-02T11:00:00Z' } });
    await waitFor(async () => (await list({ after: start.cursor })).items.length === 1, { what: 'event.created in the feed' });
    await s.ctl.putEvent(EMAIL, 'feedev0001', { summary: 'Review (moved)', start: { dateTime: '2031-06-02T14:00:00Z' }, end: { dateTime: '2031-06-02T15:00:00Z' } });
    await waitFor(async () => (await list({ after: start.cursor })).items.length === 2, { what: 'event.updated in the feed' });
    await s.ctl.deleteEvent(EMAIL, 'feedev0001');
    await waitFor(async () => (await list({ after: start.cursor })).items.length === 3, { what: 'event.cancelled in the feed' });

    const got = await readAll({ after: start.cursor! });
    expect(got.items.map((i) => [i.type, i.googleEventId])).toEqual([
      ['event.created', 'feedev0001'],
      ['event.updated', 'feedev0001'],
      ['event.cancelled', 'feedev0001'],
    ]);
    const [created, updated, cancelled] = got.items;
    expect(created).toMatchObject({
      externalOwnerId: 'feed-fay',
      calendarId: EMAIL,
      event: { googleEventId: 'feedev0001', calendarId: EMAIL, status: 'confirmed', summary: 'Review', start: '2031-06-02T10:00:00.000Z', end: '2031-06-02T11:00:00.000Z', allDay: false },
    });
    expect(Object.keys(created!.event!).sort()).toEqual(['allDay', 'attendees', 'calendarId', 'end', 'eventType', 'googleEventId', 'start', 'status', 'summary', 'transparency', 'updated'].sort());
    expect(updated!.event).toMatchObject({ summary: 'Review (moved)', start: '2031-06-02T14:00:00.000Z' });
    expect(cancelled!.event).toBeNull();
    expect(Date.parse(cancelled!.occurredAt)).toBeGreaterThanOrEqual(Date.parse(created!.occurredAt));
    // Nothing newer: the same cursor comes back, and no item.
    const after = await list({ after: got.cursor });
    expect(after).toEqual({ items: [], nextCursor: got.cursor });
    mark = got.cursor;
  }, 30_000);

  test('filters: by owner and by calendar; limit', async () => {
    expect((await list({ externalOwnerId: 'nobody' })).items).toEqual([]);
    const byCal = await readAll({ calendarId: EMAIL });
    expect(byCal.items.map((i) => i.type)).toEqual(['calendar.added', 'event.created', 'event.updated', 'event.cancelled']);
    expect((await list({ externalOwnerId: 'feed-fay', limit: 1 })).items).toHaveLength(1);
  });

  test('two concurrent writers: a transaction that took its place first and commits last is not skipped', async () => {
    const ctx = s.t.service.ctx;
    const insert = (tx: typeof ctx.db, id: string) =>
      tx.execute(dsql`insert into changes (type, owner_id, external_owner_id, calendar_id, google_event_id, occurred_at)
                      values ('event.created', ${ownerId}, 'feed-fay', ${EMAIL}, ${id}, now())`);
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    let firstWrote!: () => void;
    const wrote = new Promise<void>((r) => (firstWrote = r));
    // The first writer takes its place (its transaction id) and holds on.
    const first = ctx.db.transaction(async (tx) => {
      await insert(tx as never, 'concurrent-first');
      firstWrote();
      await firstHeld;
    });
    await wrote;
    // The second commits meanwhile, after it in the feed's order.
    await ctx.db.transaction((tx) => insert(tx as never, 'concurrent-second'));
    // A reader now must not pass the first writer's place: it gets nothing (a global serial number
    // would hand it the second row, and its cursor would then skip the first).
    const meanwhile = await list({ after: mark });
    expect(meanwhile.items).toEqual([]);
    releaseFirst();
    await first;
    // (A transaction still running anywhere on the server holds the feed back too: waited for.)
    const got = await waitFor(async () => {
      const r = await readAll({ after: mark! });
      return r.items.length >= 2 ? r : undefined;
    }, { what: 'both rows' });
    expect(got.items.map((i) => i.googleEventId)).toEqual(['concurrent-first', 'concurrent-second']);
    mark = got.cursor;
  });

  test('a writer with the earlier transaction id that commits after a later one: both served once, after it ends', async () => {
    const ctx = s.t.service.ctx;
    let releaseEarly!: () => void;
    const held = new Promise<void>((r) => (releaseEarly = r));
    let gotId!: () => void;
    const idTaken = new Promise<void>((r) => (gotId = r));
    let lateCommitted!: () => void;
    const afterLate = new Promise<void>((r) => (lateCommitted = r));
    const early = ctx.db.transaction(async (tx) => {
      await tx.execute(dsql`select pg_current_xact_id()`); // its id taken first
      gotId();
      await afterLate;
      await tx.execute(dsql`insert into changes (type, owner_id, external_owner_id, calendar_id, google_event_id, occurred_at)
                            values ('event.created', ${ownerId}, 'feed-fay', ${EMAIL}, 'early-id', now())`);
      await held;
    });
    await idTaken;
    await ctx.db.transaction((tx) =>
      tx.execute(dsql`insert into changes (type, owner_id, external_owner_id, calendar_id, google_event_id, occurred_at)
                      values ('event.created', ${ownerId}, 'feed-fay', ${EMAIL}, 'late-id', now())`),
    );
    lateCommitted();
    await Bun.sleep(50);
    expect((await list({ after: mark })).items).toEqual([]);
    releaseEarly();
    await early;
    const got = await waitFor(async () => {
      const r = await readAll({ after: mark! });
      return r.items.length >= 2 ? r : undefined;
    }, { what: 'both rows' });
    expect(got.items.map((i) => i.googleEventId)).toEqual(['early-id', 'late-id']);
    mark = got.cursor;
  });

  test('another process on the same database: a cursor given by one reads on in the other, only what is newer', async () => {
    const before = mark!;
    const other = await startTestService({ name: 'changes-feed-b', emulatorUrl: s.emu.url, database: s.t.database as never, skipStartHooks: true });
    try {
      await s.ctl.putEvent(EMAIL, 'feedev0002', { summary: 'After', start: { dateTime: '2031-06-03T10:00:00Z' }, end: { dateTime: '2031-06-03T11:00:00Z' } });
      const got = await waitFor(async () => {
        const r = await other.trpc<Page>('changes.list', { after: before });
        return r.body.result!.data.items.length === 1 ? r.body.result!.data : undefined;
      }, { what: 'the change, read from the other process' });
      expect(got.items.map((i) => [i.type, i.googleEventId])).toEqual([['event.created', 'feedev0002']]);
      mark = got.nextCursor;
    } finally {
      await other.stop();
    }
  }, 30_000);

  test('a thin subscription receives changes.available with the cursor up to which the feed has them', async () => {
    const rx = startReceiver();
    try {
      const created = await s.t.trpc<{ id: string; secret: string }>('subscriptions.create', { url: rx.url('/thin'), externalOwnerId: 'feed-fay', payload: 'thin' });
      rx.secret('/thin', created.body.result!.data.secret);
      const full = await s.t.trpc<{ id: string; secret: string }>('subscriptions.create', { url: rx.url('/full'), externalOwnerId: 'feed-fay' });
      rx.secret('/full', full.body.result!.data.secret);
      const before = mark!;
      await s.ctl.putEvent(EMAIL, 'feedev0003', { summary: 'Thin', start: { dateTime: '2031-06-04T10:00:00Z' }, end: { dateTime: '2031-06-04T11:00:00Z' } });
      const [notice] = await waitFor(() => (rx.ok('/thin').length ? rx.ok('/thin') : undefined), { what: 'changes.available' });
      expect(notice!.verified).toBe(true);
      expect(notice!.body).toEqual({ type: 'changes.available', externalOwnerId: 'feed-fay', calendarId: EMAIL, cursor: expect.any(String), occurredAt: expect.any(String) });
      const got = await waitFor(async () => {
        const r = await readAll({ after: before });
        return r.cursor === notice!.body.cursor ? r : undefined;
      }, { what: 'the feed up to the notice cursor' });
      expect(got.items.map((i) => [i.type, i.googleEventId])).toEqual([['event.created', 'feedev0003']]);
      // A full subscription beside it still gets the change itself.
      await waitFor(() => rx.ok('/full').some((r) => r.body.type === 'event.created' && r.body.data.googleEventId === 'feedev0003'), { what: 'the full delivery' });
      expect(rx.ok('/thin')).toHaveLength(1);
      mark = got.cursor;
    } finally {
      await rx.stop();
    }
  }, 30_000);

  test('a cursor older than CHANGES_RETENTION_DAYS: PRECONDITION_FAILED, resync from events.list', async () => {
    const ctx = s.t.service.ctx;
    const first = (await list({ limit: 1 })).items[0]!;
    await s.sql`update changes set occurred_at = now() - interval '40 days' where (xid, seq) <= (${first.cursor.split('.')[0]!}::xid8, ${Number(first.cursor.split('.')[1])}) `;
    await s.sql`update changes set occurred_at = now() - interval '40 days' where google_event_id = 'feedev0001'`;
    const pruned = await pruneChanges(ctx);
    expect(pruned.deleted).toBeGreaterThan(0);
    const r = await s.t.trpc('changes.list', { after: first.cursor });
    expect(r.body.error!.data.code).toBe('PRECONDITION_FAILED');
    expect(r.body.error!.message).toContain('events.list');
    // A cursor past what was pruned still reads.
    expect((await list({ after: mark })).items).toEqual([]);
  });

  test('the order is numeric in the transaction id (a 2-digit id before a 3-digit one)', async () => {
    for (const xid of ['100', '99']) {
      await s.sql`insert into changes (xid, type, owner_id, external_owner_id, calendar_id, occurred_at)
                  values (${xid}::xid8, 'event.created', ${ownerId}, 'feed-digits', 'digits@example.com', now())`;
    }
    // One page: these ids are far below what was pruned, so a cursor between them is refused.
    const got = await list({ externalOwnerId: 'feed-digits', limit: 10 });
    expect(got.items.map((i) => i.cursor.split('.')[0])).toEqual(['99', '100']);
  });

  test('errors: malformed cursor, limit out of 1..1000, no token', async () => {
    for (const input of [{ after: 'abc' }, { after: '1.2.3' }, { limit: 0 }, { limit: 1001 }]) {
      const r = await s.t.trpc('changes.list', input);
      expect(r.body.error!.data.code).toBe('BAD_REQUEST');
    }
    const anon = await s.t.trpc('changes.list', {}, { token: null });
    expect(anon.status).toBe(401);
  });
});
