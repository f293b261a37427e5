// Calendar properties Google never sends by incremental calendar list: "If only
// read-only fields such as calendar properties or ACLs have changed, the entry won't be returned".
// A selected calendar's time zone (and access role) come with every events.list page: the calendar
// takes them, and its all-day events move to the new local midnights, reported as updated. Every
// calendar's properties are re-read by a full list once SYNC_CALENDAR_REFRESH_SECONDS have passed
// (the hourly sync.refreshCalendars cron); hidden calendars stay the owner's.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CalwatchModule, ChangeSet } from '../../src/context/index.ts';
import { enqueueCalendarListSync, enqueueEventSync, refreshCalendarsJob } from '../../src/sync/index.ts';
import { waitFor } from '../support/service.ts';
import { startSyncHarness, type SyncHarness } from './harness.ts';

let h: SyncHarness;
const EMAIL = 'props-paula@example.com';
const BOB = 'props-bob@example.com';
const TEAM = 'props-team@group.calendar.google.com';
const SIDE = 'props-side@group.calendar.google.com';
let ownerId: string;
const sets: ChangeSet[] = [];

/** Records what the sync hands its reactors, wired after the built-in modules. */
const probe: CalwatchModule = {
  name: 'sync-test-calendar-properties',
  reactions: {
    eventChanges: async (_ctx, cs) => {
      if (cs.calendarId === EMAIL) sets.push(cs);
    },
  },
};

beforeAll(async () => {
  h = await startSyncHarness('sync-calendar-properties', { extraModules: [probe] });
  await h.emuJson('users', { email: EMAIL, timeZone: 'UTC' });
  await h.emuJson('calendars', { owner: BOB, id: TEAM, summary: 'Team', timeZone: 'UTC', members: [{ email: EMAIL, role: 'reader' }] });
  await h.emuJson('calendars', { owner: EMAIL, id: SIDE, summary: 'Side', timeZone: 'UTC' });
  await h.putEvent(EMAIL, 'propsday01', { summary: 'holiday', start: { date: '2031-12-10' }, end: { date: '2031-12-11' } });
  ({ ownerId } = await h.linkOwner(EMAIL, 'props-owner'));
}, 60_000);
afterAll(() => h?.stop(), 30_000);

async function listSynced(after: Date | null): Promise<void> {
  await enqueueCalendarListSync(h.t.service.ctx, ownerId, { reason: 'manual' });
  await waitFor(async () => {
    const [row] = await h.sql`select last_synced_at from calendar_lists where owner_id = ${ownerId}`;
    return row?.last_synced_at && (!after || row.last_synced_at > after) ? row : undefined;
  }, { what: 'a calendar-list sync' });
}

async function listSyncedAt(): Promise<Date | null> {
  const [row] = await h.sql`select last_synced_at from calendar_lists where owner_id = ${ownerId}`;
  return (row?.last_synced_at as Date | undefined) ?? null;
}

/** Runs the hourly cron's job once and returns its result. */
async function runRefresh(): Promise<Record<string, unknown>> {
  const id = await refreshCalendarsJob.send(h.t.service.ctx, {});
  if (!id) throw new Error('sync.refreshCalendars not queued');
  const job = await waitFor(async () => {
    const [j] = await h.sql`select state, output from pgboss.job where name = 'sync.refreshCalendars' and id = ${id}`;
    return j?.state === 'completed' ? j : undefined;
  }, { what: 'the refresh job' });
  return job.output as Record<string, unknown>;
}

describe('a time zone changed at Google', () => {
  test('is not in the incremental calendar list, arrives with the next events.list page, and moves the all-day events', async () => {
    const cal = await h.calendar(ownerId, EMAIL);
    expect(cal.timeZone).toBe('UTC');
    const row = (await h.mirror(cal.id)).get('propsday01')!;
    expect(row.start_at.toISOString()).toBe('2031-12-10T00:00:00.000Z');
    // The owner moves to Tokyo: the calendar's zone changes, no event does.
    await h.emuJson('calendars', { owner: EMAIL, primary: true, timeZone: 'Asia/Tokyo' });
    await listSynced(await listSyncedAt());
    expect((await h.calendar(ownerId, EMAIL)).timeZone).toBe('UTC');

    sets.length = 0;
    await enqueueEventSync(h.t.service.ctx, cal.id, { reason: 'manual' });
    const synced = await h.syncedAfter(cal.id, cal.lastSyncedAt);
    expect(synced.timeZone).toBe('Asia/Tokyo');
    const moved = (await h.mirror(cal.id)).get('propsday01')!;
    expect(moved.start_at.toISOString()).toBe('2031-12-09T15:00:00.000Z');
    expect(moved.end_at.toISOString()).toBe('2031-12-10T15:00:00.000Z');
    expect(moved.start_date).toBe('2031-12-10');
    const change = sets.flatMap((s) => s.changes).find((c) => c.event.googleEventId === 'propsday01');
    expect(change?.kind).toBe('updated');
    if (change?.kind !== 'updated') throw new Error('expected an update');
    expect(change.previous.startAt?.toISOString()).toBe('2031-12-10T00:00:00.000Z');
    expect(change.event.startAt?.toISOString()).toBe('2031-12-09T15:00:00.000Z');
    expect(change.event.calendarTimeZone).toBe('Asia/Tokyo');
    // events.list (calwatch's) places the day in the new zone.
    const listed = await h.t.trpc<{ items: Array<{ googleEventId: string; start: string }> }>('events.list', {
      externalOwnerId: 'props-owner', from: '2031-12-09T00:00:00Z', to: '2031-12-12T00:00:00Z',
    }, { method: 'query' });
    expect(listed.body.result?.data.items.find((i) => i.googleEventId === 'propsday01')?.start).toBe('2031-12-09T15:00:00.000Z');
  }, 30_000);
});

describe('the refresh of calendar properties', () => {
  test('re-reads every calendar (selected or not) with a full list once SYNC_CALENDAR_REFRESH_SECONDS have passed; hidden calendars stay', async () => {
    // Bob renames the team calendar, moves its zone and makes Paula a writer; Paula hides her side calendar.
    await h.emuJson('calendars', { owner: BOB, id: TEAM, summary: 'Team (renamed)', timeZone: 'Europe/Paris', members: [{ email: EMAIL, role: 'writer' }] });
    await h.emuJson(`users/${EMAIL}/calendar-list/${encodeURIComponent(SIDE)}/hidden`, { hidden: true });
    await listSynced(await listSyncedAt());
    // The incremental list brought the hidden entry, not the team calendar's new properties.
    const team = await h.calendar(ownerId, TEAM);
    expect(team).toMatchObject({ summary: 'Team', timeZone: 'UTC', accessRole: 'reader', selected: false });
    expect((await h.calendar(ownerId, SIDE)).deleted).toBe(false);

    // Not due yet: the cron queues nothing.
    const [before] = await h.sql`select last_full_synced_at from calendar_lists where owner_id = ${ownerId}`;
    expect(before!.last_full_synced_at).toBeInstanceOf(Date);
    expect(await runRefresh()).toMatchObject({ owners: 1, due: 0, queued: 0 });
    h.t.clock.advance(6 * 3600_000 + 1000);
    try {
      expect(await runRefresh()).toMatchObject({ owners: 1, due: 1, queued: 1 });
      const refreshed = await waitFor(async () => {
        const c = await h.calendar(ownerId, TEAM);
        return c.summary === 'Team (renamed)' ? c : undefined;
      }, { what: 'the refreshed team calendar' });
      expect(refreshed).toMatchObject({ timeZone: 'Europe/Paris', accessRole: 'writer', selected: false, deleted: false });
      const [after] = await h.sql`select last_full_synced_at from calendar_lists where owner_id = ${ownerId}`;
      expect(after!.last_full_synced_at.getTime()).toBeGreaterThan(before!.last_full_synced_at.getTime());
      // The hidden calendar is still the owner's (the full list asks showHidden=true).
      expect((await h.calendar(ownerId, SIDE)).deleted).toBe(false);
      const [listCall] = (await h.requests(0, '/users/me/calendarList')).filter((r) => r.method === 'GET').slice(-1);
      expect(listCall!.query.showHidden).toBe('true');
      expect(listCall!.query.syncToken).toBeUndefined();
    } finally {
      h.t.clock.advance(-(6 * 3600_000 + 1000));
    }
  }, 30_000);
});
