// `bun run demo` end to end: the real script as a child process (`bun src/demo/index.ts`) against a
// real service and emulator started here, told where they are through its environment, exactly as
// a newcomer's shell would. Twice on one database (fresh run ids), and its two refusals.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, freePort, startTestService, type TestService } from '../support/service.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { at, dayIn } from '../../src/demo/format.ts';

setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, '..', '..');
let emu: Emulator;
let t: TestService;
let dataDir: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  t = await startTestService({ name: 'demo', emulatorUrl: emu.url });
  // An empty DATA_DIR: the tokens must come from the environment, not from a developer's ./.calwatch.
  dataDir = mkdtempSync(join(tmpdir(), 'calwatch-demo-'));
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await emu?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function runDemo(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(['bun', 'src/demo/index.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      DATA_DIR: dataDir,
      TZ: 'Europe/Paris',
      DEMO_TIMEOUT_SECONDS: '25',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const target = () => ({ CALWATCH_URL: t.url, EMULATOR_URL: emu.url, SERVICE_TOKEN: TEST_SERVICE_TOKEN, ADMIN_TOKEN: TEST_ADMIN_TOKEN });
const runIdOf = (stdout: string) => stdout.match(/demo, run ([0-9a-v]{6}):/)?.[1];

describe('bun run demo against a running service', () => {
  const runs: Array<{ code: number; stdout: string; stderr: string }> = [];

  test('runs to the end and prints each step as it happens', async () => {
    const r = await runDemo(target());
    runs.push(r);
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const o = r.stdout;
    const run = runIdOf(o)!;
    expect(run).toBeDefined();
    // 1. linked, and the mirror's events in the user's zone (TZ=Europe/Paris): the seeded wall times
    expect(o).toContain(`links.event LINKED demo-${run} -> owner`);
    expect(o).toMatch(/the mirror has them after [\d.]+ s \(events\.list\):\n\s+\w{3} \d+ \w{3} 09:00–09:15 {2}Standup\n\s+.*12:30–13:30 {2}Lunch with Sam\n\s+.*14:00–15:00 {2}Design review/);
    // 2. group, Slack ids found by lookup, rotation
    expect(o).toContain(`calendars.setSelected "On-call ${run}": synced and watched`);
    expect(o).toMatch(new RegExp(`createOncallGroup "Payments ${run}" .*Ada \\(U\\w+\\), Bob \\(U\\w+\\), Cy \\(U\\w+\\)`));
    expect(o).toMatch(/scheduleRotation: 6 shifts of 24 h[^\n]*\n(\s+.*(Ada|Bob|Cy)\n){6}/);
    // 3. decline -> declined -> swap -> Slack
    expect(o).toContain(`ada-${run}@example.com answers "No"`);
    expect(o).toMatch(/shift marked declined \(declinedOn \d{4}-\d{2}-\d{2}, declinedBy Ada\)/);
    expect(o).toMatch(/swap made: Bob takes .*, Ada takes /);
    expect(o).toContain(`now invites bob-${run}@example.com`);
    expect(o).toMatch(new RegExp(`Slack #oncall-${run}:\\n\\s+> .*On-call swap in \\*Payments ${run}\\*: <@U\\w+> declined`));
    // 4. booking requested, tentative event with the bookee invited, declined, deleted
    expect(o).toMatch(/bookings\.request "Intro call" .* -> \S+ requested/);
    expect(o).toMatch(new RegExp(`event bk[0-9a-f]{32} "Intro call" is tentative; bea-${run}@example.org invited \\(needsAction\\)`));
    expect(o).toMatch(/booking \S+ declined \(the bookee declined in Google Calendar\)/);
    expect(o).toMatch(/event bk[0-9a-f]{32} deleted/);
    // 5. the three queries, each run once
    expect(o).toContain(`open ${t.url}/graphql`);
    expect(o).toMatch(/# Owners and their calendars: 1 owner\(s\) with 2 calendar\(s\)\n\s+query Owners \{/);
    expect(o).toMatch(/: 6 shifts, 1 swap\(s\)\n\s+query OncallGroup \{/);
    expect(o).toMatch(/: 1 booking\(s\)\n\s+query Bookings \{/);
    expect(o).toMatch(/Done in [\d.]+ s\./);
  });

  test('what it printed is what the service holds', async () => {
    const run = runIdOf(runs[0]!.stdout)!;
    const groups = await t.graphql<any>(`{ oncallGroups(first: 50) { edges { node { name swaps { state fromEmail toEmail slackTs } shifts { status } } } } }`);
    const g = groups.body.data.oncallGroups.edges.map((e: any) => e.node).find((n: any) => n.name === `Payments ${run}`);
    expect(g.swaps).toEqual([{ state: 'COMPLETED', fromEmail: `ada-${run}@example.com`, toEmail: `bob-${run}@example.com`, slackTs: expect.any(String) }]);
    expect(g.shifts.map((s: any) => s.status)).toEqual(['SWAPPED', 'SWAPPED', 'SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'SCHEDULED']);
    const b = await t.graphql<any>(`query($o: String) { bookings(externalOwnerId: $o) { edges { node { status bookeeResponse googleEventId } } } }`, { o: `demo-${run}` });
    const [booking] = b.body.data.bookings.edges.map((e: any) => e.node);
    expect(booking).toMatchObject({ status: 'DECLINED', bookeeResponse: 'declined' });
    const live = (await (await fetch(`${emu.url}_emulator/calendars/${encodeURIComponent(`demo-${run}@example.com`)}/events`)).json()) as { items: Array<{ id: string }> };
    expect(live.items.some((e) => e.id === booking.googleEventId)).toBe(false);
    const slack = (await (await fetch(`${emu.url}_emulator/slack/messages?channel=${encodeURIComponent(`#oncall-${run}`)}`)).json()) as { items: unknown[] };
    expect(slack.items.length).toBe(1);
  });

  test('runs again on the same database: a fresh run id, nothing collides', async () => {
    const r = await runDemo(target());
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(runIdOf(r.stdout)).not.toBe(runIdOf(runs[0]!.stdout));
    expect(r.stdout).toMatch(/: 2 owner\(s\) with 4 calendar\(s\)\n/);
    expect(r.stdout).toMatch(/: 6 shifts, 1 swap\(s\)\n/);
    expect(r.stdout).toMatch(/: 1 booking\(s\)\n/);
  });
});

describe('started right after `bun run start` (the service still starting)', () => {
  test('waits for the service, then runs to the end', async () => {
    // The service's port refuses until the proxy opens: as while `bun run start` migrates.
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(t.url).port));
    proxy.down();
    const running = runDemo({ ...target(), CALWATCH_URL: `http://127.0.0.1:${proxy.port}` });
    await Bun.sleep(1500);
    proxy.up();
    const r = await running;
    await proxy.stop();
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`Waiting for calwatch to finish starting at http://127.0.0.1:${proxy.port} ...`);
    expect(r.stdout).toMatch(/Done in [\d.]+ s\./);
  });
});

describe('refusals', () => {
  test('nothing running: one line telling to run `bun run start` first, exit 1', async () => {
    const port = await freePort();
    const emuPort = await freePort();
    const r = await runDemo({ ...target(), CALWATCH_URL: `http://127.0.0.1:${port}`, EMULATOR_URL: `http://127.0.0.1:${emuPort}/` });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([`demo: calwatch is not running at http://127.0.0.1:${port}: run \`bun run start\` in another terminal first, then \`bun run demo\` again`]);
  });

  test('the emulator answers but the service never comes up: waits, then the same line, nothing done', async () => {
    const port = await freePort();
    const before = ((await (await fetch(`${emu.url}_emulator/users`)).json()) as { items: unknown[] }).items.length;
    const r = await runDemo({ ...target(), CALWATCH_URL: `http://127.0.0.1:${port}`, DEMO_TIMEOUT_SECONDS: '2' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`Waiting for calwatch to finish starting at http://127.0.0.1:${port} ...\n`);
    expect(r.stderr).toContain(`demo: calwatch is not running at http://127.0.0.1:${port}: run \`bun run start\``);
    expect(((await (await fetch(`${emu.url}_emulator/users`)).json()) as { items: unknown[] }).items.length).toBe(before);
  });

  test('defaults: PORT and EMULATOR_PORT on 127.0.0.1 when no URL is given', async () => {
    const port = await freePort();
    const r = await runDemo({ PORT: String(port), EMULATOR_PORT: String(await freePort()), SERVICE_TOKEN: TEST_SERVICE_TOKEN, ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`calwatch is not running at http://127.0.0.1:${port}:`);
    // and with the emulator's default port given as EMULATOR_PORT, the service's URL is still PORT's
    const r2 = await runDemo({ PORT: String(new URL(t.url).port), EMULATOR_PORT: String(await freePort()), SERVICE_TOKEN: TEST_SERVICE_TOKEN, ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('demo: no Google/Slack emulator at http://127.0.0.1:');
  });

  test('a wrong token is refused before anything is created', async () => {
    const before = ((await (await fetch(`${emu.url}_emulator/users`)).json()) as { items: unknown[] }).items.length;
    const r = await runDemo({ ...target(), SERVICE_TOKEN: 'not-the-service-token-000' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('demo: the service refused SERVICE_TOKEN (from the environment');
    const r2 = await runDemo({ ...target(), ADMIN_TOKEN: 'not-the-admin-token-0000' });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('demo: the service refused ADMIN_TOKEN');
    expect(((await (await fetch(`${emu.url}_emulator/users`)).json()) as { items: unknown[] }).items.length).toBe(before);
  });

  test('no tokens anywhere: says where they come from', async () => {
    const r = await runDemo({ CALWATCH_URL: t.url, EMULATOR_URL: emu.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('demo: no tokens: set SERVICE_TOKEN and ADMIN_TOKEN');
  });

  test('no emulator: says the demo needs the built-in one', async () => {
    const port = await freePort();
    const r = await runDemo({ ...target(), EMULATOR_URL: `http://127.0.0.1:${port}/` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`demo: no Google/Slack emulator at http://127.0.0.1:${port}/`);
  });
});

describe('wall-clock times of the demo', () => {
  test('a local time is placed with the offset of that day (DST)', () => {
    expect(at({ y: 2030, m: 3, d: 30 }, 9, 0, 'Europe/Paris').toISOString()).toBe('2030-03-30T08:00:00.000Z');
    expect(at({ y: 2030, m: 3, d: 31 }, 9, 0, 'Europe/Paris').toISOString()).toBe('2030-03-31T07:00:00.000Z');
    expect(at({ y: 2030, m: 11, d: 3 }, 9, 0, 'America/New_York').toISOString()).toBe('2030-11-03T14:00:00.000Z');
    expect(dayIn('Pacific/Auckland', new Date('2030-06-30T20:00:00Z'), 1)).toEqual({ y: 2030, m: 7, d: 2 });
    expect(dayIn('UTC', new Date('2030-12-31T23:00:00Z'), 1)).toEqual({ y: 2031, m: 1, d: 1 });
  });
});
