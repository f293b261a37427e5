// links.event (LINKED / REFRESHED / UNLINKED / UNLINK / RESYNC) and links.get, over tRPC with the
// service token, against the emulator and a real database.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { onOwnerEvent, type OwnerEvent } from '../../src/links/index.ts';
import { startLinksHarness, type LinksHarness } from './harness.ts';

let h: LinksHarness;
const events: OwnerEvent[] = [];

beforeAll(async () => {
  onOwnerEvent('links-test-recorder', async (_tx, _ctx, ev) => {
    events.push(ev);
  });
  h = await startLinksHarness('links-events');
});
afterAll(() => h.stop(), 30_000);

const ownerRow = async (externalOwnerId: string) => (await h.sql`select * from owners where external_owner_id = ${externalOwnerId}`)[0]!;
const eventsFor = (externalOwnerId: string) => events.filter((e) => e.externalOwnerId === externalOwnerId).map((e) => e.type);

describe('LINKED', () => {
  test('creates an active owner with the refresh token sealed, and dispatches linked once', async () => {
    const g = await h.googleUser('alice@example.com');
    const r = await h.t.trpc<{ ownerId: string; status: string }>('links.event', { type: 'LINKED', externalOwnerId: 'u-alice', refreshToken: g.refreshToken });
    expect(r.status).toBe(200);
    expect(r.body.result!.data.status).toBe('active');
    const row = await ownerRow('u-alice');
    expect(row.id).toBe(r.body.result!.data.ownerId);
    expect(row.status).toBe('active');
    expect(row.refresh_token_enc).toMatch(/^v1\./);
    expect(row.refresh_token_enc).not.toContain(g.refreshToken);
    expect(eventsFor('u-alice')).toEqual(['linked']);

    const again = await h.t.trpc<{ ownerId: string }>('links.event', { type: 'LINKED', externalOwnerId: 'u-alice', refreshToken: g.refreshToken });
    expect(again.body.result!.data.ownerId).toBe(row.id);
    const after = await ownerRow('u-alice');
    expect(after.refresh_token_enc).toBe(row.refresh_token_enc);
    expect(after.updated_at).toEqual(row.updated_at);
    expect(eventsFor('u-alice')).toEqual(['linked']);
  });
});
