// calwatch's Google Calendar + OAuth + Slack emulator. Self-contained: it imports nothing from the rest of
// calwatch, only npm libraries, so it could be published on its own. See docs/emulator.md.

import { createApp } from './app.ts';
import type { EmulatorOptions } from './config.ts';
import { EmulatorState } from './state.ts';

export type { EmulatorOptions } from './config.ts';
export type { ProjectLimitStatus, QuotaSettings } from './quota.ts';
export { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from './oauth-store.ts';

export interface Emulator {
  /** Base URL with a trailing slash, e.g. "http://127.0.0.1:41234/": googleapis' rootUrl. */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** The app's fetch handler, for driving the emulator in-process without a socket. */
  fetch: (req: Request) => Promise<Response>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(opts);
  const app = createApp(state);
  const fetch = async (req: Request): Promise<Response> => app.fetch(req);
  const hostname = opts.hostname ?? '127.0.0.1';
  const server = Bun.serve({ port: opts.port ?? 8788, hostname, fetch, idleTimeout: 30 });
  const port = server.port ?? opts.port ?? 8788;
  const host = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}/`,
    port,
    fetch,
    async stop(): Promise<void> {
      state.close();
      await server.stop(true);
    },
  };
}
