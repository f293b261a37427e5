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
import { getCalendar, markPollOnly, enqueueEventSync, enqueueCalendarListSync } from '../sync/index.ts';
import { getOwner } from '../links/index.ts';
import { STOP_JOB } from './job-names.ts';
import { watchAtGoogle, stopAtGoogle } from './google-calls.ts';
import { activate, currentChannel, insertPending, resourceKeyFor, setStatus, supersede, type Channel } from './queries.ts';
import { scheduleRenewal } from './renewal-schedule.ts';
import { forgetChannels, webhookAddress } from './runtime.ts';

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
}

/** Reasons Google gives for a watch it will never accept on that calendar. */
const NOT_WATCHABLE = new Set(['pushNotSupportedForRequestedResource']);

export async function createChannel(ctx: Ctx, input: CreateInput): Promise<{ outcome: CreateOutcome; channel?: Channel }> {
  const log = ctx.log.child({ module: 'channels', ownerId: input.ownerId, calendarRowId: input.calendarRowId ?? null });
  const address = webhookAddress(ctx);
  if (!address) return { outcome: 'disabled' };

  const calendarRowId = input.calendarRowId ?? null;
  let googleCalendarId: string | null = null;
  if (calendarRowId) {
    const cal = await getCalendar(ctx, calendarRowId);
    if (!cal || !cal.selected || cal.deleted || cal.ownerId !== input.ownerId) return { outcome: 'gone' };
    if (cal.pollOnly) return { outcome: 'poll-only' };
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
    await setStatus(ctx.db, id, 'stopped', ctx.clock.now(), { lastError: err.message, onlyFrom: ['pending'] });
    const reason = err.details?.reason ?? err.code;
    if (calendarRowId && (NOT_WATCHABLE.has(reason) || err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')) {
      // Not retried: the sync module polls this calendar from now on.
      await markPollOnly(ctx, calendarRowId, `watch refused: ${reason}`);
      log.info({ reason }, 'Google will not watch this calendar; it is polled instead');
      return { outcome: 'poll-only' };
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
        await ctx.jobs.send(STOP_JOB, { channelId: old.id, ownerId: old.ownerId, resourceId: old.resourceId }, { tx });
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
    await scheduleRenewal(ctx, tx, row);
    return row;
  });
  if (input.replaces) forgetChannels(ctx, [input.replaces.id]);

  if (!done) {
    await stopAtGoogle(ctx, input.ownerId, id, answer.resourceId).catch(async (err) => {
      log.warn({ err: isAppError(err) ? err.message : String(err), channelId: id }, 'could not stop a channel cancelled during its creation; retrying in a job');
      await ctx.jobs.send(STOP_JOB, { channelId: id, ownerId: input.ownerId, resourceId: answer.resourceId });
    });
    return { outcome: 'gone' };
  }
  ctx.jobs.wake(STOP_JOB);
  log.info({ channelId: id, expiresAt, replaces: input.replaces?.id ?? null, reason: input.reason }, 'watch channel created');
  return { outcome: 'created', channel: done };
}

/** For the admin API: a typed NOT_FOUND when asked to act on a channel that does not exist. */
export function channelNotFound(id: string): AppError {
  return new AppError('NOT_FOUND', `No channel ${id}`);
}
