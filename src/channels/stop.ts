// Stopping channels: marked stopped here first (the webhook ignores them from then on), then
// channels.stop at Google. A 404 from Google counts as stopped; so does a dead grant (the channel
// cannot be stopped by anyone then, and expires by itself).
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { isAppError } from '../errors/index.ts';
import { stopAtGoogle } from './google-calls.ts';
import { channelById, markStoppedAtGoogle, recordError, setStatus, stopAll, type Channel } from './queries.ts';
import { forgetChannels } from './runtime.ts';
import { stopChannelJob } from './jobs.ts';

export interface StopSummary {
  stopped: number;
  /** Channels Google could not be told about (they expire by themselves). */
  failed: number;
}

async function stopManyAtGoogle(ctx: Ctx, rows: Channel[]): Promise<StopSummary> {
  let failed = 0;
  const queue = rows.filter((r) => r.resourceId);
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      try {
        await stopAtGoogle(ctx, row.ownerId, row.id, row.resourceId!);
      } catch (err) {
        failed++;
        const message = isAppError(err) ? err.message : String(err);
        ctx.log.warn({ module: 'channels', channelId: row.id, err: message }, 'could not stop a channel at Google; it will expire by itself');
        await recordError(ctx.db, row.id, `stop failed: ${message}`, ctx.clock.now()).catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
  return { stopped: rows.length - failed, failed };
}

/** Stops every channel of an owner, at Google too (links calls it before unlinking). */
export async function stopChannelsForOwner(ctx: Ctx, ownerId: string): Promise<StopSummary> {
  const rows = await stopAll(ctx.db, { ownerId }, ctx.clock.now(), 'owner unlinked');
  forgetChannels(ctx, rows.map((r) => r.id));
  return stopManyAtGoogle(ctx, rows);
}

/** Stops every channel of a calendar, at Google too. */
export async function stopChannelsForCalendar(ctx: Ctx, calendarRowId: string): Promise<StopSummary> {
  const rows = await stopAll(ctx.db, { calendarRowId }, ctx.clock.now(), 'calendar no longer watched');
  forgetChannels(ctx, rows.map((r) => r.id));
  return stopManyAtGoogle(ctx, rows);
}

/**
 * Inside someone else's transaction (a sync change set, an owner event): mark stopped now, and
 * enqueue the calls to Google in that same transaction (never call Google inside it).
 * `callGoogle: false` for a dead grant: nobody can stop those channels, they expire by themselves.
 */
export async function stopChannelsInTx(
  tx: Executor,
  ctx: Ctx,
  where: { ownerId: string } | { calendarRowId: string },
  reason: string,
  opts: { callGoogle: boolean },
): Promise<number> {
  const rows = await stopAll(tx, where, ctx.clock.now(), reason);
  forgetChannels(ctx, rows.map((r) => r.id));
  if (opts.callGoogle) {
    for (const r of rows) {
      if (r.resourceId && r.status !== 'expired') {
        await stopChannelJob.send(ctx, { channelId: r.id, ownerId: r.ownerId, resourceId: r.resourceId }, { tx });
      }
    }
  }
  return rows.length;
}

/** One channel (admin). Returns the row after, or undefined when there is no such channel. */
export async function stopChannel(ctx: Ctx, channelId: string): Promise<Channel | undefined> {
  const row = await channelById(ctx.db, channelId);
  if (!row) return undefined;
  const now = ctx.clock.now();
  const stopped = (await setStatus(ctx.db, row.id, 'stopped', now, { lastError: 'stopped by an administrator', onlyFrom: ['pending', 'active', 'expired'] })) ?? row;
  forgetChannels(ctx, [row.id]);
  if (row.resourceId && (row.status === 'active' || row.status === 'pending' || (row.status === 'superseded' && !row.stoppedAt))) {
    await runStopJob(ctx, { channelId: row.id, ownerId: row.ownerId, resourceId: row.resourceId });
  }
  return (await channelById(ctx.db, row.id)) ?? stopped;
}

/** The `channels.stop` job: tell Google; a retryable failure throws (the queue retries it). */
export async function runStopJob(ctx: Ctx, data: { channelId: string; ownerId: string; resourceId: string }): Promise<string> {
  const result = await stopAtGoogle(ctx, data.ownerId, data.channelId, data.resourceId);
  await markStoppedAtGoogle(ctx.db, data.channelId, ctx.clock.now());
  return result;
}
