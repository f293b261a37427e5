// A booking's write to Google racing the owner and the bookee: calwatch reads the event, then writes it
// back under If-Match. The service reaches the emulator through a proxy that lets the test act between
// the read and the write. Google documents If-Match for update and delete only (the emulator ignores it
// on PATCH, as Google may), so the write must be an update: a patch would bring back an event the owner
// deleted meanwhile, or proceed over an answer given meanwhile.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.ts';
import { startBookingsHarness, slot, type BookingsHarness, type Booking } from './harness.ts';

setDefaultTimeout(30_000);

let emu: Emulator;
let proxy: HttpProxy;
let h: BookingsHarness;
let hook: ((req: Request, url: URL) => Promise<void>) | undefined;
const OWNER = 'owner-race';
const EMAIL = 'owner-race@example.com';
const bookee = { email: 'racer@example.org', name: 'Rae Racer' };

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  proxy = startHttpProxy({ target: emu.url, hook: (req, url) => hook?.(req, url) });
  h = await startBookingsHarness('bookings-concurrent-edit', {}, { emu, googleUrl: `http://127.0.0.1:${proxy.port}/` });
  await h.linkOwner(OWNER, EMAIL);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
  await emu?.stop();
}, 30_000);

async function requested(title: string): Promise<Booking> {
  const r = await h.request({ externalOwnerId: OWNER, ...slot(), title, bookee });
  if (r.status !== 200) throw new Error(`request: ${JSON.stringify(r)}`);
  return r.booking!;
}

/** Runs `act` once, just before the first write (PUT or PATCH) of the booking's event reaches Google. */
function beforeFirstWrite(b: Booking, act: () => Promise<void>): { fired: () => boolean } {
  let fired = false;
  hook = async (req, url) => {
    if (fired || (req.method !== 'PUT' && req.method !== 'PATCH') || !url.pathname.endsWith(`/events/${b.googleEventId}`)) return;
    fired = true;
    await act();
  };
  return { fired: () => fired };
}

describe('confirming while the owner or the bookee acts in Google', () => {
  test('the owner deletes the event between our read and our write: it stays deleted, the booking is cancelled', async () => {
    const b = await requested('Deleted meanwhile');
    const race = beforeFirstWrite(b, async () => {
      await h.emuJson(`calendars/${encodeURIComponent(EMAIL)}/events/${b.googleEventId}`, undefined, 'DELETE');
    });
    try {
      await h.t.trpc<Booking>('bookings.confirm', { id: b.id });
      await h.waitForBooking(b.id, (x) => x.status === 'cancelled', 'booking cancelled after the owner deleted its event');
    } finally {
      hook = undefined;
    }
    expect(race.fired()).toBe(true);
    const ev = (await h.allEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;
    expect(ev.status).toBe('cancelled');
    expect(await h.liveEvents(EMAIL).then((es) => es.some((e) => e.id === b.googleEventId))).toBe(false);
  });

  test("the bookee's answer given between our read and our write survives, and the event is confirmed", async () => {
    const b = await requested('Answered meanwhile');
    const race = beforeFirstWrite(b, async () => {
      await h.emuJson(`calendars/${encodeURIComponent(EMAIL)}/events/${b.googleEventId}/respond`, { email: bookee.email, responseStatus: 'accepted' });
    });
    try {
      const r = await h.t.trpc<Booking>('bookings.confirm', { id: b.id });
      expect(r.status).toBe(200);
      await h.waitForBooking(b.id, (x) => !x.googlePending, 'confirm written to Google');
    } finally {
      hook = undefined;
    }
    expect(race.fired()).toBe(true);
    const ev = (await h.liveEvents(EMAIL)).find((e) => e.id === b.googleEventId)!;
    expect(ev.status).toBe('confirmed');
    expect(ev.attendees?.find((a) => a.email === bookee.email)?.responseStatus).toBe('accepted');
  });
});
