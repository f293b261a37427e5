// The README's first command as a newcomer runs it: `bun run start` with nothing configured, on the
// embedded PGlite under DATA_DIR and the built-in emulator. Ready quickly, SIGTERM exits 0, and a
// restart keeps the data.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../support/service.ts';

const MAIN = join(import.meta.dir, '..', '..', 'src', 'composition', 'main.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'calwatch-embedded-'));
let proc: ReturnType<typeof Bun.spawn> | undefined;

afterAll(() => {
  proc?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function start(port: number, emulatorPort: number): Promise<{ readyMs: number; out: () => string }> {
  const started = Date.now();
  let out = '';
  proc = Bun.spawn(['bun', MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir, PORT: String(port), EMULATOR_PORT: String(emulatorPort), LOG_LEVEL: 'warn' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  void (async () => {
    for await (const chunk of proc!.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
  })();
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { timeoutMs: 30_000, what: 'readyz 200' });
  return { readyMs: Date.now() - started, out: () => out };
}

test('starts on the embedded database within 10 s, stops on SIGTERM with 0, and keeps its data across a restart', async () => {
  const [port, emulatorPort] = [await freePort(), await freePort()];
  const first = await start(port, emulatorPort);
  expect(first.readyMs).toBeLessThan(10_000);
  const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { serviceToken: string };
  // Generated tokens are shown once, in the banner.
  await waitFor(() => first.out().includes(secrets.serviceToken), { what: 'banner with the generated token' });

  const emu = `http://127.0.0.1:${emulatorPort}/_emulator`;
  const user = (await (await fetch(`${emu}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'newcomer@example.com' }) })).json()) as { refreshToken: string };
  const auth = { authorization: `Bearer ${secrets.serviceToken}`, 'content-type': 'application/json' };
  const linked = await fetch(`http://127.0.0.1:${port}/trpc/links.event`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ type: 'LINKED', externalOwnerId: 'newcomer', refreshToken: user.refreshToken }),
  });
  expect(linked.status).toBe(200);
  const get = () => fetch(`http://127.0.0.1:${port}/trpc/links.get?input=${encodeURIComponent(JSON.stringify({ externalOwnerId: 'newcomer' }))}`, { headers: auth });
  await waitFor(async () => ((await (await get()).json()) as { result?: { data: { calendars: unknown[] } } }).result?.data.calendars.length === 1, { what: 'first calendar-list sync' });

  proc!.kill('SIGTERM');
  expect(await proc!.exited).toBe(0);

  const second = await start(port, emulatorPort);
  expect(second.out()).not.toContain(secrets.serviceToken); // shown once, not on every start
  const after = (await (await get()).json()) as { result: { data: { status: string; calendars: Array<{ calendarId: string }> } } };
  expect(after.result.data.status).toBe('active');
  expect(after.result.data.calendars[0]!.calendarId).toBe('newcomer@example.com');
  proc!.kill('SIGTERM');
  expect(await proc!.exited).toBe(0);
}, 90_000);
