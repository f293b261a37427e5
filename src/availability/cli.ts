// `bun run calwatch availability rebuild [--owner <externalOwnerId>]`: re-derives blocked times from
// the stored sources (every owner, or one), in this process, with a progress bar. The run is the
// same kind the service makes when the rules version changes: a service running meanwhile shares it
// (owners are never done twice), and one interrupted is finished by the service at its next start.
import type { Ctx } from '../context/index.ts';
import { processRebuild, startRebuild } from './rebuild-owners.ts';

/** What src/cli hands over: its progress display (a bar on a terminal, plain lines otherwise) and output. */
export interface CliIo {
  progress(label: string): { update(done: number, total: number, note?: string): void; finish(summary: string): void };
  out(line: string): void;
}

export const AVAILABILITY_USAGE = 'availability rebuild [--owner <externalOwnerId>]';

/** Returns the process exit code. */
export async function runAvailabilityCommand(ctx: Ctx, args: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'rebuild') {
    io.out(`usage: calwatch ${AVAILABILITY_USAGE}`);
    return verb === undefined || verb === '--help' || verb === 'help' ? 0 : 2;
  }
  const i = rest.indexOf('--owner');
  const externalOwnerId = i >= 0 ? rest[i + 1] : undefined;
  if ((i >= 0 && !externalOwnerId) || rest.length !== (i >= 0 ? 2 : 0)) {
    io.out(`usage: calwatch ${AVAILABILITY_USAGE}`);
    return 2;
  }
  const run = await startRebuild(ctx, { background: false, ...(externalOwnerId ? { externalOwnerId } : {}) });
  const bar = io.progress('availability rebuild');
  bar.update(0, run.total);
  const started = Date.now();
  const p = await processRebuild(ctx, run.id, { onProgress: (x) => bar.update(x.done, x.total) });
  bar.finish(`${p.done} owner${p.done === 1 ? '' : 's'} rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s (run ${run.id})`);
  return 0;
}
