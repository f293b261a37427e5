// events.list / calendarList.list conformance: paging, incremental sync with sync tokens, 410 after
// invalidation, filters, all through the real googleapis client.

import { describe, expect, test } from 'bun:test';
import { control, failure, listAll, newUser } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite({ user: 'alice@example.com' });

function at(day: number, hour: number): string {
  return new Date(Date.UTC(2030, 0, day, hour)).toISOString();
}

async function insertMany(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await suite.user.calendar.events.insert({
      calendarId: 'primary',
      requestBody: { summary: `event ${i}`, start: { dateTime: at(1 + (i % 28), 9) }, end: { dateTime: at(1 + (i % 28), 10) } },
    });
    ids.push(res.data.id ?? '');
  }
  return ids;
}

// Google's 410 body, verbatim (errors guide; identical in captured traffic).
const FULL_SYNC_REQUIRED = {
  error: {
    errors: [{
      domain: 'calendar', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.',
      locationType: 'parameter', location: 'syncToken',
    }],
    code: 410,
    message: 'Sync token is no longer valid, a full sync is required.',
  },
};

describe('events.list sync', () => {
  test('full sync over several pages, then an incremental sync with only the changes', async () => {
    const ids = await insertMany(25);
    const full = await listAll(suite.user.calendar, { calendarId: 'primary', maxResults: 10 });
    expect(full.pages).toBe(3);
    expect(full.items.map((e) => e.id).sort()).toEqual([...ids].sort());
    for (const e of full.items) {
      expect(e.kind).toBe('calendar#event');
      expect(e.etag).toMatch(/^"\d{16}"$/);
      expect(e.organizer).toEqual({ email: 'alice@example.com', self: true });
      expect(e.iCalUID).toBe(`${e.id}@google.com`);
    }

    // Changes: patch one, delete one, insert one, and a person edits one in Google Calendar.
    await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ids[3] ?? '', requestBody: { summary: 'moved' } });
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: ids[7] ?? '' });
    const added = await suite.user.calendar.events.insert({
      calendarId: 'primary', requestBody: { summary: 'new', start: { date: '2030-02-01' }, end: { date: '2030-02-02' } },
    });
    const personEdit = await control<{ etag: string }>(suite.emu, 'PUT', `calendars/alice@example.com/events/${ids[11]}`, {
      summary: 'edited in the UI', start: { dateTime: at(5, 9) }, end: { dateTime: at(5, 11) },
    });

    const incr = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken });
    expect(incr.data.nextPageToken).toBeUndefined();
    expect(incr.data.nextSyncToken).toBeString();
    const items = incr.data.items ?? [];
    expect(items.map((e) => e.id).sort()).toEqual([ids[3], ids[7], added.data.id, ids[11]].map(String).sort());
    const byId = new Map(items.map((e) => [e.id, e]));
    expect(byId.get(ids[3])?.summary).toBe('moved');
    expect(byId.get(ids[11])?.etag).toBe(personEdit.etag);
    // Deleted events come back in Google's minimal cancelled form.
    const tomb = byId.get(ids[7]);
    expect(Object.keys(tomb ?? {}).sort()).toEqual(['etag', 'id', 'kind', 'status']);
    expect(tomb?.status).toBe('cancelled');

    // Nothing changed since: an empty page and a token again.
    const again = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: incr.data.nextSyncToken ?? '' });
    expect(again.data.items).toEqual([]);
    expect(again.data.nextSyncToken).toBeString();
  });

  test('incremental results page too, with the same syncToken and a pageToken', async () => {
    await insertMany(3);
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    await insertMany(7);
    const incr = await listAll(suite.user.calendar, { calendarId: 'primary', syncToken: full.syncToken, maxResults: 3 });
    expect(incr.pages).toBe(3);
    expect(incr.items).toHaveLength(7);
  });

  test('pages stay consistent while events change between pages', async () => {
    const ids = await insertMany(30);
    const p1 = await suite.user.calendar.events.list({ calendarId: 'primary', maxResults: 10 });
    const seen = new Set((p1.data.items ?? []).map((e) => e.id));
    // Between pages: change an event already returned, one not yet returned, delete one, add one.
    const notYet = ids.find((id) => !seen.has(id)) ?? '';
    await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: notYet, requestBody: { summary: 'changed mid-sync' } });
    await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: ids[0] ?? '', requestBody: { summary: 'changed after read' } });
    const rest = await listAll(suite.user.calendar, { calendarId: 'primary', maxResults: 10, pageToken: p1.data.nextPageToken ?? '' });
    const fullIds = [...seen, ...rest.items.map((e) => e.id)];
    // No duplicates; anything missed by the snapshot is delivered by the following incremental sync.
    expect(new Set(fullIds).size).toBe(fullIds.length);
    const incr = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: rest.syncToken });
    const union = new Set([...fullIds, ...(incr.data.items ?? []).map((e) => e.id)]);
    expect(union.size).toBe(30);
    expect((incr.data.items ?? []).find((e) => e.id === notYet)?.summary).toBe('changed mid-sync');
    expect((incr.data.items ?? []).find((e) => e.id === ids[0])?.summary).toBe('changed after read');
  });

  test('410 fullSyncRequired after the tokens are invalidated, 400 for a garbage token', async () => {
    await insertMany(2);
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    await control(suite.emu, 'POST', 'calendars/alice@example.com/invalidate-sync-tokens');
    const gone = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken }));
    expect(gone.status).toBe(410);
    expect(gone.body).toEqual(FULL_SYNC_REQUIRED);
    // A new full sync yields a working token.
    const again = await listAll(suite.user.calendar, { calendarId: 'primary' });
    expect((await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: again.syncToken })).status).toBe(200);

    const garbage = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', syncToken: 'x' }));
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.errors[0]).toEqual({ domain: 'global', reason: 'invalid', message: 'Invalid Value' });

    // After a reset every earlier token is stale.
    await control(suite.emu, 'POST', 'reset');
    suite.user = await newUser(suite.emu, 'alice@example.com');
    expect((await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', syncToken: again.syncToken }))).status).toBe(410);
  });

  test('parameters Google forbids with syncToken are rejected', async () => {
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    for (const extra of [{ timeMin: at(1, 0) }, { timeMax: at(1, 0) }, { q: 'x' }, { orderBy: 'updated' }, { updatedMin: at(1, 0) }, { iCalUID: 'a@b' }, { showDeleted: false }]) {
      const err = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken, ...extra }));
      expect(err.status).toBe(400);
    }
  });

  test('timeMin/timeMax bound end and start exclusively; timeRangeEmpty; showDeleted', async () => {
    const mk = async (summary: string, s: string, e: string): Promise<string> =>
      (await suite.user.calendar.events.insert({ calendarId: 'primary', requestBody: { summary, start: { dateTime: s }, end: { dateTime: e } } })).data.id ?? '';
    await mk('ends at min', at(10, 8), at(10, 9));
    const inside = await mk('inside', at(10, 9), at(10, 10));
    await mk('starts at max', at(10, 12), at(10, 13));
    const gone = await mk('deleted', at(10, 9), at(10, 10));
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: gone });
    const res = await suite.user.calendar.events.list({ calendarId: 'primary', timeMin: at(10, 9), timeMax: at(10, 12) });
    expect((res.data.items ?? []).map((e) => e.summary)).toEqual(['inside']);
    const withDeleted = await suite.user.calendar.events.list({ calendarId: 'primary', timeMin: at(10, 9), timeMax: at(10, 12), showDeleted: true });
    expect((withDeleted.data.items ?? []).map((e) => e.id).sort()).toEqual([inside, gone].sort());
    // With showDeleted the deleted event keeps its details.
    expect((withDeleted.data.items ?? []).find((e) => e.id === gone)?.summary).toBe('deleted');

    const empty = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', timeMin: at(10, 12), timeMax: at(10, 9) }));
    expect(empty.status).toBe(400);
    expect(empty.body.error.errors[0]?.reason).toBe('timeRangeEmpty');
  });

  test('updatedMin returns later changes, deleted ones included regardless of showDeleted', async () => {
    const [a, b] = await insertMany(3);
    await Bun.sleep(5);
    const since = new Date().toISOString();
    await Bun.sleep(5);
    await suite.user.calendar.events.patch({ calendarId: 'primary', eventId: a ?? '', requestBody: { summary: 'late' } });
    await suite.user.calendar.events.delete({ calendarId: 'primary', eventId: b ?? '' });
    const res = await suite.user.calendar.events.list({ calendarId: 'primary', updatedMin: since });
    expect((res.data.items ?? []).map((e) => [e.id, e.status]).sort()).toEqual([[a, 'confirmed'], [b, 'cancelled']].sort() as never);
  });

  test('maxResults is capped at 2500 and the envelope carries Google fields', async () => {
    await insertMany(1);
    const res = await suite.user.calendar.events.list({ calendarId: 'primary', maxResults: 100000 });
    expect(res.data).toMatchObject({ kind: 'calendar#events', summary: 'alice@example.com', timeZone: 'UTC', accessRole: 'owner' });
    expect(res.data.etag).toMatch(/^"p3[0-9a-v]+"$/);
    expect(res.data.items).toHaveLength(1);
  });
});

describe('token lifetimes', () => {
  test('a sync token older than the lifetime answers 410 fullSyncRequired; updatedMin that far back 410 updatedMinTooLongAgo', async () => {
    await control(suite.emu, 'POST', 'config', { syncTokenTtlSeconds: 3600 });
    await insertMany(2);
    const full = await listAll(suite.user.calendar, { calendarId: 'primary' });
    const since = new Date().toISOString();
    // Young enough: it works (and its answer carries a fresh token).
    await control(suite.emu, 'POST', 'token-clock', { advanceSeconds: 3000 });
    const fresh = await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken });
    expect(fresh.status).toBe(200);
    await control(suite.emu, 'POST', 'token-clock', { advanceSeconds: 700 });
    const gone = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', syncToken: full.syncToken }));
    expect(gone.status).toBe(410);
    expect(gone.body).toEqual(FULL_SYNC_REQUIRED);
    // The token from the later sync is 700 s old: still good.
    expect((await suite.user.calendar.events.list({ calendarId: 'primary', syncToken: fresh.data.nextSyncToken ?? '' })).status).toBe(200);
    // updatedMin 3700 s back on the token clock is further back than Google keeps deletions.
    const old = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', updatedMin: since }));
    expect(old.status).toBe(410);
    expect(old.body).toEqual({
      error: {
        errors: [{
          domain: 'calendar', reason: 'updatedMinTooLongAgo', message: 'The requested minimum modification time lies too far in the past.',
          locationType: 'parameter', location: 'updatedMin',
        }],
        code: 410,
        message: 'The requested minimum modification time lies too far in the past.',
      },
    });
    // Calendar lists' tokens age the same way.
    const list = await suite.user.calendar.calendarList.list();
    await control(suite.emu, 'POST', 'token-clock', { advanceSeconds: 3601 });
    expect((await failure(() => suite.user.calendar.calendarList.list({ syncToken: list.data.nextSyncToken ?? '' }))).status).toBe(410);
  });

  test('a page token answers only its own query, and only while its listing is younger than the page-token lifetime (else 400 Invalid Value)', async () => {
    await control(suite.emu, 'POST', 'config', { pageTokenTtlSeconds: 600 });
    await insertMany(6);
    const p1 = await suite.user.calendar.events.list({ calendarId: 'primary', maxResults: 2, singleEvents: false });
    const token = p1.data.nextPageToken ?? '';
    expect(token).not.toBe('');
    const INVALID = { domain: 'global', reason: 'invalid', message: 'Invalid Value' };
    // Another query (showDeleted added, singleEvents changed, a time bound) with this page token: 400.
    for (const other of [{ showDeleted: true }, { singleEvents: true }, { timeMin: at(1, 0) }]) {
      const err = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', maxResults: 2, singleEvents: false, pageToken: token, ...other }));
      expect(err.status).toBe(400);
      expect(err.body.error.errors[0]).toEqual(INVALID);
    }
    // A full listing's page token with a sync token is another query too.
    const synced = await listAll(suite.user.calendar, { calendarId: 'primary' });
    expect((await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', syncToken: synced.syncToken, pageToken: token }))).status).toBe(400);
    // The same query goes on (a different maxResults is the same query), page after page, within the lifetime...
    await control(suite.emu, 'POST', 'token-clock', { advanceSeconds: 300 });
    const p2 = await suite.user.calendar.events.list({ calendarId: 'primary', maxResults: 3, singleEvents: false, pageToken: token });
    expect(p2.data.items).toHaveLength(3);
    // ...and the age counts from the listing's first page, not from the page that issued the token.
    await control(suite.emu, 'POST', 'token-clock', { advanceSeconds: 301 });
    const late = await failure(() => suite.user.calendar.events.list({ calendarId: 'primary', maxResults: 3, singleEvents: false, pageToken: p2.data.nextPageToken ?? '' }));
    expect(late.status).toBe(400);
    expect(late.body.error.errors[0]).toEqual(INVALID);
    // Calendar-list page tokens too.
    for (let i = 0; i < 3; i++) await control(suite.emu, 'POST', 'calendars', { owner: 'alice@example.com', summary: `Cal ${i}` });
    const l1 = await suite.user.calendar.calendarList.list({ maxResults: 2 });
    expect((await failure(() => suite.user.calendar.calendarList.list({ maxResults: 2, showDeleted: true, pageToken: l1.data.nextPageToken ?? '' }))).status).toBe(400);
    await control(suite.emu, 'POST', 'token-clock', { advanceSeconds: 601 });
    expect((await failure(() => suite.user.calendar.calendarList.list({ maxResults: 2, pageToken: l1.data.nextPageToken ?? '' }))).status).toBe(400);
  });
});

describe('calendarList', () => {
  test('pages, sync tokens and shared calendars', async () => {
    for (let i = 0; i < 4; i++) await control(suite.emu, 'POST', 'calendars', { owner: 'alice@example.com', summary: `Cal ${i}`, timeZone: 'Europe/Paris' });
    const p1 = await suite.user.calendar.calendarList.list({ maxResults: 2 });
    expect(p1.data.kind).toBe('calendar#calendarList');
    expect(p1.data.items).toHaveLength(2);
    expect(p1.data.nextSyncToken).toBeUndefined();
    const p2 = await suite.user.calendar.calendarList.list({ maxResults: 2, pageToken: p1.data.nextPageToken ?? '' });
    const p3 = await suite.user.calendar.calendarList.list({ maxResults: 2, pageToken: p2.data.nextPageToken ?? '' });
    const all = [...(p1.data.items ?? []), ...(p2.data.items ?? []), ...(p3.data.items ?? [])];
    expect(all).toHaveLength(5);
    const primary = all.find((e) => e.primary);
    expect(primary).toMatchObject({ id: 'alice@example.com', accessRole: 'owner', kind: 'calendar#calendarListEntry' });
    expect(p3.data.nextSyncToken).toBeString();

    // Bob shares a calendar with Alice (writer): it shows up in her incremental list.
    const { id: shared } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', {
      owner: 'bob@example.com', summary: 'Team', timeZone: 'UTC', members: [{ email: 'alice@example.com', role: 'writer' }],
    });
    const incr = await suite.user.calendar.calendarList.list({ syncToken: p3.data.nextSyncToken ?? '' });
    expect(incr.data.items?.map((e) => [e.id, e.accessRole])).toEqual([[shared, 'writer']]);
    // And Alice can read its events (calendarId with '@' is URL-encoded by googleapis).
    expect((await suite.user.calendar.events.list({ calendarId: shared })).data.accessRole).toBe('writer');

    // A calendar deleted from the lists comes back as deleted in the next incremental sync.
    await control(suite.emu, 'DELETE', `calendars/${encodeURIComponent(shared)}`);
    const after = await suite.user.calendar.calendarList.list({ syncToken: incr.data.nextSyncToken ?? '' });
    expect(after.data.items).toEqual([expect.objectContaining({ id: shared, deleted: true })]);
    expect((await failure(() => suite.user.calendar.events.list({ calendarId: shared }))).status).toBe(404);
  });

  test('minAccessRole cannot be combined with syncToken; calendars.get resolves primary', async () => {
    const full = await suite.user.calendar.calendarList.list();
    const err = await failure(() => suite.user.calendar.calendarList.list({ syncToken: full.data.nextSyncToken ?? '', minAccessRole: 'owner' }));
    expect(err.status).toBe(400);
    const cal = await suite.user.calendar.calendars.get({ calendarId: 'primary' });
    expect(cal.data).toMatchObject({ kind: 'calendar#calendar', id: 'alice@example.com', timeZone: 'UTC' });
    expect((await failure(() => suite.user.calendar.calendars.get({ calendarId: 'nobody@example.com' }))).body.error.errors[0]?.reason).toBe('notFound');
  });

  test('a calendar whose properties or access role change is not in the incremental list; full lists, calendars.get and events.list show the change', async () => {
    const { id } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', {
      owner: 'bob@example.com', id: 'team-props@group.calendar.google.com', summary: 'Team', timeZone: 'UTC', members: [{ email: 'alice@example.com', role: 'reader' }],
    });
    const before = await suite.user.calendar.calendarList.list();
    // The owner renames it, moves its zone, and makes Alice a writer.
    await control(suite.emu, 'POST', 'calendars', { owner: 'bob@example.com', id, summary: 'Team (renamed)', timeZone: 'Asia/Tokyo', members: [{ email: 'alice@example.com', role: 'writer' }] });
    const incr = await suite.user.calendar.calendarList.list({ syncToken: before.data.nextSyncToken ?? '' });
    expect(incr.data.items).toEqual([]);
    const full = await suite.user.calendar.calendarList.list();
    expect(full.data.items?.find((e) => e.id === id)).toMatchObject({ summary: 'Team (renamed)', timeZone: 'Asia/Tokyo', accessRole: 'writer' });
    expect((await suite.user.calendar.calendars.get({ calendarId: id })).data.timeZone).toBe('Asia/Tokyo');
    const events = await suite.user.calendar.events.list({ calendarId: id });
    expect(events.data).toMatchObject({ timeZone: 'Asia/Tokyo', accessRole: 'writer', summary: 'Team (renamed)' });
  });

  test('hidden entries: left out of a full list unless showHidden, always in incremental lists, marked hidden: true', async () => {
    const { id } = await control<{ id: string }>(suite.emu, 'POST', 'calendars', { owner: 'alice@example.com', summary: 'Side' });
    const before = await suite.user.calendar.calendarList.list();
    expect(before.data.items?.find((e) => e.id === id)?.hidden).toBeUndefined();
    await control(suite.emu, 'POST', `users/alice@example.com/calendar-list/${encodeURIComponent(id)}/hidden`, { hidden: true });
    const incr = await suite.user.calendar.calendarList.list({ syncToken: before.data.nextSyncToken ?? '' });
    expect(incr.data.items).toEqual([expect.objectContaining({ id, hidden: true })]);
    expect((await suite.user.calendar.calendarList.list()).data.items?.map((e) => e.id)).not.toContain(id);
    expect((await suite.user.calendar.calendarList.list({ showHidden: true })).data.items?.find((e) => e.id === id)?.hidden).toBe(true);
    const err = await failure(() => suite.user.calendar.calendarList.list({ syncToken: incr.data.nextSyncToken ?? '', showHidden: false }));
    expect(err.status).toBe(400);
    // Shown again: the entry comes back in the next incremental list, without `hidden`.
    await control(suite.emu, 'POST', `users/alice@example.com/calendar-list/${encodeURIComponent(id)}/hidden`, { hidden: false });
    const back = await suite.user.calendar.calendarList.list({ syncToken: incr.data.nextSyncToken ?? '' });
    expect(back.data.items).toHaveLength(1);
    expect(back.data.items?.[0]?.hidden).toBeUndefined();
  });
});
