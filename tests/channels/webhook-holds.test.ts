// The webhook writes only what it must: a notification for a resource whose sync request already
// waits in the outbox, held by this process, is answered 204 without a database write, and loses
// nothing: its message number is kept (a replay of it is a duplicate), its change reaches the mirror,
// and a crash right after such a 204 still ends with the change in the mirror (the held row is
// drained by the next process once the hold runs out).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { emulatorControl, type EmulatorControl } from '../support/emulator-control.ts';
import { startServiceProcess, type ServiceProcess } from '../support/process.ts';
import { waitFor } from '../support/service.ts';

const WEBHOOK_TOKEN = 'holds-webhook-token-0123456789abcdef';
const EMAIL = 'holds@example.com';

let emu: Emulator;
let ctl: EmulatorControl;
let db: TestDatabase & { url: string };
let sql: postgres.Sql;
let svc: ServiceProcess;
let channel: { id: string; resource_id: string; calendar_id: string; owner_id: string };
let n = 1000;

const notify = (num: number) =>
  fetch(`${svc.url}/webhooks/google/calendar`, {
    method: 'POST',
    headers: {
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Channel-Token': WEBHOOK_TOKEN,
      'X-Goog-Resource-ID': channel.resource_id,
      'X-Goog-Resource-URI': `https://www.googleapis.com/calendar/v3/calendars/${EMAIL}/events`,
      'X-Goog-Resource-State': 'exists',
      'X-Goog-Message-Number': String(num),
    },
  }).then((r) => r.status);

async function coalescedCount(): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const m = text.match(/calwatch_notifications_total\{[^}]*outcome="coalesced"[^}]*\} (\d+)/);
  return m ? Number(m[1]) : 0;
}

const put = (id: string, title: string) =>
  ctl.putEvent(EMAIL, id, { summary: title, start: { dateTime: '2031-02-03T10:00:00Z' }, end: { dateTime: '2031-02-03T11:00:00Z' } });
const mirrored = async (id: string) => (await sql`select 1 from calendar_events where google_event_id = ${id}`).length > 0;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ctl = emulatorControl(emu.url);
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  svc = await startServiceProcess({ name: 'channels-webhook-holds', databaseUrl: db.url, googleUrl: emu.url, env: { GOOGLE_WEBHOOK_TOKEN: WEBHOOK_TOKEN } });
  const { refreshToken } = await ctl.createUser(EMAIL);
  await svc.trpc('links.event', { type: 'LINKED', externalOwnerId: 'holds-owner', refreshToken });
  channel = await waitFor(
    async () => (await sql`select id, resource_id, calendar_id, owner_id from channels where kind = 'events' and status = 'active'`)[0] as typeof channel | undefined,
    { what: 'the primary calendar watched', timeoutMs: 30_000 },
  );
  // From here on the test is Google: the emulator's own pushes are dropped.
  await ctl.faults({ dropNotifications: 1 });
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await sql?.end({ timeout: 1 });
  await db?.drop();
  await emu?.stop();
}, 30_000);

describe('a busy resource', () => {
  test('a flood of notifications on one calendar: most answered without a write, none lost, numbers kept', async () => {
    await put('holdsflood01', 'flood');
    const before = await coalescedCount();
    const countOf = async () => Number((await sql`select notifications_count as c from channels where id = ${channel.id}`)[0]!.c);
    const countBefore = await countOf();
    const numbers = Array.from({ length: 300 }, () => ++n);
    // 20 at a time, as Google's deliveries overlap.
    const statuses: number[] = [];
    for (let i = 0; i < numbers.length; i += 20) statuses.push(...(await Promise.all(numbers.slice(i, i + 20).map(notify))));
    expect(statuses.every((s) => s === 204)).toBe(true);
    expect((await coalescedCount()) - before).toBeGreaterThan(0);
    await waitFor(() => mirrored('holdsflood01'), { what: 'the change in the mirror' });
    // The stored number reaches the highest one, written by the drain.
    await waitFor(async () => Number((await sql`select last_message_number as m from channels where id = ${channel.id}`)[0]!.m) === n, {
      what: 'last message number stored',
    });
    // Numbers answered without a write are written by the holder's drain, which flushes them before it
    // takes the request rows: once the outbox is empty, nothing of the flood is left in memory (the
    // highest number may have been stored by a note before that flush).
    await waitFor(async () => (await sql`select count(*)::int as n from channel_sync_requests`)[0]!.n === 0, { what: 'outbox drained' });
    const count = await countOf();
    expect(count).toBeGreaterThan(countBefore);
    // A replay of a number answered without a write is a duplicate: 204, nothing noted (and nothing
    // flushed: the wait outlasts a drain pass).
    expect(await notify(numbers[150]!)).toBe(204);
    await Bun.sleep(1500);
    expect(await countOf()).toBe(count);
  }, 30_000);

  test('a crash right after a 204 answered without a write: the change still reaches the mirror', async () => {
    await waitFor(async () => (await sql`select count(*)::int as n from channel_sync_requests`)[0]!.n === 0, { what: 'outbox empty' });
    // A request already waits for this calendar (held back, as a busy resource's is).
    await sql`insert into channel_sync_requests (resource_key, owner_id, calendar_id, kind, notified_at, not_before)
      values (${`events:${channel.calendar_id}`}, ${channel.owner_id}, ${channel.calendar_id}, 'events', now(), now() + interval '3 seconds')`;
    const before = await coalescedCount();
    expect(await notify(++n)).toBe(204); // written: the process takes the hold
    await put('holdscrash01', 'made before the next notification');
    expect(await notify(++n)).toBe(204); // answered without a write
    expect(await notify(++n)).toBe(204);
    expect((await coalescedCount()) - before).toBeGreaterThanOrEqual(2);
    await svc.kill9();
    expect(await mirrored('holdscrash01')).toBe(false);
    // The next process drains the dead holder's row once its hold has run out.
    await svc.start();
    await waitFor(() => mirrored('holdscrash01'), { what: 'the change in the mirror after the crash', timeoutMs: 20_000 });
    // (The start-up catch-up syncs every calendar too.) The dead holder's row itself is taken over.
    await waitFor(async () => (await sql`select count(*)::int as n from channel_sync_requests`)[0]!.n === 0, {
      what: "the dead holder's request drained",
      timeoutMs: 20_000,
    });
  }, 50_000);
});
