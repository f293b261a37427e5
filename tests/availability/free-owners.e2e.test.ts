// availability.free for several owners end to end: events written in the emulator reach each
// owner's blocked times through the real sync; free answers when all (or N) of them are free, each
// owner's working hours read in the zone of its own primary calendar. Zones without DST (Tokyo
// +09:00, Kolkata +05:30, Sao Paulo -03:00) so the expected times hold on any date.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { at, day, startAvailabilityHarness, utc, type AvailabilityHarness } from './harness.ts';

let h: AvailabilityHarness;
const TOKYO = { email: 'aiko@example.com', ext: 'free-aiko', tz: 'Asia/Tokyo' };
const KOLKATA = { email: 'ravi@example.com', ext: 'free-ravi', tz: 'Asia/Kolkata' };
const SAO_PAULO = { email: 'bia@example.com', ext: 'free-bia', tz: 'America/Sao_Paulo' };
const ids: Record<string, string> = {};

type Slot = { start: string; end: string; externalOwnerIds?: string[] };

async function free(input: Record<string, unknown>) {
  return h.t.trpc<{ slots: Slot[] }>('availability.free', input);
}
async function freeSlots(input: Record<string, unknown>): Promise<Slot[]> {
  const r = await free(input);
  if (!r.body.result) throw new Error(`availability.free failed: ${JSON.stringify(r.body)}`);
  return r.body.result.data.slots;
}

// Day 63 is a Monday (the harness' day 0 is one).
const D = 63;
const FROM = `${day(D)}T00:00:00Z`;
const TO = `${day(D + 1)}T00:00:00Z`;
const WEEKDAYS = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
const slot = (start: string, end: string, owners?: string[]): Slot => ({ start: utc(start), end: utc(end), ...(owners ? { externalOwnerIds: owners } : {}) });
const Z = (hhmm: string, n = D) => `${day(n)}T${hhmm}:00Z`;

beforeAll(async () => {
  h = await startAvailabilityHarness('availability-free-owners');
  for (const o of [TOKYO, KOLKATA, SAO_PAULO]) ids[o.ext] = (await h.linkOwner(o.email, o.ext, o.tz)).ownerId;
  // Aiko (Tokyo) is busy 13:00-14:00 Tokyo = 04:00-05:00 UTC.
  await h.putEvent(TOKYO.email, 'aikobusy0001', { summary: 'Review', start: { dateTime: at(D, '13:00', '+09:00') }, end: { dateTime: at(D, '14:00', '+09:00') } });
  await h.syncNow(ids[TOKYO.ext]!, TOKYO.email);
  await h.busyBecomes(TOKYO.ext, FROM, TO, [{ start: utc(Z('04:00')), end: utc(Z('05:00')) }], 'the review to block Aiko');
}, 60_000);
afterAll(async () => {
  await h?.stop();
}, 30_000);

describe('several owners, required all', () => {
  test('the stretches when everyone is free, each in the working hours of their own zone', async () => {
    // Tokyo 09-17 = 00:00-08:00 UTC; Kolkata 09-17 = 03:30-11:30 UTC: in common 03:30-08:00, less Aiko's 04-05.
    const got = await freeSlots({ externalOwnerIds: [TOKYO.ext, KOLKATA.ext], from: FROM, to: TO, durationMinutes: 30, workingHours: WEEKDAYS });
    expect(got).toEqual([slot(Z('03:30'), Z('04:00')), slot(Z('05:00'), Z('08:00'))]);
    // 60 minutes: the half hour before the review no longer fits.
    const hour = await freeSlots({ externalOwnerIds: [TOKYO.ext, KOLKATA.ext], from: FROM, to: TO, durationMinutes: 60, workingHours: WEEKDAYS });
    expect(hour).toEqual([slot(Z('05:00'), Z('08:00'))]);
  });

  test('buffers around busy time: before its start and after its end', async () => {
    const got = await freeSlots({
      externalOwnerIds: [TOKYO.ext, KOLKATA.ext],
      from: FROM,
      to: TO,
      durationMinutes: 30,
      workingHours: WEEKDAYS,
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 30,
    });
    // 03:30-03:45 left before the review (too short for 30 minutes); after it, free from 05:30.
    expect(got).toEqual([slot(Z('05:30'), Z('08:00'))]);
  });

  test('fixed slots on a grid from `from`', async () => {
    const got = await freeSlots({
      externalOwnerIds: [TOKYO.ext, KOLKATA.ext],
      from: FROM,
      to: TO,
      durationMinutes: 60,
      slotStepMinutes: 60,
      workingHours: WEEKDAYS,
    });
    expect(got).toEqual([slot(Z('05:00'), Z('06:00')), slot(Z('06:00'), Z('07:00')), slot(Z('07:00'), Z('08:00'))]);
  });

  test('nobody in common: Sao Paulo (12:00-20:00 UTC) never meets Tokyo (00:00-08:00 UTC)', async () => {
    expect(await freeSlots({ externalOwnerIds: [TOKYO.ext, SAO_PAULO.ext], from: FROM, to: TO, durationMinutes: 30, workingHours: WEEKDAYS })).toEqual([]);
  });
});

describe('several owners, required N', () => {
  test('each slot names the owners free for all of it', async () => {
    const got = await freeSlots({
      externalOwnerIds: [TOKYO.ext, KOLKATA.ext, SAO_PAULO.ext],
      required: 2,
      from: FROM,
      to: TO,
      durationMinutes: 60,
      workingHours: WEEKDAYS,
      // Bia's own hours, in her zone: 06:00-14:00 Sao Paulo = 09:00-17:00 UTC, meeting Ravi's until 11:30.
      workingHoursByOwner: { [SAO_PAULO.ext]: { days: [1, 2, 3, 4, 5], start: '06:00', end: '14:00' } },
    });
    // The grid step defaults to the duration (hourly from 00:00 UTC).
    expect(got).toEqual([
      slot(Z('05:00'), Z('06:00'), [TOKYO.ext, KOLKATA.ext]),
      slot(Z('06:00'), Z('07:00'), [TOKYO.ext, KOLKATA.ext]),
      slot(Z('07:00'), Z('08:00'), [TOKYO.ext, KOLKATA.ext]),
      slot(Z('09:00'), Z('10:00'), [KOLKATA.ext, SAO_PAULO.ext]),
      slot(Z('10:00'), Z('11:00'), [KOLKATA.ext, SAO_PAULO.ext]),
    ]);
  });

  test('required 1 of 1 in the list form is the single owner on a grid', async () => {
    const got = await freeSlots({ externalOwnerIds: [TOKYO.ext], required: 1, from: FROM, to: TO, durationMinutes: 240, workingHours: WEEKDAYS, slotStepMinutes: 60 });
    expect(got).toEqual([slot(Z('00:00'), Z('04:00'), [TOKYO.ext])]);
  });
});

describe('the single-owner form keeps working', () => {
  test('the old input gives the old answer; working hours without a zone use the owner’s', async () => {
    const old = await freeSlots({
      externalOwnerId: TOKYO.ext,
      from: FROM,
      to: TO,
      durationMinutes: 60,
      workingHours: { timeZone: 'Asia/Tokyo', ...WEEKDAYS },
    });
    expect(old).toEqual([slot(Z('00:00'), Z('04:00')), slot(Z('05:00'), Z('08:00'))]);
    expect(await freeSlots({ externalOwnerId: TOKYO.ext, from: FROM, to: TO, durationMinutes: 60, workingHours: WEEKDAYS })).toEqual(old);
  });

  test('a minimum notice drops what starts too soon', async () => {
    const now = h.t.clock.now().getTime();
    const from = new Date(Math.floor(now / 3_600_000) * 3_600_000).toISOString();
    const to = new Date(Math.floor(now / 3_600_000) * 3_600_000 + 86_400_000).toISOString();
    const got = await freeSlots({ externalOwnerId: KOLKATA.ext, from, to, durationMinutes: 30, minimumNoticeMinutes: 120 });
    expect(got.length).toBe(1);
    // The stretch starts at now + 2 h (to the millisecond the server read its clock): not before.
    expect(Date.parse(got[0]!.start)).toBeGreaterThanOrEqual(now + 120 * 60_000);
    expect(Date.parse(got[0]!.start)).toBeLessThan(now + 120 * 60_000 + 60_000);
    expect(got[0]!.end).toBe(to);
  });
});

describe('refusals', () => {
  test('bad inputs are 400 (the input schema or the verb refuses them); an unknown owner is 404', async () => {
    const base = { from: FROM, to: TO, durationMinutes: 30 };
    const cases: Array<[string, Record<string, unknown>]> = [
      ['both forms', { ...base, externalOwnerId: TOKYO.ext, externalOwnerIds: [KOLKATA.ext] }],
      ['neither form', base],
      ['an owner twice', { ...base, externalOwnerIds: [TOKYO.ext, TOKYO.ext] }],
      ['required above the owners', { ...base, externalOwnerIds: [TOKYO.ext, KOLKATA.ext], required: 3 }],
      ['calendarIds with several owners', { ...base, externalOwnerIds: [TOKYO.ext], calendarIds: ['primary'] }],
      ['hours for someone not asked', { ...base, externalOwnerIds: [TOKYO.ext], workingHoursByOwner: { nobody: WEEKDAYS } }],
      ['a negative buffer', { ...base, externalOwnerId: TOKYO.ext, bufferBeforeMinutes: -5 }],
      ['too many grid points', { ...base, externalOwnerId: TOKYO.ext, from: `${day(0)}T00:00:00Z`, to: `${day(300)}T00:00:00Z`, slotStepMinutes: 5 }],
      ['an unknown zone', { ...base, externalOwnerId: TOKYO.ext, workingHours: { ...WEEKDAYS, timeZone: 'Mars/Olympus' } }],
    ];
    for (const [what, input] of cases) {
      const r = await free(input);
      expect({ what, status: r.status, code: r.body.error?.data.code }).toEqual({ what, status: 400, code: 'BAD_REQUEST' });
    }
    const unknown = await free({ ...base, externalOwnerIds: [TOKYO.ext, 'no-such-owner'] });
    expect(unknown.status).toBe(404);
  });
});
