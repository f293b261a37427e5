// `bun run calwatch channels backfill [--owner <ownerId>] [--concurrency <n>]`: creates a watch
// channel for every selected calendar (and calendar list) that lacks one. Safe to run twice.
// src/cli.ts dispatches here with an opened context and its progress display (a bar on a terminal,
// plain lines otherwise); without one, plain lines go to stdout.
import type { Ctx } from '../context/index.ts';
import { backfillChannels } from './backfill.ts';

export interface CliProgress {
  update(done: number, total: number, note?: string): void;
  finish(summary: string): void;
}

export interface CliIo {
  progress(label: string): CliProgress;
  out(line: string): void;
}

const plainIo: CliIo = {
  progress(label) {
    let lastDecile = -1;
    return {
      update(done, total, note) {
        const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
        if (decile !== lastDecile || done === total) {
          lastDecile = decile;
          process.stdout.write(`${label}: ${done}/${total}${note ? ` ${note}` : ''}\n`);
        }
      },
      finish(summary) {
        process.stdout.write(`${label}: ${summary}\n`);
      },
    };
  },
  out: (line) => process.stdout.write(`${line}\n`),
};

export const CHANNELS_USAGE = 'channels backfill [--owner <ownerId>] [--concurrency <n>]';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Returns the process exit code. */
export async function runChannelsCommand(ctx: Ctx, args: string[], io: CliIo = plainIo): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'backfill') {
    io.out(`usage: calwatch ${CHANNELS_USAGE}`);
    return verb === undefined || verb === '--help' || verb === 'help' ? 0 : 2;
  }
  const ownerId = option(rest, '--owner');
  const concurrency = Number(option(rest, '--concurrency') ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    io.out('--concurrency must be an integer between 1 and 64');
    return 2;
  }
  const bar = io.progress('channels backfill');
  const result = await backfillChannels(ctx, {
    ...(ownerId ? { ownerId } : {}),
    concurrency,
    onProgress: (p) => bar.update(p.done, p.total, `created ${p.created}, failed ${p.failed}`),
  });
  if (result.disabled) {
    bar.finish('PUBLIC_URL is not set: no channels can be registered');
    return 1;
  }
  bar.finish(
    `${result.total} resources: ${result.created} created, ${result.skipped} already watched or skipped, ` +
      `${result.pollOnly} poll-only, ${result.failed} failed`,
  );
  for (const e of result.errors.slice(0, 20)) io.out(`  failed: owner ${e.ownerId} calendar ${e.calendarRowId ?? '(calendar list)'}: ${e.error}`);
  return result.failed > 0 ? 1 : 0;
}

export const channelsCommand = { name: 'channels', usage: CHANNELS_USAGE, run: runChannelsCommand };
