// The on-call admin types batch their relations: a page of groups with their owner, members,
// shifts (each with its group and swap partner) and swaps (with both shifts and the Slack ts) costs
// the same few SQL statements for 5 groups as for 20.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type postgres from 'postgres';
import type { TestService } from '../support/service.ts';
import { startServiceWithEmulator, type ServiceWithEmulator } from '../support/service-with-emulator.ts';

let pair: ServiceWithEmulator;
let t: TestService;
let sql: postgres.Sql;

const GROUPS = 20;
const SHIFTS = 5;
const SWAPS = 2;
const H = 3600_000;

beforeAll(async () => {
  pair = await startServiceWithEmulator({ name: 'admin-oncall-statements' });
  ({ t, sql } = pair);
  await seed();
}, 60_000);

afterAll(async () => {
  await pair?.stop();
}, 30_000);

/** GROUPS groups of one owner, each with two members, SHIFTS shifts and SWAPS completed swaps (announced in Slack). */
async function seed() {
  const start = Date.now() + 24 * H;
  await sql.begin(async (tx) => {
    const [owner] = await tx`insert into owners (external_owner_id, status, linked_at) values ('oncall-owner', 'active', now()) returning id`;
    for (let g = 0; g < GROUPS; g++) {
      const [group] = await tx`
        insert into oncall_groups (name, owner_id, calendar_id, slack_channel, time_zone, created_at)
        values (${`group-${g}`}, ${owner!.id}, 'primary', ${`#group-${g}`}, 'Europe/Paris', ${new Date(start - (GROUPS - g) * 1000)})
        returning id`;
      const people = [`a${g}@example.com`, `b${g}@example.com`];
      await tx`insert into oncall_members (group_id, email, name, position) values (${group!.id}, ${people[0]!}, 'A', 0), (${group!.id}, ${people[1]!}, 'B', 1)`;
      const shifts: Array<{ id: string; email: string }> = [];
      for (let s = 0; s < SHIFTS; s++) {
        const email = people[s % 2]!;
        const [row] = await tx`
          insert into shifts (group_id, google_event_id, assignee_email, start_at, end_at)
          values (${group!.id}, ${`ev-${g}-${s}`}, ${email}, ${new Date(start + s * 8 * H)}, ${new Date(start + (s + 1) * 8 * H)})
          returning id`;
        shifts.push({ id: row!.id, email });
      }
      for (let w = 0; w < SWAPS; w++) {
        const a = shifts[2 * w]!;
        const b = shifts[2 * w + 1]!;
        await tx`update shifts set status = 'swapped', swapped_with_id = ${b.id} where id = ${a.id}`;
        await tx`update shifts set status = 'swapped', swapped_with_id = ${a.id} where id = ${b.id}`;
        const [swap] = await tx`
          insert into swaps (group_id, kind, declined_shift_id, swap_shift_id, from_email, to_email, declined_event_id, swap_event_id, state, completed_at)
          values (${group!.id}, 'manual', ${a.id}, ${b.id}, ${a.email}, ${b.email}, ${`ev-${g}-${2 * w}`}, ${`ev-${g}-${2 * w + 1}`}, 'completed', now())
          returning id`;
        await tx`
          insert into oncall_messages (group_id, kind, swap_id, shift_id, dedupe_key, state, slack_ts)
          values (${group!.id}, 'swap', ${swap!.id}, ${a.id}, ${`swap:${swap!.id}`}, 'posted', ${`17000000${g}.${w}`})`;
      }
    }
  });
}

const pageQuery = `query($first: Int!) {
  oncallGroups(first: $first) { edges { node {
    id name externalOwnerId members { email position }
    shifts { id assigneeEmail status group { id } swappedWith { id assigneeEmail } }
    swaps { id state slackTs declinedShift { id status } swapShift { id group { name } } }
  } } }
}`;

interface Page {
  oncallGroups: {
    edges: Array<{
      node: {
        externalOwnerId: string | null;
        members: unknown[];
        shifts: Array<{ swappedWith: { id: string } | null }>;
        swaps: Array<{ slackTs: string | null; swapShift: { group: { name: string } } }>;
      };
    }>;
  };
}

async function statementsFor(first: number): Promise<number> {
  const before = t.queryCount();
  const r = await t.graphql<Page>(pageQuery, { first });
  const after = t.queryCount();
  expect(r.body.errors).toBeUndefined();
  const edges = r.body.data!.oncallGroups.edges;
  expect(edges.length).toBe(first);
  for (const { node } of edges) {
    expect(node.externalOwnerId).toBe('oncall-owner');
    expect(node.members.length).toBe(2);
    expect(node.shifts.length).toBe(SHIFTS);
    expect(node.shifts.filter((s) => s.swappedWith !== null).length).toBe(2 * SWAPS);
    expect(node.swaps.length).toBe(SWAPS);
    for (const s of node.swaps) expect(s.slackTs).not.toBeNull();
  }
  return after - before;
}

describe('on-call groups, batched', () => {
  test('a page of 20 groups with shifts and swaps costs as many SQL statements as a page of 5, and few', async () => {
    // The counter sees the whole pool, background jobs included: the fewest of three runs is the
    // request's own cost.
    const fewest = async (first: number) => Math.min(await statementsFor(first), await statementsFor(first), await statementsFor(first));
    const five = await fewest(5);
    const twenty = await fewest(GROUPS);
    expect(twenty).toBe(five);
    expect(twenty).toBeLessThanOrEqual(10);
  }, 30_000);
});
