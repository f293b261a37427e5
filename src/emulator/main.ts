// `bun run emulator`: serves the emulator on EMULATOR_PORT (default 8788).

import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, startEmulator } from './index.ts';

const raw = process.env.EMULATOR_PORT;
const port = raw === undefined || raw === '' ? 8788 : Number(raw);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`EMULATOR_PORT must be a port number, got ${JSON.stringify(raw)}`);
  process.exit(1);
}
const hostname = process.env.EMULATOR_HOST ?? '127.0.0.1';

const emu = await startEmulator({ port, hostname });
console.log(`Google Calendar/OAuth/Slack emulator listening on ${emu.url}`);
console.log(`  googleapis rootUrl: ${emu.url}   token endpoint: ${emu.url}token   Slack: ${emu.url}slack/api/`);
console.log(`  default OAuth client: ${DEFAULT_CLIENT_ID} / ${DEFAULT_CLIENT_SECRET}   control API: ${emu.url}_emulator/`);

const shutdown = (): void => {
  void emu.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
