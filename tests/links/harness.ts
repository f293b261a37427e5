// Shared start-up of the links suites: the emulator, the real service on its own database, and a
// raw SQL handle on that database to look at what was (not) stored.
import postgres from 'postgres';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { startTestService, type TestService } from '../support/service.ts';

export interface LinksHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  /** A user at the emulator with a grant for the default client: {email, refreshToken}. */
  googleUser(email: string): Promise<{ email: string; refreshToken: string }>;
  tokenRequests(sinceId?: number): Promise<Array<{ id: number; path: string; status: number; query: Record<string, unknown> }>>;
  lastRequestId(): Promise<number>;
  stop(): Promise<void>;
}

export async function startLinksHarness(name: string, env: Record<string, string> = {}): Promise<LinksHarness> {
  const emu = await startEmulator({ port: 0 });
  const t = await startTestService({ name, emulatorUrl: emu.url, env });
  const sql = postgres(t.database.url!, { max: 2, onnotice: () => {} });
  const emuJson = async (path: string, body?: unknown, method?: string) => {
    const res = await fetch(`${emu.url}_emulator/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    emu,
    t,
    sql,
    emuJson,
    googleUser: (email) => emuJson('users', { email }),
    async tokenRequests(sinceId = 0) {
      const r = await emuJson(`requests?path=/token&since=${sinceId}`);
      return r.items.filter((i: { path: string }) => i.path === '/token');
    },
    async lastRequestId() {
      const r = await emuJson('requests');
      return r.items.length ? r.items[r.items.length - 1].id : 0;
    },
    async stop() {
      await sql.end({ timeout: 2 });
      await t.stop();
      await emu.stop();
    },
  };
}
