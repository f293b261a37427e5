// The same bad value gets the same answer from every procedure that takes it: the routers share one
// module of input primitives (src/api/inputs.ts). Checked over the real tRPC HTTP endpoint.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startTestService, type TestService } from '../support/service.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ name: 'api-inputs' });
});
afterAll(async () => {
  await t?.stop();
});

type Issue = { code: string; path: Array<string | number>; message: string; [k: string]: unknown };

/** Calls the procedure and returns its status, tRPC code and the zod issues about `field`. */
async function refusal(path: string, input: Record<string, unknown>, field: string) {
  const r = await t.trpc(path, input);
  const data = r.body.error?.data as { code?: string; issues?: Issue[] } | undefined;
  return { status: r.status, code: data?.code, issues: (data?.issues ?? []).filter((i) => i.path[i.path.length - 1] === field) };
}

const FROM = '2030-01-07T00:00:00Z';
const TO = '2030-01-08T00:00:00Z';

describe('a bad external owner id', () => {
  const procedures: Array<[string, (externalOwnerId: string) => Record<string, unknown>]> = [
    ['links.get', (externalOwnerId) => ({ externalOwnerId })],
    ['links.event', (externalOwnerId) => ({ type: 'RESYNC', externalOwnerId })],
    ['oauth.ticket', (externalOwnerId) => ({ externalOwnerId })],
    ['calendars.resync', (externalOwnerId) => ({ externalOwnerId })],
    ['events.list', (externalOwnerId) => ({ externalOwnerId, from: FROM, to: TO })],
    ['availability.busy', (externalOwnerId) => ({ externalOwnerId, from: FROM, to: TO })],
    ['availability.preferences.get', (externalOwnerId) => ({ externalOwnerId })],
    ['bookings.list', (externalOwnerId) => ({ externalOwnerId })],
    ['bookings.settings.get', (externalOwnerId) => ({ externalOwnerId })],
    ['subscriptions.list', (externalOwnerId) => ({ externalOwnerId })],
    ['subscriptions.create', (externalOwnerId) => ({ url: 'https://app.example.com/hooks', externalOwnerId })],
    ['changes.list', (externalOwnerId) => ({ externalOwnerId })],
  ];

  for (const [what, bad] of [['blank', '   '], ['empty', ''], ['256 characters long', 'x'.repeat(256)]] as const) {
    test(`${what}: the same BAD_REQUEST from every procedure`, async () => {
      const answers = await Promise.all(procedures.map(async ([path, input]) => ({ path, ...(await refusal(path, input(bad), 'externalOwnerId')) })));
      const expected = { status: 400, code: 'BAD_REQUEST', issues: answers[0]!.issues };
      expect(expected.issues.length).toBeGreaterThan(0);
      for (const a of answers) expect({ path: a.path, status: a.status, code: a.code, issues: a.issues }).toEqual({ path: a.path, ...expected });
    });
  }

  test('blank is refused by name, and the GraphQL admin input refuses it alike', async () => {
    const r = await refusal('links.get', { externalOwnerId: '   ' }, 'externalOwnerId');
    expect(r.issues.map((i) => i.message)).toEqual(['must not be blank']);
    const g = await t.graphql(`mutation($i: CreateOncallGroupInput!) { createOncallGroup(input: $i) { id } }`, {
      i: { name: 'X', externalOwnerId: '   ', calendarId: 'primary', slackChannel: '#x', timeZone: 'Europe/Paris' },
    });
    expect(g.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(g.body.errors?.[0]?.message).toContain('must not be blank');
  });
});

describe('a bad instant', () => {
  const procedures: Array<[string, string, (bad: string) => Record<string, unknown>]> = [
    ['events.list', 'from', (from) => ({ externalOwnerId: 'u-1', from, to: TO })],
    ['availability.busy', 'from', (from) => ({ externalOwnerId: 'u-1', from, to: TO })],
    ['availability.free', 'to', (to) => ({ externalOwnerId: 'u-1', from: FROM, to, durationMinutes: 30 })],
    ['bookings.list', 'from', (from) => ({ externalOwnerId: 'u-1', from })],
    ['bookings.request', 'start', (start) => ({ externalOwnerId: 'u-1', start, end: TO, title: 'T', bookee: { email: 'a@b.test' } })],
    ['bookings.reschedule', 'end', (end) => ({ id: '00000000-0000-4000-8000-000000000000', start: FROM, end })],
    ['subscriptions.replay', 'from', (from) => ({ id: '00000000-0000-4000-8000-000000000000', from })],
  ];

  for (const [what, bad] of [['without an offset', '2030-01-07T10:00:00'], ['not a date', 'tomorrow'], ['a date only', '2030-01-07']] as const) {
    test(`${what}: the same BAD_REQUEST from every procedure`, async () => {
      const answers = await Promise.all(procedures.map(async ([path, field, input]) => ({ path, ...(await refusal(path, input(bad), field)) })));
      // the same issue, at the field's own name
      const strip = (issues: Issue[]) => issues.map(({ path: _, ...rest }) => rest);
      const expected = { status: 400, code: 'BAD_REQUEST', issues: strip(answers[0]!.issues) };
      expect(expected.issues.map((i) => i.message)).toEqual(['must be an ISO 8601 date-time with a time zone offset (e.g. 2030-01-01T10:00:00Z)']);
      for (const a of answers) expect({ path: a.path, status: a.status, code: a.code, issues: strip(a.issues) }).toEqual({ path: a.path, ...expected });
    });
  }
});

describe('a bad id', () => {
  const procedures = ['bookings.get', 'bookings.confirm', 'bookings.deny', 'bookings.cancel', 'subscriptions.delete', 'subscriptions.test', 'subscriptions.replay'];

  for (const [what, bad] of [['not a UUID', 'not-a-uuid'], ['a UUID with its dashes missing', '0000000000004000800000000000000a']] as const) {
    test(`${what}: the same BAD_REQUEST from every procedure, naming what the id is of`, async () => {
      const answers = await Promise.all(procedures.map(async (path) => ({ path, ...(await refusal(path, { id: bad, from: FROM }, 'id')) })));
      for (const a of answers) {
        const noun = a.path.startsWith('bookings.') ? 'a booking' : 'a subscription';
        expect({ path: a.path, status: a.status, code: a.code, issues: a.issues.map((i) => [i.code, i.format, i.message]) }).toEqual({
          path: a.path,
          status: 400,
          code: 'BAD_REQUEST',
          issues: [['invalid_format', 'uuid', `must be ${noun} id (UUID)`]],
        });
      }
    });
  }
});
