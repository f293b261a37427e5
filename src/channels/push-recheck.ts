// The push recheck: a notification is not a promise that the change is listable yet. Google gives no
// consistency guarantee between a push and the list that follows it ("Notifications are not 100%
// reliable", push guide, Special considerations), and changes have been seen listed only after a
// later change. So when the sync a notification asked for found nothing, one more incremental sync
// runs CHANNEL_PUSH_RECHECK_SECONDS after the calendar's latest notification. A sync that found
// changes after that notification makes the recheck unnecessary: in the common case (the change was
// listable) a push costs no extra call, only this job. A change listable later than the recheck is
// left to the silent-channel sweep (silent-channels.ts).
import { inArray, sql } from 'drizzle-orm';
import type { Ctx, TxCtx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { enqueueEventSync } from '../sync/index.ts';
import type { ChangeSet } from '../context/index.ts';
import { channelChangeSightings, channels } from '../../schema/channels.ts';
import { LIVE } from './queries.ts';
import { pushRecheckJob } from './jobs.ts';

/** In the drain's transaction: one recheck per notified calendar (`short` queue: one waiting per calendar). */
export async function schedulePushRechecks(ctx: Ctx, tx: Executor, calendarRowIds: string[]): Promise<void> {
  const seconds = ctx.config.channels.pushRecheckSeconds;
  if (seconds <= 0 || calendarRowIds.length === 0) return;
  await pushRecheckJob.sendMany(
    ctx,
    [...new Set(calendarRowIds)].map((calendarRowId) => ({ data: { calendarRowId }, singletonKey: calendarRowId, startAfter: seconds })),
    { tx },
  );
}

/** channels' change-set hook, in the sync's page transaction: this calendar's sync found changes now. */
export async function noteChangesSynced(ctx: TxCtx, cs: ChangeSet): Promise<void> {
  const { tx } = ctx;
  if (!ctx.config.publicUrl || ctx.config.channels.pushRecheckSeconds <= 0) return; // no channels, no rechecks
  const at = ctx.clock.now();
  await tx
    .insert(channelChangeSightings)
    .values({ calendarId: cs.calendarRowId, changesSyncedAt: at })
    .onConflictDoUpdate({ target: channelChangeSightings.calendarId, set: { changesSyncedAt: sql`greatest(${channelChangeSightings.changesSyncedAt}, excluded.changes_synced_at)` } });
}

export type RecheckOutcome = 'found' | 'queued' | 'later' | 'unwatched';

export async function recheckAfterPush(ctx: Ctx, calendarRowId: string): Promise<RecheckOutcome> {
  const [row] = await ctx.db
    .select({
      notifiedAt: sql<Date | string | null>`max(${channels.lastNotifiedAt})`,
      changesAt: sql<Date | string | null>`(select ${channelChangeSightings.changesSyncedAt} from ${channelChangeSightings} where ${channelChangeSightings.calendarId} = ${calendarRowId}::uuid)`,
    })
    .from(channels)
    .where(sql`${channels.calendarId} = ${calendarRowId}::uuid and ${inArray(channels.status, [...LIVE, 'superseded'])}`);
  const notifiedAt = row?.notifiedAt ? new Date(row.notifiedAt).getTime() : null;
  if (notifiedAt === null) return 'unwatched';
  const changesAt = row?.changesAt ? new Date(row.changesAt).getTime() : null;
  // A sync after the latest notification found what it announced.
  if (changesAt !== null && changesAt >= notifiedAt) return 'found';
  // A notification came in after this recheck was queued (it collapsed into it): wait for its turn.
  const dueInMs = notifiedAt + ctx.config.channels.pushRecheckSeconds * 1000 - ctx.clock.now().getTime();
  if (dueInMs > 1000) {
    await pushRecheckJob.send(ctx, { calendarRowId }, { singletonKey: calendarRowId, startAfter: Math.ceil(dueInMs / 1000) });
    return 'later';
  }
  await enqueueEventSync(ctx, calendarRowId, { reason: 'pushRecheck' });
  return 'queued';
}
