// `bun run start`: the whole service in one process.
import { loadConfig, ConfigError, type Config } from '../config/index.ts';
import { startService, type Service } from './service.ts';
import { createLogger } from '../log/index.ts';

function banner(config: Config, url: string, dbKind: string): string {
  const lines = [
    '',
    `  calwatch is up on ${url}  (${config.env}, database: ${dbKind === 'embedded' ? `embedded PGlite in ${config.dataDir}` : 'postgres'})`,
    config.useEmulator ? `  Google and Slack: built-in emulator on http://127.0.0.1:${config.emulatorPort}/` : '',
    `  tRPC: ${url}/trpc   GraphQL admin (GraphiQL): ${url}/graphql   health: ${url}/readyz`,
  ];
  // Generated development tokens are shown once, when they are created; values from the
  // environment are never printed.
  if (config.generated.serviceToken) lines.push(`  SERVICE_TOKEN (generated, kept in ${config.dataDir}/secrets.json): ${config.generated.serviceToken}`);
  if (config.generated.adminToken) lines.push(`  ADMIN_TOKEN   (generated, kept in ${config.dataDir}/secrets.json): ${config.generated.adminToken}`);
  if (!config.production && !config.generated.serviceToken) lines.push(`  Development tokens: ${config.dataDir}/secrets.json`);
  return lines.filter(Boolean).join('\n') + '\n';
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`calwatch: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger({ level: config.logLevel });

// Signals are handled from the first moment: one that arrives while the service is still starting
// stops it as soon as the start is done (the HTTP server may already answer /readyz by then).
let service: Service | undefined;
let signals = 0;
let stopping = false;
const stop = () => {
  if (!service || stopping) return;
  stopping = true;
  service.stop().then(
    () => process.exit(0),
    (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
const onSignal = (signal: string) => {
  signals += 1;
  if (signals > 1) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  log.info({ signal }, 'shutting down');
  stop();
};
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));

service = await startService(config, { log });
process.stdout.write(banner(config, service.url.replace('127.0.0.1', 'localhost'), service.ctx.runtime.dbKind));
log.info({ url: service.url, database: service.ctx.runtime.dbKind }, 'calwatch started');
if (signals > 0) stop();
