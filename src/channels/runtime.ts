// Per-service state of the channels module: the webhook's channel cache, its batched lookup and
// durable-note writer. Kept by the context (a ModuleLocal), so that two services booted in one
// process (tests) never share a cache, while every verb of one service (jobs, hooks, webhook) does.
import { ModuleLocal, type Ctx } from '../context/index.ts';
import { ChannelCache } from './channel-cache.ts';
import { createChannelLoader, createNotificationWriter, type NoteRequest, type NoteResult } from './notification-writer.ts';
import type { CachedChannel } from './channel-cache.ts';
import { createDrainer } from './drain-sync-requests.ts';
import { SyncRequestHolds } from './sync-request-holds.ts';

export interface ChannelsRuntime {
  cache: ChannelCache;
  loadChannel: (id: string) => Promise<CachedChannel | null>;
  note: (req: NoteRequest) => Promise<NoteResult>;
  /** Resources whose sync request this process holds (their notifications need no write). */
  holds: SyncRequestHolds;
  /** Asks for a drain of the outbox (single flight; runs again if asked while running), or one in `afterMs`. */
  requestDrain: (afterMs?: number) => void;
  warnedNoPublicUrl: boolean;
}

const channelsRuntime = new ModuleLocal<ChannelsRuntime>('channels', (ctx) => {
  // Without the caller's transaction: the drainer and writer outlive the verb that first asks.
  const { tx: _tx, ...base } = ctx;
  const cache = new ChannelCache();
  const holds = new SyncRequestHolds();
  const requestDrain = createDrainer(base, holds);
  return {
    cache,
    holds,
    loadChannel: createChannelLoader(base, cache),
    note: createNotificationWriter(base, cache, holds, requestDrain),
    requestDrain,
    warnedNoPublicUrl: false,
  };
});

export const runtimeFor = (ctx: Ctx): ChannelsRuntime => ctx.locals.get(ctx, channelsRuntime);

/** Forget cached rows after this process renewed or stopped channels. */
export function forgetChannels(ctx: Ctx, ids: Iterable<string>): void {
  const rt = ctx.locals.peek(channelsRuntime);
  if (!rt) return;
  for (const id of ids) rt.cache.invalidate(id);
}

export function forgetOwnerChannels(ctx: Ctx, ownerId: string): void {
  ctx.locals.peek(channelsRuntime)?.cache.invalidateWhere((c) => c.ownerId === ownerId);
}

/** The watch address, or undefined (and one log line per process) when PUBLIC_URL is unset. */
export function webhookAddress(ctx: Ctx): string | undefined {
  const base = ctx.config.publicUrl;
  if (!base) {
    const rt = runtimeFor(ctx);
    if (!rt.warnedNoPublicUrl) {
      rt.warnedNoPublicUrl = true;
      ctx.log.warn({ module: 'channels' }, 'PUBLIC_URL is not set: no watch channels are registered; calendars are synced on schedule only');
    }
    return undefined;
  }
  return `${base.replace(/\/+$/, '')}/webhooks/google/calendar`;
}
