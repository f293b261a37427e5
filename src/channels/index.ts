// The `channels` module's public face: other modules import only from here.
// Watch channels (create, renew, stop, backfill) and the push-notification webhook.
import type { CalwatchModule, Ctx } from '../context/index.ts';
import { drainSyncRequests as drainPass } from './drain-sync-requests.ts';
import { HOLD_SECONDS, releaseHeldRequests } from './queries.ts';
import { router } from '../api/index.ts';
import { channelsJobs } from './jobs.ts';
import { channelsReactions } from './reactions.ts';
import { runtimeFor, webhookAddress } from './runtime.ts';
import { webhookRoutes } from './webhook.ts';
import { channelExpiryByCalendar } from './channel-view.ts';
import { calendarFreshness } from './freshness.ts';
import './admin/index.ts';

export const channelsRouter = router({});

export const channelsModule: CalwatchModule = {
  name: 'channels',
  jobs: channelsJobs,
  reactions: channelsReactions,
  provides: {
    // links.get shows each calendar's channel expiry (sync answers links.get's calendar list).
    channelExpiry: channelExpiryByCalendar,
    // links.get shows how each calendar is kept fresh: push, or polling and why.
    calendarFreshness,
  },
  hotRoutes: (ctx) => webhookRoutes(ctx),
  start: async (ctx) => {
    // Says once, at boot, when no channel can be registered (PUBLIC_URL unset).
    webhookAddress(ctx);
    // Sync requests noted before a crash, not yet handed to the sync: now, and once the hold of a
    // process that died just before (HOLD_SECONDS) has run out.
    runtimeFor(ctx).requestDrain();
    runtimeFor(ctx).requestDrain(HOLD_SECONDS * 1000 + 500);
  },
  // The webhook is closed: what this process holds goes to the sync now, or to whoever drains next.
  stop: async (ctx) => {
    const rt = runtimeFor(ctx);
    await releaseHeldRequests(ctx.db, rt.holds.holder);
    await drainPass(ctx, rt.holds);
  },
};

export { stopChannelsForOwner, stopChannelsForCalendar, stopChannel, type StopSummary } from './stop.ts';
export { createChannel, type CreateOutcome } from './create.ts';
export { renewChannel, sweepChannels, type RenewOutcome } from './renew.ts';
export { backfillChannels, type BackfillProgress, type BackfillResult } from './backfill.ts';
export { getChannel, listChannels, channelExpiryByCalendar, type ChannelView } from './channel-view.ts';
export { receiveNotification, type NotificationAnswer, type NotificationOutcome } from './receive-notification.ts';
export { WEBHOOK_PATH } from './webhook.ts';
export { drainSyncRequestsJob } from './jobs.ts';
/** One drain pass of this process's webhook outbox (the rows it holds, and those of dead holders). */
export const drainSyncRequests = (ctx: Ctx, opts: { limit?: number } = {}) => drainPass(ctx, runtimeFor(ctx).holds, opts);
export type { ChannelStatus, ChannelKind } from './queries.ts';
export { syncSilentCalendars } from './silent-channels.ts';
export { recheckAfterPush, type RecheckOutcome } from './push-recheck.ts';
export { calendarFreshness } from './freshness.ts';
export { runChannelsCommand, CHANNELS_USAGE, type CliIo, type CliProgress } from './cli.ts';
