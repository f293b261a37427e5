// Shared start-up of the links suites: the emulator, the real service on its own database, and a
// raw SQL handle on that database to look at what was (not) stored.
import type postgres from 'postgres';
import type { Emulator } from '../../src/emulator/index.ts';
import type { TestService } from '../support/service.ts';
import { startServiceWithEmulator } from '../support/service-with-emulator.ts';

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

export async function startLinksHarness(
  name: string,
  env: Record<string, string> = {},
  modules: Pick<Parameters<typeof startServiceWithEmulator>[0], 'extraModules' | 'adjustModules'> = {},
): Promise<LinksHarness> {
  const pair = await startServiceWithEmulator({ name, env, ...modules });
  const { emu, ctl, t, sql } = pair;
  return {
    emu,
    t,
    sql,
    emuJson: ctl.json,
    googleUser: (email) => ctl.createUser(email),
    async tokenRequests(sinceId = 0) {
      return (await ctl.requests({ sinceId, path: '/token' })).filter((i) => i.path === '/token');
    },
    lastRequestId: ctl.requestMark,
    stop: pair.stop,
  };
}
