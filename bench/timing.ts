// Shared by the query benchmarks: percentiles, a timed loop with warm-up, and the database and bare
// context the availability benchmarks call the module's verbs on.
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { runMigrations } from '../src/db/index.ts';
import { createLogger } from '../src/log/index.ts';
import { systemClock, type Ctx } from '../src/context/index.ts';
import { join } from 'node:path';
import { createTestDatabase } from '../tests/support/db.ts';
import { freePort, waitFor } from '../tests/support/service.ts';

/** The p-th percentile (nearest rank) of `xs`. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Runs `fn` `warmup` times untimed, then `n` times timed, one after another: p50, p99 and mean in ms. */
export async function measure(n: number, fn: () => Promise<unknown>, warmup = 3): Promise<{ p50: number; p99: number; mean: number; n: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((a, b) => a + b, 0) / n, n };
}

/** A fresh migrated database and the context availability's verbs read (db, log, clock, horizon). */
export async function openAvailabilityBench() {
  const database = await createTestDatabase();
  await runMigrations(database.url);
  const client = postgres(database.url, { max: 4, onnotice: () => {} });
  const db = drizzle(client);
  const ctx = {
    db,
    log: createLogger({ level: 'silent' }),
    clock: systemClock,
    config: { availability: { horizonDays: 180 } },
  } as unknown as Ctx;
  return { database, client, db, ctx };
}

/**
 * Seeds `n` timed events on a calendar of the emulator, 32 PUTs at a time (the sync benchmarks'
 * shared load: two years of half-hour meetings with the owner and one guest, 200-byte descriptions).
 */
export async function seedBenchEvents(
  put: (path: string, body: unknown, method: 'PUT') => Promise<unknown>,
  calendarId: string,
  n: number,
  ownerEmail: string,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const day = new Date(Date.UTC(2031, 0, 1) + (i % 730) * 86_400_000).toISOString().slice(0, 10);
      const hour = String(8 + (i % 10)).padStart(2, '0');
      await put(`calendars/${encodeURIComponent(calendarId)}/events/bench${i.toString(32).padStart(5, '0')}`, {
        summary: `bench event ${i}`,
        start: { dateTime: `${day}T${hour}:00:00Z` },
        end: { dateTime: `${day}T${hour}:30:00Z` },
        attendees: [{ email: ownerEmail, responseStatus: 'accepted' }, { email: `guest${i % 50}@example.com`, responseStatus: 'needsAction' }],
        description: 'x'.repeat(200),
      }, 'PUT');
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

/**
 * The emulator in a process of its own (so its CPU is not the service's), on a free port: `url` for
 * the service, `emu(path, body?, method?)` for its control API, `stop()` when done.
 */
export async function startBenchEmulator(): Promise<{ url: string; emu: (path: string, body?: unknown, method?: string) => Promise<any>; stop: () => void }> {
  const port = await freePort();
  const proc = Bun.spawn(['bun', 'run', join(import.meta.dir, '..', 'src', 'emulator', 'main.ts')], {
    env: { ...process.env, EMULATOR_PORT: String(port) },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  const stop = () => proc.kill();
  process.on('exit', stop);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => (await fetch(`${url}_emulator/calendars`)).ok, { what: 'emulator', timeoutMs: 20_000 });
  const emu = async (path: string, body?: unknown, method?: string) => {
    const res = await fetch(`${url}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  return { url, emu, stop };
}
