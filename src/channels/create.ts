// createChannel: one watch channel for one resource (a calendar's events, or an owner's calendar
// list). The row is stored `pending` BEFORE Google is asked, because Google may deliver the `sync`
// message before the watch call even answers (push guide, "Sync message"), and the webhook must
// know the channel and its token by then. A renewal is the same call with `replaces`: the
// replacement is created and stored first, and only then is the old channel superseded and stopped,
// so the two overlap and no notification falls between them.
import type { Ctx } from '../context/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { classifyGoogleError } from '../google/index.ts';
import { hashSecret, randomToken } from '../crypto/index.ts';
import { getCalendar, markPollOnly, clearPollOnly, enqueueEventSync, enqueueCalendarListSync } from '../sync/index.ts';
import { getOwner } from '../links/index.ts';
import { watchAtGoogle, stopAtGoogle } from './google-calls.ts';
import { activate, currentChannel, insertPending, resourceKeyFor, setStatus, supersede, type Channel } from './queries.ts';
import { scheduleRenewal } from './renewal-schedule.ts';
import { forgetChannels, webhookAddress } from './runtime.ts';
import { createChannelJob, stopChannelJob } from './jobs.ts';

export type CreateOutcome =
  /** A new channel is live. */
  | 'created'
  /** The resource already has a live channel (nothing done). */
  | 'exists'
  /** Another creation or renewal for this resource is under way (nothing done). */
  | 'in-flight'
  /** PUBLIC_URL is unset: no channels at all. */
  | 'disabled'
  /** The calendar is no longer selected, deleted, or the owner is not active. */
  | 'gone'
  /** Google refuses to watch this calendar for good: it is polled instead. */
  | 'poll-only'
  /** Google refused with 403/404: tried again on a backoff (CHANNEL_WATCH_RETRY_SECONDS); polled meanwhile. */
  | 'retry-later'
  /** Google refused for good for another reason (dead grant, bad address): logged, not retried. */
  | 'refused';

export interface CreateInput {
  ownerId: string;
  /** calendars.id; null or absent for the owner's calendar-list channel. */
  calendarRowId?: string | null;
  /** Renewal: the channel this one replaces. */
  replaces?: Pick<Channel, 'id' | 'resourceId' | 'status'>;
  /** Why (logged; passed to the sync enqueued after a renewal). */
  reason?: string;
  /** How many 403/404 refusals in a row came before this try (the retry job counts them). */
  attempt?: number;
}

/** Reasons Google gives for a watch it will never accept on that calendar. */
const NOT_WATCHABLE = new Set(['pushNotSupportedForRequestedResource']);

/** A poll-only mark for good (Google will never push this calendar), as opposed to one left by a 403/404. */
export const isPushNotSupported = (pollOnlyReason: string | null) => [...NOT_WATCHABLE].some((r) => pollOnlyReason?.includes(r) ?? false);

/** lastError of a channel row whose watch Google refused with 403/404 (freshness reads it back). */
export const WATCH_REFUSED = 'watch refused';

/** Backoff of a watch refused with 403/404: base x 2^(refusals - 1), at most a day. */
export const MAX_WATCH_RETRY_SECONDS = 86_400;
export const watchRetryDelaySeconds = (base: number, refusals: number) => Math.min(MAX_WATCH_RETRY_SECONDS, base * 2 ** Math.min(Math.max(refusals - 1, 0), 20));

export async function createChannel(ctx: Ctx, input: CreateInput): Promise<{ outcome: CreateOutcome; channel?: Channel }> {
  const log = ctx.log.child({ module: 'channels', ownerId: input.ownerId, calendarRowId: input.calendarRowId ?? null });
  const address = webhookAddress(ctx);
  if (!address) return { outcome: 'disabled' };

  const calendarRowId = input.calendarRowId ?? null;
  let googleCalendarId: string | null = null;
  if (calendarRowId) {
    const cal = await getCalendar(ctx, calendarRowId);
    if (!cal || !cal.selected || cal.deleted || cal.ownerId !== input.ownerId) return { outcome: 'gone' };
    // Only Google's "not supported" is for good; a mark left by a 403/404 (older versions) is retried.
    if (cal.pollOnly && isPushNotSupported(cal.pollOnlyReason)) return { outcome: 'poll-only' };
    googleCalendarId = cal.calendarId;
  }
  const owner = await getOwner(ctx, input.ownerId);
  if (!owner || owner.status !== 'active') return { outcome: 'gone' };

  const resourceKey = resourceKeyFor({ ownerId: input.ownerId, calendarRowId });
  const token = ctx.config.google.webhookToken ?? randomToken(32);
  const id = crypto.randomUUID();
  const now = ctx.clock.now();

  const pending = await ctx.db.transaction(async (tx) => {
    if (!input.replaces) {
      const current = await currentChannel(tx, resourceKey);
      if (current && (current.status === 'pending' || !current.expiresAt || current.expiresAt > now)) return 'exists' as const;
    }
    const row = await insertPending(tx, {
      id,
      ownerId: input.ownerId,
      calendarId: calendarRowId,
      kind: calendarRowId ? 'events' : 'calendarList',
      resourceKey,
      tokenHash: hashSecret(token),
      replacesId: input.replaces?.id ?? null,
      createdAt: now,
      updatedAt: now,
    });
    return row ?? ('in-flight' as const);
  });
  if (typeof pending === 'string') return { outcome: pending };

  let answer;
  try {
    answer = await watchAtGoogle(ctx, input.ownerId, googleCalendarId, { id, token, address, ttlSeconds: ctx.config.channels.ttlSeconds });
  } catch (raw) {
    const err = classifyGoogleError(raw);
    const reason = err.details?.reason ?? err.code;
    const refusedForNow = calendarRowId !== null && !NOT_WATCHABLE.has(reason) && (err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN');
    await setStatus(ctx.db, id, 'stopped', ctx.clock.now(), {
      lastError: refusedForNow ? `${WATCH_REFUSED} (${reason}): ${err.message}` : err.message,
      onlyFrom: ['pending'],
    });
    if (calendarRowId && NOT_WATCHABLE.has(reason)) {
      // Holiday, birthday, other users' public calendars: never pushed. The sync module polls it for good.
      await markPollOnly(ctx, calendarRowId, `watch refused: ${reason}`);
      log.info({ reason }, 'Google will not watch this calendar; it is polled instead');
      return { outcome: 'poll-only' };
    }
    if (calendarRowId && refusedForNow) {
      // A 403/404 may pass (access changing, Google's side): tried again on a backoff. Meanwhile the
      // calendar has no live channel, so the silent-channel sweep polls it as unwatched.
      const refusals = (input.attempt ?? 0) + 1;
      const delay = watchRetryDelaySeconds(ctx.config.channels.watchRetrySeconds, refusals);
      await createChannelJob.send(
        ctx,
        { ownerId: input.ownerId, calendarRowId, reason: 'watch-retry', attempt: refusals },
        { singletonKey: resourceKey, startAfter: delay },
      );
      log.info({ reason, refusals, retryInSeconds: delay }, 'Google refused the watch; polled meanwhile, tried again later');
      return { outcome: 'retry-later' };
    }
    if (!err.retryable) {
      log.warn({ err: { code: err.code, message: err.message } }, 'watch refused for good');
      return { outcome: 'refused' };
    }
    throw err;
  }

  const expiresAt = new Date(answer.expiration ?? now.getTime() + ctx.config.channels.ttlSeconds * 1000);
  const done = await ctx.db.transaction(async (tx) => {
    const row = await activate(tx, id, { resourceId: answer.resourceId, resourceUri: answer.resourceUri, expiresAt, now: ctx.clock.now() });
    // Stopped while we waited for Google (calendar deselected, owner revoked): undo at Google below.
    if (!row) return undefined;
    if (input.replaces) {
      const old = await supersede(tx, input.replaces.id, id, ctx.clock.now());
      if (old?.resourceId && old.status === 'superseded') {
        await stopChannelJob.send(ctx, { channelId: old.id, ownerId: old.ownerId, resourceId: old.resourceId }, { tx });
      }
      // A change notified on the old channel just before it was superseded may be answered 204
      // without a sync; and an expired channel missed changes. One coalesced sync covers both.
      const reason = input.replaces.status === 'expired' ? 'channel-expired' : 'channel-renewed';
      if (calendarRowId) await enqueueEventSync(ctx, calendarRowId, { tx, reason });
      else await enqueueCalendarListSync(ctx, input.ownerId, { tx, reason });
    } else {
      // A change made after the last sync listed and before this watch began is notified by no
      // one: one incremental sync from now covers it (usually empty; background work).
      if (calendarRowId) await enqueueEventSync(ctx, calendarRowId, { tx, reason: 'watched' });
      else await enqueueCalendarListSync(ctx, input.ownerId, { tx, reason: 'watched' });
    }
    // Google watches it (again): a poll-only mark left by an older 403/404 no longer applies.
    if (calendarRowId) await clearPollOnly(ctx, calendarRowId, { tx });
    await scheduleRenewal(ctx, tx, row);
    return row;
  });
  if (input.replaces) forgetChannels(ctx, [input.replaces.id]);

  if (!done) {
    await stopAtGoogle(ctx, input.ownerId, id, answer.resourceId).catch(async (err) => {
      log.warn({ err: isAppError(err) ? err.message : String(err), channelId: id }, 'could not stop a channel cancelled during its creation; retrying in a job');
      await stopChannelJob.send(ctx, { channelId: id, ownerId: input.ownerId, resourceId: answer.resourceId });
    });
    return { outcome: 'gone' };
  }
  stopChannelJob.wake(ctx);
  log.info({ channelId: id, expiresAt, replaces: input.replaces?.id ?? null, reason: input.reason }, 'watch channel created');
  return { outcome: 'created', channel: done };
}

/** For the admin API: a typed NOT_FOUND when asked to act on a channel that does not exist. */
export function channelNotFound(id: string): AppError {
  return new AppError('NOT_FOUND', `No channel ${id}`);
}
