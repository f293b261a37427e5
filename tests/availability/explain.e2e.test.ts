// availability.busy {explain: true} end to end: every busy interval with the sources that made it
// (calendar, event id, rule), events written in the emulator and synced for real. A private event
// shows only "busy": no id, no rule, never a title.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { waitFor } from '../support/service.ts';
import { at, compactUtc, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

const TZ = '+09:00';
const EMAIL = 'explain-mei@example.com';
const OWNER = 'explain-mei';
let h: AvailabilityHarness;
let ownerId: string;

type Source = { calendarId: string; eventId?: string; recurringEventId?: string; rule: string; start: string; end: string; private?: true; buffer?: string };
type Explained = { start: string; end: string; sources: Source[] };

async function explain(input: Record<string, unknown>) {
  return h.t.trpc<{ intervals: Explained[] }>('availability.busy', { externalOwnerId: OWNER, explain: true, ...input });
}
async function explained(input: Record<string, unknown>): Promise<Explained[]> {
  const r = await explain(input);
  if (!r.body.result) throw new Error(`availability.busy failed: ${JSON.stringify(r.body)}`);
  return r.body.result.data.intervals;
}
/** Tokyo days (the owner's). */
const range = (from: number, to: number) => ({ from: utc(at(from, '00:00', TZ)), to: utc(at(to, '00:00', TZ)) });
const src = (rule: string, start: string, end: string, more: Partial<Source> = {}): Source => ({ calendarId: EMAIL, rule, start: utc(start), end: utc(end), ...more });

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-explain');
  ({ ownerId } = await h.linkOwner(EMAIL, OWNER, 'Asia/Tokyo'));
  await h.t.trpc('availability.preferences.set', { externalOwnerId: OWNER, tentativeBlocks: true }, { method: 'mutation' });
  // Day 10: an ordinary meeting 09:00-10:00 overlapping a private one 09:30-11:00; out of office 15:00-18:00.
  await h.putEvent(EMAIL, 'standup00001', { summary: 'Standup TOPSECRETA', start: { dateTime: at(10, '09:00', TZ) }, end: { dateTime: at(10, '10:00', TZ) } });
  await h.putEvent(EMAIL, 'private00001', {
    summary: 'Therapy TOPSECRETB',
    visibility: 'private',
    start: { dateTime: at(10, '09:30', TZ) },
    end: { dateTime: at(10, '11:00', TZ) },
  });
  await h.putEvent(EMAIL, 'ooo000000001', { summary: 'Away', eventType: 'outOfOffice', start: { dateTime: at(10, '15:00', TZ) }, end: { dateTime: at(10, '18:00', TZ) } });
  // Day 11: an all-day event; a tentative one the owner counts (preference).
  await h.putEvent(EMAIL, 'allday000001', { summary: 'Offsite', start: { date: day(11) }, end: { date: day(12) } });
  await h.putEvent(EMAIL, 'maybe0000001', { summary: 'Maybe', status: 'tentative', start: { dateTime: at(12, '10:00', TZ) }, end: { dateTime: at(12, '11:00', TZ) } });
  // Day 14: a daily series from day 14, two occurrences.
  await h.putEvent(EMAIL, 'daily0000001', {
    summary: 'Daily',
    start: { dateTime: at(14, '08:00', TZ), timeZone: 'Asia/Tokyo' },
    end: { dateTime: at(14, '08:30', TZ), timeZone: 'Asia/Tokyo' },
    recurrence: ['RRULE:FREQ=DAILY;COUNT=2'],
  });
  await h.syncNow(ownerId, EMAIL);
  await h.busyBecomes(OWNER, utc(at(15, '00:00', TZ)), utc(at(16, '00:00', TZ)), [{ start: utc(at(15, '08:00', TZ)), end: utc(at(15, '08:30', TZ)) }], 'the series to be synced');
}, 60_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

describe('why is the owner busy', () => {
  test('each interval lists its sources; a private event says only "busy"', async () => {
    const got = await explained(range(10, 11));
    expect(got).toEqual([
      {
        start: utc(at(10, '09:00', TZ)),
        end: utc(at(10, '11:00', TZ)),
        sources: [src('busy', at(10, '09:00', TZ), at(10, '10:00', TZ), { eventId: 'standup00001' }), src('busy', at(10, '09:30', TZ), at(10, '11:00', TZ), { private: true })],
      },
      { start: utc(at(10, '15:00', TZ)), end: utc(at(10, '18:00', TZ)), sources: [src('outOfOffice', at(10, '15:00', TZ), at(10, '18:00', TZ), { eventId: 'ooo000000001' })] },
    ]);
  });

  test('the intervals are those of the plain busy answer', async () => {
    const r = range(10, 15);
    const plain = await h.busy(OWNER, r.from, r.to);
    const withSources = await explained(r);
    expect(withSources.map(({ start, end }) => ({ start, end }))).toEqual(plain);
  });

  test('all-day and tentative rules; an occurrence of a series is named by its instance id', async () => {
    const allDay = await explained(range(11, 12));
    expect(allDay).toEqual([
      { start: utc(`${day(11)}T00:00:00+09:00`), end: utc(`${day(12)}T00:00:00+09:00`), sources: [src('allDay', `${day(11)}T00:00:00+09:00`, `${day(12)}T00:00:00+09:00`, { eventId: 'allday000001' })] },
    ]);
    const tentative = await explained({ from: utc(at(12, '00:00', TZ)), to: utc(at(13, '00:00', TZ)) });
    expect(tentative.flatMap((i) => i.sources)).toEqual([src('tentative', at(12, '10:00', TZ), at(12, '11:00', TZ), { eventId: 'maybe0000001' })]);
    const series = await explained({ from: utc(at(15, '00:00', TZ)), to: utc(at(16, '00:00', TZ)) });
    expect(series.flatMap((i) => i.sources)).toEqual([
      src('busy', at(15, '08:00', TZ), at(15, '08:30', TZ), { eventId: `daily0000001_${compactUtc(at(15, '08:00', TZ))}`, recurringEventId: 'daily0000001' }),
    ]);
  });

  test('buffers are sources of their own, named after the event they surround', async () => {
    const got = await explained({ from: utc(at(10, '12:00', TZ)), to: utc(at(10, '23:00', TZ)), bufferBeforeMinutes: 15, bufferAfterMinutes: 10 });
    const ooo = { eventId: 'ooo000000001' };
    expect(got).toEqual([
      {
        start: utc(at(10, '14:45', TZ)),
        end: utc(at(10, '18:10', TZ)),
        sources: [
          src('buffer', at(10, '14:45', TZ), at(10, '15:00', TZ), { ...ooo, buffer: 'before' }),
          src('outOfOffice', at(10, '15:00', TZ), at(10, '18:00', TZ), ooo),
          src('buffer', at(10, '18:00', TZ), at(10, '18:10', TZ), { ...ooo, buffer: 'after' }),
        ],
      },
    ]);
    // The 11:00 end of the private event reaches 11:10 by its buffer, into the asked range: named only "buffer", privately.
    const edge = await explained({ from: utc(at(10, '11:05', TZ)), to: utc(at(10, '12:00', TZ)), bufferAfterMinutes: 10 });
    expect(edge).toEqual([{ start: utc(at(10, '11:05', TZ)), end: utc(at(10, '11:10', TZ)), sources: [src('buffer', at(10, '11:00', TZ), at(10, '11:10', TZ), { private: true, buffer: 'after' })] }]);
    // The plain answer with the same buffers has the same intervals.
    const plain = await h.t.trpc<{ intervals: Array<{ start: string; end: string }> }>('availability.busy', {
      externalOwnerId: OWNER,
      from: utc(at(10, '12:00', TZ)),
      to: utc(at(10, '23:00', TZ)),
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 10,
    });
    expect(plain.body.result!.data.intervals).toEqual(got.map(({ start, end }) => ({ start, end })));
  });

  test('nothing of a private event leaks, and no title of any event', async () => {
    const r = await explain(range(10, 16));
    const text = JSON.stringify(r.body);
    for (const word of ['private00001', 'TOPSECRET', 'Therapy', 'Standup', 'Offsite', 'Away']) expect(text).not.toContain(word);
  });

  test('an event made confidential later loses its details; explain needs a service token', async () => {
    await h.putEvent(EMAIL, 'standup00001', {
      summary: 'Standup TOPSECRETA',
      visibility: 'confidential',
      start: { dateTime: at(10, '09:00', TZ) },
      end: { dateTime: at(10, '10:00', TZ) },
    });
    await h.syncNow(ownerId, EMAIL);
    const { from, to } = range(10, 11);
    let last: Explained[] = [];
    await waitFor(async () => {
      last = await explained({ from, to });
      return last[0]?.sources[0]?.private === true;
    }, { what: 'the confidential standup to hide its id', timeoutMs: 15_000 });
    expect(JSON.stringify(last)).not.toContain('standup00001');
    const anon = await h.t.trpc('availability.busy', { externalOwnerId: OWNER, from, to, explain: true }, { token: null });
    expect(anon.status).toBe(401);
  });
});
