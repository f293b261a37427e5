// Renewal. Google has "no automatic way to renew" a channel: a new one with a new id is created,
// and the two overlap until the old one is stopped (push guide, "Renew notification channels").
// Each channel's renewal is a delayed job scheduled when it is created; a cron sweep catches any
// channel close to expiry whose renewal is not pending (failed for good, lost, or never scheduled),
// and replaces channels that expired unrenewed (their calendar is resynced then).
import type { Ctx } from '../context/index.ts';
import { createChannel, type CreateOutcome } from './create.ts';
import { abandonStalePending, channelById, expiringChannels, setStatus, type Channel } from './queries.ts';
import { forgetChannels } from './runtime.ts';
import { renewChannelJob, stopChannelJob } from './jobs.ts';

export type RenewOutcome = CreateOutcome | 'noop' | 'not-found';

export async function renewChannel(ctx: Ctx, channelId: string): Promise<{ outcome: RenewOutcome; channel?: Channel }> {
  const old = await channelById(ctx.db, channelId);
  if (!old) return { outcome: 'not-found' };
  if (old.replacedById || (old.status !== 'active' && old.status !== 'expired')) return { outcome: 'noop' };
  const now = ctx.clock.now();
  let status = old.status;
  if (status === 'active' && old.expiresAt && old.expiresAt <= now) {
    await setStatus(ctx.db, old.id, 'expired', now, { onlyFrom: ['active'] });
    status = 'expired';
    ctx.log.warn({ module: 'channels', channelId: old.id, expiresAt: old.expiresAt }, 'channel expired before its renewal; replacing it and resyncing');
  }
  const result = await createChannel(ctx, {
    ownerId: old.ownerId,
    calendarRowId: old.calendarId,
    replaces: { id: old.id, resourceId: old.resourceId, status },
    reason: 'renewal',
  });
  if (result.outcome === 'gone' || result.outcome === 'poll-only' || result.outcome === 'refused' || result.outcome === 'disabled') {
    // No replacement will come: stop the old one rather than renewing it every sweep until it dies.
    const stopped = await setStatus(ctx.db, old.id, 'stopped', ctx.clock.now(), {
      lastError: `not renewed: ${result.outcome}`,
      onlyFrom: ['active', 'expired'],
    });
    forgetChannels(ctx, [old.id]);
    if (stopped?.resourceId && status === 'active') {
      await stopChannelJob.send(ctx, { channelId: old.id, ownerId: old.ownerId, resourceId: stopped.resourceId });
    }
  }
  return result;
}

/**
 * The cron sweep: renewals for channels expiring within the margin (keyed by channel, so one already
 * pending absorbs it), spread over the next minute; expired ones at once. Pending rows whose creation
 * never finished are given up.
 */
export async function sweepChannels(ctx: Ctx, opts: { limit?: number; spreadSeconds?: number } = {}): Promise<{ scheduled: number; abandoned: number }> {
  const now = ctx.clock.now();
  const margin = ctx.config.channels.renewMarginSeconds;
  const spread = opts.spreadSeconds ?? 50;
  const rows = await expiringChannels(ctx.db, new Date(now.getTime() + margin * 1000), opts.limit ?? 5000);
  let scheduled = 0;
  for (const row of rows) {
    const expired = !row.expiresAt || row.expiresAt <= now;
    const startAfter = expired ? undefined : Math.round(Math.random() * Math.min(spread, Math.max(0, (row.expiresAt!.getTime() - now.getTime()) / 2000)));
    const id = await renewChannelJob.send(ctx, { channelId: row.id }, { singletonKey: row.id, ...(startAfter ? { startAfter } : {}) });
    if (id) scheduled++;
  }
  if (scheduled > 0) renewChannelJob.wake(ctx);
  const abandoned = await abandonStalePending(ctx.db, new Date(now.getTime() - 10 * 60_000), now);
  forgetChannels(ctx, abandoned.map((r) => r.id));
  if (scheduled > 0 || abandoned.length > 0) ctx.log.info({ module: 'channels', scheduled, abandoned: abandoned.length }, 'channel sweep');
  return { scheduled, abandoned: abandoned.length };
}
