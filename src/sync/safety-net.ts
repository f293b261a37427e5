// Push is never guaranteed ("Notifications are not 100% reliable", push guide), and Google does not
// queue notifications for a receiver that was down. So: a cron finds calendars not synced for a
// while and schedules one incremental sync each, spread over the cron period; and at start every
// selected calendar gets one, spread at SYNC_CATCHUP_PER_SECOND. The deferred requests sit in their
// own queue (`sync.poll`), not in `sync.events`, so that a deferred request never holds the
// calendar's single queued slot and delays a push-triggered sync.
import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { calendars } from '../../schema/sync.ts';
import { loadCalendarRow } from './calendars.ts';
import { enqueueEventSync } from './enqueue.ts';
import { pollJob } from './jobs.ts';

/** The safety-net cron runs every 5 minutes ('*\/5 * * * *'). */
export const SAFETY_NET_PERIOD_SECONDS = 300;

interface PollRequest {
  calendarRowId: string;
  reason: 'poll' | 'catchup';
  startAfterSeconds: number;
}

async function schedulePolls(ctx: Ctx, requests: PollRequest[]): Promise<number> {
  const scheduledAt = ctx.clock.now().toISOString();
  let inserted = 0;
  for (let i = 0; i < requests.length; i += 1000) {
    const batch = requests.slice(i, i + 1000).map((r) => ({
      data: { calendarRowId: r.calendarRowId, reason: r.reason, scheduledAt },
      // One pending request per (kind, calendar): the `short` policy drops repeats.
      singletonKey: `${r.reason}:${r.calendarRowId}`,
      ...(r.startAfterSeconds > 0 ? { startAfter: r.startAfterSeconds } : {}),
    }));
    const ids = await ctx.jobs.boss.insert(pollJob.name, batch, { returnId: true });
    inserted += ids?.length ?? 0;
  }
  pollJob.wake(ctx);
  return inserted;
}

/**
 * Due: selected calendars not synced within SYNC_POLL_INTERVAL_SECONDS (6 h), or within
 * SYNC_SILENT_THRESHOLD_SECONDS (15 min) for calendars Google cannot watch (poll-only) and for
 * every calendar when no PUBLIC_URL is configured (no channels at all). At most a fair share per
 * run, oldest first, so a backlog spreads over several periods instead of landing at once.
 */
export async function runSafetyNet(ctx: Ctx): Promise<{ due: number; scheduled: number }> {
  const now = ctx.clock.now().getTime();
  const { pollIntervalSeconds, silentThresholdSeconds } = ctx.config.sync;
  const pollBefore = new Date(now - pollIntervalSeconds * 1000);
  const silentBefore = new Date(now - silentThresholdSeconds * 1000);
  const noChannels = !ctx.config.publicUrl;
  const [{ total } = { total: 0 }] = await ctx.db
    .select({ total: sql<number>`count(*)::int` })
    .from(calendars)
    .where(and(eq(calendars.selected, true), eq(calendars.deleted, false)));
  const fastest = noChannels ? silentThresholdSeconds : Math.min(pollIntervalSeconds, silentThresholdSeconds);
  const budget = Math.max(100, Math.ceil((total * SAFETY_NET_PERIOD_SECONDS) / Math.max(fastest, 1)) * 2);
  const due = await ctx.db
    .select({ id: calendars.id })
    .from(calendars)
    .where(
      and(
        eq(calendars.selected, true),
        eq(calendars.deleted, false),
        or(
          isNull(calendars.lastSyncedAt),
          lt(calendars.lastSyncedAt, pollBefore),
          and(noChannels ? sql`true` : eq(calendars.pollOnly, true), lt(calendars.lastSyncedAt, silentBefore)),
        ),
      ),
    )
    .orderBy(sql`${calendars.lastSyncedAt} asc nulls first`, asc(calendars.id))
    .limit(budget);
  // Spread over the cron period, but never beyond the interval that made them due: with an
  // interval shorter than the period (tests, small deployments), a calendar used to wait up to the
  // whole period for its poll (tests/reliability/google-faults.test.ts). Production defaults
  // (6 h, 15 min) are longer than the period: unchanged.
  const step = due.length > 0 ? Math.min(SAFETY_NET_PERIOD_SECONDS, fastest) / due.length : 0;
  const scheduled = await schedulePolls(
    ctx,
    due.map((c, i) => ({ calendarRowId: c.id, reason: 'poll' as const, startAfterSeconds: Math.floor(i * step) })),
  );
  if (due.length > 0) ctx.log.info({ due: due.length, scheduled }, 'safety net: incremental syncs scheduled');
  return { due: due.length, scheduled };
}

/** Start-up catch-up: one incremental sync per selected calendar, at most catchupPerSecond a second. */
export async function scheduleCatchUp(ctx: Ctx): Promise<number> {
  const rate = ctx.config.sync.catchupPerSecond;
  const rows = await ctx.db
    .select({ id: calendars.id })
    .from(calendars)
    .where(and(eq(calendars.selected, true), eq(calendars.deleted, false)))
    .orderBy(sql`${calendars.lastSyncedAt} asc nulls first`, asc(calendars.id));
  const scheduled = await schedulePolls(
    ctx,
    rows.map((c, i) => ({ calendarRowId: c.id, reason: 'catchup' as const, startAfterSeconds: Math.floor(i / rate) })),
  );
  ctx.log.info({ calendars: rows.length, scheduled, perSecond: rate }, 'catch-up syncs scheduled');
  return scheduled;
}

/** A deferred request fires: queue the sync, unless the calendar was synced since it was scheduled. */
export async function runPollJob(ctx: Ctx, data: { calendarRowId: string; reason: 'poll' | 'catchup'; scheduledAt: string }): Promise<{ queued: boolean; skipped?: string }> {
  const cal = await loadCalendarRow(ctx.db, data.calendarRowId);
  if (!cal || cal.deleted || !cal.selected) return { queued: false, skipped: 'not selected' };
  if (cal.lastSyncedAt && cal.lastSyncedAt.getTime() > new Date(data.scheduledAt).getTime()) return { queued: false, skipped: 'synced since' };
  await enqueueEventSync(ctx, cal.id, { reason: data.reason });
  return { queued: true };
}
