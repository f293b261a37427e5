// The calendar list and the selection: new calendars appear (only the primary selected by default),
// calendars deleted at Google are marked and their events removed, setSelected starts a full sync
// or drops the events, and two owners sharing a calendar each keep their own row and sync token.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule, CalendarChange } from '../../src/context/index.ts';
import { enqueueCalendarListSync, enqueueEventSync, getCalendar, listSelectedCalendars } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startSyncHarness, timed, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const EMAIL = 'sel-dana@example.com';
const OWNER = 'sel-owner';
const TEAM = 'team-sel@group.calendar.google.com';
let ownerId: string;
const changes: CalendarChange[] = [];
const kinds = (calendarId: string) => changes.filter((c) => c.calendarId === calendarId && c.ownerId === ownerId).map((c) => c.kind);

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-selection',
  reactions: {
    calendarChanges: async (_ctx, c) => {
      changes.push(c);
    },
  },
};

beforeAll(async () => {
  h = await startSyncHarness('sync-selection', { extraModules: [probe] });
  await h.emuJson('users', { email: EMAIL, timeZone: 'Europe/Berlin' });
  await h.emuJson('calendars', { owner: EMAIL, id: TEAM, summary: 'Team', timeZone: 'Asia/Tokyo' });
  for (let i = 0; i < 4; i++) await h.putEvent(TEAM, `teamevt0${i}`, timed(`team ${i}`, `2031-06-0${i + 1}T01:00:00Z`, `2031-06-0${i + 1}T02:00:00Z`));
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER));
}, 60_000);
afterAll(() => h?.stop(), 30_000);

describe('after LINKED', () => {
  test('every calendar of the list appears; only the primary is selected and synced', async () => {
    const team = await h.calendar(ownerId, TEAM);
    expect(team).toMatchObject({ selected: false, primary: false, summary: 'Team', timeZone: 'Asia/Tokyo', deleted: false, externalOwnerId: OWNER });
    expect((await h.mirror(team.id)).size).toBe(0);
    expect((await listSelectedCalendars(h.t.service.ctx, { ownerId })).map((c) => c.calendarId)).toEqual([EMAIL]);
    expect(kinds(TEAM)).toEqual(['added']);
    expect(kinds(EMAIL)).toEqual(['added', 'selected', 'fullSynced']);
  });

  test('links.get lists the calendars with their selection and last sync', async () => {
    const r = await h.t.trpc<{ calendars: Array<{ calendarId: string; selected: boolean; primary: boolean; lastSyncedAt: string | null }> }>('links.get', { externalOwnerId: OWNER });
    const cals = r.body.result!.data.calendars;
    expect(cals.map((c) => [c.calendarId, c.primary, c.selected])).toEqual([
      [EMAIL, true, true],
      [TEAM, false, false],
    ]);
    expect(cals[0]!.lastSyncedAt).not.toBeNull();
  });
});

describe('calendars.setSelected', () => {
  test('selecting starts a full sync of that calendar', async () => {
    const r = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: TEAM, selected: true });
    expect(r.body.result?.data).toMatchObject({ calendarId: TEAM, selected: true, primary: false });
    const team = await h.calendar(ownerId, TEAM);
    await waitFor(async () => (await getCalendar(h.t.service.ctx, team.id))?.lastFullSyncAt, { what: 'full sync of the team calendar' });
    const mirror = await h.mirror(team.id);
    expect([...mirror.keys()].sort()).toEqual(['teamevt00', 'teamevt01', 'teamevt02', 'teamevt03']);
    expect(kinds(TEAM)).toEqual(['added', 'selected', 'fullSynced']);
    // Selecting again changes nothing.
    const again = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: TEAM, selected: true });
    expect(again.body.result?.data).toMatchObject({ selected: true });
    expect(kinds(TEAM)).toEqual(['added', 'selected', 'fullSynced']);
  });

  test('deselecting removes its events and its token at once; reselecting brings them back', async () => {
    const team = await h.calendar(ownerId, TEAM);
    const r = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: TEAM, selected: false });
    expect(r.body.result?.data).toMatchObject({ selected: false });
    expect((await h.mirror(team.id)).size).toBe(0);
    expect((await h.calendar(ownerId, TEAM)).hasSyncToken).toBe(false);
    expect(kinds(TEAM).at(-1)).toBe('deselected');
    const listed = await h.t.trpc<{ items: unknown[] }>('events.list', { externalOwnerId: OWNER, from: '2031-06-01T00:00:00Z', to: '2031-07-01T00:00:00Z' });
    expect(listed.body.result!.data.items).toEqual([]);

    // Meanwhile at Google: one event more.
    await h.putEvent(TEAM, 'teamevt04', timed('team 4', '2031-06-05T01:00:00Z', '2031-06-05T02:00:00Z'));
    const before = (await h.calendar(ownerId, TEAM)).lastFullSyncAt;
    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: TEAM, selected: true });
    await waitFor(async () => {
      const c = await getCalendar(h.t.service.ctx, team.id);
      return c?.lastFullSyncAt && (!before || c.lastFullSyncAt > before) ? c : undefined;
    }, { what: 'the full sync after reselection' });
    expect((await h.mirror(team.id)).size).toBe(5);
    expect(kinds(TEAM).slice(-3)).toEqual(['deselected', 'selected', 'fullSynced']);
    const listed2 = await h.t.trpc<{ items: Array<{ calendarId: string }> }>('events.list', { externalOwnerId: OWNER, calendarId: TEAM, from: '2031-06-01T00:00:00Z', to: '2031-07-01T00:00:00Z' });
    expect(listed2.body.result!.data.items.length).toBe(5);
    expect(listed2.body.result!.data.items.every((i) => i.calendarId === TEAM)).toBe(true);
  });

  test('errors: unknown calendar, unknown owner, bad input, no token', async () => {
    const unknown = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: 'nope@example.com', selected: true });
    expect(unknown.body.error?.data.code).toBe('NOT_FOUND');
    const noOwner = await h.t.trpc('calendars.setSelected', { externalOwnerId: 'ghost', calendarId: TEAM, selected: true });
    expect(noOwner.body.error?.data.code).toBe('NOT_FOUND');
    const bad = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: TEAM, selected: 'yes' });
    expect(bad.body.error?.data.code).toBe('BAD_REQUEST');
    const anon = await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: TEAM, selected: false }, { token: null });
    expect(anon.status).toBe(401);
    expect((await h.calendar(ownerId, TEAM)).selected).toBe(true);
  });
});

describe('calendar list sync', () => {
  test('a calendar added at Google appears unselected; one deleted at Google is marked and its events removed', async () => {
    const NEW = 'new-sel@group.calendar.google.com';
    await h.emuJson('calendars', { owner: EMAIL, id: NEW, summary: 'New one', timeZone: 'UTC' });
    const team = await h.calendar(ownerId, TEAM);
    expect((await h.mirror(team.id)).size).toBe(5);
    await h.emuJson(`calendars/${encodeURIComponent(TEAM)}`, undefined, 'DELETE');
    const mark = await h.requestMark();
    await enqueueCalendarListSync(h.t.service.ctx, ownerId);
    await waitFor(async () => (await getCalendar(h.t.service.ctx, team.id))?.deleted, { what: 'team calendar marked deleted' });
    const added = await waitFor(async () => h.calendar(ownerId, NEW).catch(() => undefined), { what: 'the new calendar' });
    expect(added.selected).toBe(false);
    expect((await h.mirror(team.id)).size).toBe(0);
    expect(kinds(TEAM).at(-1)).toBe('removed');
    expect(kinds(NEW)).toEqual(['added']);
    const listCalls = (await h.requests(mark, '/users/me/calendarList')).filter((r) => r.method === 'GET');
    expect(listCalls.length).toBe(1);
    expect(listCalls[0]!.query.syncToken).toBeDefined();
    const selected = await listSelectedCalendars(h.t.service.ctx, { ownerId });
    expect(selected.map((c) => c.calendarId)).toEqual([EMAIL]);
  });

  test('a selected calendar that answers 404 is marked deleted by its event sync', async () => {
    const GONE = 'gone-sel@group.calendar.google.com';
    await h.emuJson('calendars', { owner: EMAIL, id: GONE, summary: 'Soon gone', timeZone: 'UTC' });
    await enqueueCalendarListSync(h.t.service.ctx, ownerId);
    const gone = await waitFor(async () => h.calendar(ownerId, GONE).catch(() => undefined), { what: 'calendar listed' });
    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: GONE, selected: true });
    await waitFor(async () => (await getCalendar(h.t.service.ctx, gone.id))?.lastFullSyncAt, { what: 'first sync' });
    await h.emuJson(`calendars/${encodeURIComponent(GONE)}`, undefined, 'DELETE');
    await enqueueEventSync(h.t.service.ctx, gone.id, { reason: 'notification' });
    const after = await waitFor(async () => {
      const c = await getCalendar(h.t.service.ctx, gone.id);
      return c?.deleted ? c : undefined;
    }, { what: '404 marks the calendar deleted' });
    expect(after.selected).toBe(false);
    expect(after.syncError).toMatch(/404/);
    expect(kinds(GONE).at(-1)).toBe('removed');
  });
});

describe('a calendar shared by two owners', () => {
  test('each owner has its own row and its own sync token, used with its own credentials', async () => {
    const SHARED = 'shared-sel@group.calendar.google.com';
    const other = 'sel-erin@example.com';
    await h.emuJson('users', { email: other });
    await h.emuJson('calendars', { owner: EMAIL, id: SHARED, summary: 'Shared', timeZone: 'UTC', members: [{ email: other, role: 'writer' }] });
    await h.putEvent(SHARED, 'sharedevt1', timed('shared', '2031-07-01T10:00:00Z', '2031-07-01T11:00:00Z'));
    const erin = await h.linkOwner(other, 'sel-owner-erin');
    await enqueueCalendarListSync(h.t.service.ctx, ownerId);
    const mine = await waitFor(async () => h.calendar(ownerId, SHARED).catch(() => undefined), { what: 'shared calendar in my list' });
    const theirs = await waitFor(async () => h.calendar(erin.ownerId, SHARED).catch(() => undefined), { what: 'shared calendar in their list' });
    expect(mine.id).not.toBe(theirs.id);
    await h.t.trpc('calendars.setSelected', { externalOwnerId: OWNER, calendarId: SHARED, selected: true });
    await h.t.trpc('calendars.setSelected', { externalOwnerId: 'sel-owner-erin', calendarId: SHARED, selected: true });
    await waitFor(async () => (await getCalendar(h.t.service.ctx, mine.id))?.lastFullSyncAt, { what: 'my sync' });
    await waitFor(async () => (await getCalendar(h.t.service.ctx, theirs.id))?.lastFullSyncAt, { what: 'their sync' });
    expect((await h.mirror(mine.id)).has('sharedevt1')).toBe(true);
    expect((await h.mirror(theirs.id)).has('sharedevt1')).toBe(true);

    const tokenOf = async (id: string) => (await h.sql`select sync_token from calendars where id = ${id}`)[0]!.sync_token as string;
    const theirToken = await tokenOf(theirs.id);
    await h.putEvent(SHARED, 'sharedevt2', timed('shared 2', '2031-07-02T10:00:00Z', '2031-07-02T11:00:00Z'));
    const mark = await h.requestMark();
    const before = await getCalendar(h.t.service.ctx, mine.id);
    await enqueueEventSync(h.t.service.ctx, mine.id, { reason: 'notification' });
    await h.syncedAfter(mine.id, before!.lastSyncedAt);
    // Only my row moved on; their token is untouched and their mirror not yet updated.
    expect(await tokenOf(theirs.id)).toBe(theirToken);
    expect((await h.mirror(mine.id)).has('sharedevt2')).toBe(true);
    expect((await h.mirror(theirs.id)).has('sharedevt2')).toBe(false);
    const calls = (await h.requests(mark, `/calendars/${encodeURIComponent(SHARED)}/events`)).filter((r) => r.method === 'GET');
    expect(calls.map((c: any) => c.user)).toEqual([EMAIL]);
  });
});
