// `bun run calwatch channels backfill [--owner <ownerId>] [--concurrency <n>]`: creates a watch
// channel for every selected calendar (and calendar list) that lacks one. Safe to run twice.
// `bun run calwatch channels renew [--within <seconds>]`: renews every active channel expiring within
// the window (default: the renew margin) now. src/cli dispatches here with an opened context and its
// progress display (a bar on a terminal, plain lines otherwise).
import type { Ctx } from '../context/index.ts';
import { backfillChannels } from './backfill.ts';
import { listChannels } from './channel-view.ts';
import { renewChannel } from './renew.ts';

export interface CliProgress {
  update(done: number, total: number, note?: string): void;
  finish(summary: string): void;
}

export interface CliIo {
  progress(label: string): CliProgress;
  out(line: string): void;
}

export const CHANNELS_USAGE = 'channels backfill [--owner <ownerId>] [--concurrency <n>] | channels renew [--within <seconds>]';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Returns the process exit code. */
export async function runChannelsCommand(ctx: Ctx, args: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'renew') return renewExpiring(ctx, rest, io);
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
      `${result.pollOnly} poll-only, ${result.retrying} refused for now (retried later), ${result.failed} failed`,
  );
  for (const e of result.errors.slice(0, 20)) io.out(`  failed: owner ${e.ownerId} calendar ${e.calendarRowId ?? '(calendar list)'}: ${e.error}`);
  return result.failed > 0 ? 1 : 0;
}

async function renewExpiring(ctx: Ctx, args: string[], io: CliIo): Promise<number> {
  const within = Number(option(args, '--within') ?? ctx.config.channels.renewMarginSeconds);
  if (!Number.isFinite(within) || within <= 0) {
    io.out('--within must be a positive number of seconds');
    return 2;
  }
  const expiringBefore = new Date(ctx.clock.now().getTime() + within * 1000);
  const due = await listChannels(ctx, { status: 'active', expiringBefore, limit: 500 });
  const bar = io.progress('channels renew');
  const outcomes = new Map<string, number>();
  let done = 0;
  for (const channel of due) {
    const { outcome } = await renewChannel(ctx, channel.id);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    bar.update(++done, due.length);
  }
  bar.finish(due.length === 0 ? 'no active channel expires within the window' : [...outcomes].map(([k, n]) => `${n} ${k}`).join(', '));
  return 0;
}
