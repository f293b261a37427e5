// `bun run calwatch <command>`: operations on the database the service uses (the same
// configuration, read from the environment). With the embedded database, stop the service first:
// PGlite is a single-process database.
import { loadConfig, ConfigError, type Config } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { openDatabase, runMigrations } from '../db/index.ts';
import { openContext, type OpenedContext } from '../composition/service.ts';
import { runChannelsCommand, listChannels, CHANNELS_USAGE } from '../channels/index.ts';
import { resyncOwner, rotateKey as rotateLinksKey, listOwners, getOwner } from '../links/index.ts';
import { getCalendar } from '../sync/index.ts';
import { rotateKey as rotateFanoutKey } from '../fanout/index.ts';
import { runAvailabilityCommand, AVAILABILITY_USAGE } from '../availability/index.ts';
import { createProgress, formatTable } from './progress.ts';
import { isAppError } from '../errors/index.ts';

const USAGE = `calwatch <command>

Commands:
  migrate                          apply database migrations (the service also does at boot)
  channels backfill [--owner <id>] [--concurrency <n>]
                                   create a watch channel for every selected calendar lacking one (safe to repeat)
  channels renew [--within <s>]    renew every active channel expiring within <s> seconds (default: the renew margin)
  availability rebuild [--owner <externalOwnerId>]
                                   re-derive blocked times from stored sources (every owner, or one), with a progress bar
  resync <externalOwnerId>         forget sync tokens and fully resync an owner's calendars
  rotate-key                       re-seal every stored secret under ENCRYPTION_KEY, bound to its row
                                   (configure the old key as ENCRYPTION_KEY_PREVIOUS while this runs)
  status                           owners, channels by expiry and queue depths
  --help                           this text`;

const io = {
  progress: (label: string) => createProgress(label),
  out: (line: string) => process.stdout.write(`${line}\n`),
};

async function withContext(config: Config, fn: (opened: OpenedContext) => Promise<number>): Promise<number> {
  // Logs go to stderr at warn: the CLI's own output is what a person reads.
  const log = createLogger({ level: 'warn', destination: process.stderr as never });
  const opened = await openContext(config, { log });
  try {
    return await fn(opened);
  } catch (err) {
    // A refusal (unknown owner, revoked grant...) is one line, not a stack trace.
    if (isAppError(err)) {
      io.out(`calwatch: ${err.message} (${err.code})`);
      return 1;
    }
    throw err;
  } finally {
    await opened.close();
  }
}

async function status(opened: OpenedContext): Promise<number> {
  const { ctx } = opened;
  const owners = await listOwners(ctx, { limit: 1000, offset: 0 });
  const byStatus = new Map<string, number>();
  for (const o of owners) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
  io.out(`database: ${ctx.runtime.dbKind}   owners: ${owners.length === 0 ? 'none' : [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}\n`);

  const channels = (await listChannels(ctx, { status: 'active', limit: 500 })).sort(
    (a, b) => (a.expiresAt?.getTime() ?? 0) - (b.expiresAt?.getTime() ?? 0),
  );
  io.out('Channels by expiry');
  const rows = [];
  for (const c of channels.slice(0, 20)) {
    const owner = await getOwner(ctx, c.ownerId);
    const calendar = c.calendarRowId ? await getCalendar(ctx, c.calendarRowId) : undefined;
    rows.push([
      c.expiresAt?.toISOString() ?? null,
      c.expiresAt ? humanDuration(c.expiresAt.getTime() - ctx.clock.now().getTime()) : null,
      owner?.externalOwnerId ?? c.ownerId,
      c.calendarRowId ? (calendar?.calendarId ?? c.calendarRowId) : '(calendar list)',
      c.notificationsCount,
      c.lastNotifiedAt?.toISOString() ?? null,
    ]);
  }
  io.out(formatTable(['expires at', 'in', 'owner', 'calendar', 'notifications', 'last notified'], rows));
  if (channels.length > 20) io.out(`... and ${channels.length - 20} more`);

  io.out('\nQueues');
  const queues = await ctx.jobs.counts();
  io.out(
    formatTable(
      ['queue', 'queued', 'deferred', 'active', 'retrying', 'failed', 'oldest queued'],
      queues.map((q) => [q.name, q.queued, q.deferred, q.active, q.retrying, q.failed, q.oldestQueuedAgeSeconds === null ? null : humanDuration(q.oldestQueuedAgeSeconds * 1000)]),
    ),
  );
  return 0;
}

function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 120) return `${s}s`;
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)}m`;
  if (Math.abs(s) < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === 'help' || command === '-h') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.out(`calwatch: ${err.message}`);
      return 1;
    }
    throw err;
  }
  switch (command) {
    case 'migrate': {
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        await runMigrations(database.url);
        io.out(`migrations applied (${database.kind})`);
        return 0;
      } finally {
        await database.close();
      }
    }
    case 'channels':
      if (args[0] !== 'backfill' && args[0] !== 'renew') {
        io.out(`usage: calwatch ${CHANNELS_USAGE}`);
        return 2;
      }
      return withContext(config, (o) => runChannelsCommand(o.ctx, args, io));
    case 'availability':
      if (args[0] !== 'rebuild') {
        io.out(`usage: calwatch ${AVAILABILITY_USAGE}`);
        return 2;
      }
      return withContext(config, (o) => runAvailabilityCommand(o.ctx, args, io));
    case 'resync': {
      const externalOwnerId = args[0];
      if (!externalOwnerId) {
        io.out('usage: calwatch resync <externalOwnerId>');
        return 2;
      }
      return withContext(config, async ({ ctx }) => {
        const result = await resyncOwner(ctx, { externalOwnerId });
        io.out(`resync queued for ${externalOwnerId} (owner ${result.ownerId}, ${result.status})`);
        return 0;
      });
    }
    case 'rotate-key':
      return withContext(config, async ({ ctx }) => {
        if (!ctx.keyring.previous) io.out('note: ENCRYPTION_KEY_PREVIOUS is not set: values under another key cannot be read');
        let unreadable = 0;
        for (const rotate of [rotateLinksKey, rotateFanoutKey]) {
          const r = await rotate(ctx);
          unreadable += r.unreadable;
          io.out(`${r.module}: ${r.reencrypted} re-encrypted, ${r.current} already under the current key${r.unreadable ? `, ${r.unreadable} unreadable` : ''}`);
        }
        if (unreadable > 0) {
          io.out(`calwatch: ${unreadable} sealed values do not open (rows named in the log): keep ENCRYPTION_KEY_PREVIOUS until they are replaced (LINKED, REFRESHED, a new subscription)`);
          return 1;
        }
        return 0;
      });
    case 'status':
      return withContext(config, status);
    default:
      io.out(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  process.exit(await runCli(process.argv.slice(2)));
}
