// When a channel's renewal runs: at its expiry minus the margin (CHANNEL_RENEW_MARGIN_SECONDS,
// default 24 h), or at half its life when it lives shorter than twice that (Google, or the
// emulator's fault injection, may grant far less than the TTL we asked for). A random part of the
// margin is taken off too, so that channels created together are not all renewed together.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { renewChannelJob } from './jobs.ts';

export function renewalDelaySeconds(ctx: Ctx, expiresAt: Date, random = Math.random()): number {
  const life = (expiresAt.getTime() - ctx.clock.now().getTime()) / 1000;
  if (life <= 0) return 0;
  const margin = Math.min(ctx.config.channels.renewMarginSeconds, life / 2);
  const spread = Math.min(margin * 0.2, 3600) * random;
  return Math.max(0, life - margin - spread);
}

/** Enqueued in the caller's transaction, keyed by channel: the sweep's own send collapses into it. */
export async function scheduleRenewal(ctx: Ctx, tx: Executor, channel: { id: string; expiresAt: Date | null }): Promise<void> {
  if (!channel.expiresAt) return;
  const delay = renewalDelaySeconds(ctx, channel.expiresAt);
  await renewChannelJob.send(ctx, { channelId: channel.id }, { tx, singletonKey: channel.id, ...(delay > 0 ? { startAfter: Math.round(delay * 1000) / 1000 } : {}) });
}
