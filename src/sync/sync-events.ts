// Event sync of one calendar row: incremental with the stored sync token, else (first sync, 410,
// resync) a full sync over every page whose final transaction sweeps the rows it did not see.
//
// Google is never called inside a transaction: each page is fetched first, then written in its
// own transaction with its change set. Nothing is deleted before the last page, where the sweep,
// the new sync token and the last changes commit together: readers never see a half-emptied
// calendar, and a crash mid-sync repeats work (the old token, or a new full sync) but never skips
// a change. Memory holds one page at a time, however large the calendar.
import { and, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { classifyGoogleError, type calendar_v3 } from '../google/index.ts';
import type { JobInfo } from '../jobs/index.ts';
import { recordOwnerSync, withCalendar } from '../links/index.ts';
import { calendars, calendarSyncStates, type Calendar } from '../../schema/sync.ts';
import { enqueueEventSync, isInteractiveSync } from './enqueue.ts';
import { eventSyncJob } from './jobs.ts';
import type { QuotaPriority } from '../quota/index.ts';
import { dispatchCalendarChange, dispatchEventChanges, inTransaction, type EventChange } from '../context/index.ts';
import { loadCalendarRow } from './calendars.ts';
import { placementZone } from './map-event.ts';
import { applyEventPage, removeAllEvents, replaceAllDayEvents, sweepUnseen } from './mirror-writes.ts';
import { isValidTimeZone } from './time-zone.ts';

/** Google's largest page ("The page size can never be larger than 2500 events"). */
export const EVENTS_PAGE_SIZE = 2500;
const MAX_PAGES = 10_000;

export interface EventSyncResult {
  calendarRowId: string;
  mode: 'full' | 'incremental' | 'skipped';
  /** Why a sync stopped early: the calendar was deselected, deleted or reset meanwhile. */
  skipped?: string;
  /** The incremental sync met a 410 (or a 400 for its token) and fell back to a full one. */
  recoveredFromGone?: boolean;
  /** The full sync went on from where an interrupted attempt stopped (its stored page token). */
  resumed?: boolean;
  pages: number;
  changes: number;
  /**
   * Time in ms: Google's answers (`googleMs`, overlapped with the writes of the page before; the
   * part the loop waited for: `googleWaitMs`), the page transactions (`writeMs`, reactors included),
   * the mirror's own statements (`mirrorMs`), the reactors (`reactorsMs`, and by reactor: `reactorMs`).
   */
  googleMs?: number;
  googleWaitMs?: number;
  writeMs?: number;
  mirrorMs?: number;
  reactorsMs?: number;
  reactorMs?: Record<string, number>;
}

export interface SyncEventsOptions {
  /** Page size asked of Google (tests use small pages to exercise pagination). */
  pageSize?: number;
  /** Its turn in Google's quota: `interactive` (the default) for a sync someone waits for. */
  priority?: QuotaPriority;
}

class Superseded extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

/** Locks the calendar row for this page's transaction and checks nobody reset it meanwhile. */
async function lockForWrite(tx: Executor, calendarRowId: string, expect: { generation: number; token?: string | null }): Promise<Calendar> {
  const row = await loadCalendarRow(tx, calendarRowId, { forUpdate: true });
  if (!row || row.deleted) throw new Superseded('calendar deleted');
  if (!row.selected) throw new Superseded('calendar deselected');
  // A resync, deselect or newer full sync bumps the generation; a sync started before it must not
  // store its token over theirs (the sync they queued does the work).
  if (row.syncGeneration !== expect.generation) throw new Superseded('calendar reset by a newer sync request');
  if (expect.token !== undefined && row.syncToken !== expect.token) throw new Superseded('sync token changed meanwhile');
  return row;
}

async function listPage(ctx: Ctx, cal: Calendar, params: calendar_v3.Params$Resource$Events$List, priority: QuotaPriority | undefined): Promise<calendar_v3.Schema$Events> {
  try {
    const res = await withCalendar(ctx, cal.ownerId, (client) => client.events.list(params), { ...(priority ? { priority } : {}) });
    ctx.metrics.googleRequests.inc({ method: 'events.list', outcome: 'ok' });
    return res.data;
  } catch (err) {
    const e = classifyGoogleError(err);
    ctx.metrics.googleRequests.inc({ method: 'events.list', outcome: e.code });
    throw e;
  }
}

/**
 * Google cannot read the token we sent: 400 "Invalid Value" (`global` / `invalid`, no location in the
 * captured body: fixtures/gcal-error-400-invalid-syncToken-value), or any 400 naming syncToken or
 * pageToken. Our other parameters are constants, so the token is what it refuses. Kept, the token
 * would fail every sync of that calendar for good.
 */
export function isUnreadableToken(err: unknown): boolean {
  if (!(isAppError(err) && err.code === 'VALIDATION' && err.details?.status === 400)) return false;
  if (err.details?.reason === 'invalid') return true;
  const data = (err.details?.cause as { response?: { data?: { error?: { errors?: Array<{ location?: string }> } } } } | undefined)?.response?.data;
  return (data?.error?.errors ?? []).some((e) => e.location === 'syncToken' || e.location === 'pageToken');
}

export async function syncCalendarEvents(ctx: Ctx, calendarRowId: string, opts: SyncEventsOptions = {}): Promise<EventSyncResult> {
  const cal = await loadCalendarRow(ctx.db, calendarRowId);
  if (!cal || cal.deleted || !cal.selected) return { calendarRowId, mode: 'skipped', skipped: cal ? 'not selected' : 'no such calendar', pages: 0, changes: 0 };
  try {
    if (cal.syncToken) {
      try {
        return await incrementalSync(ctx, cal, cal.syncToken, opts);
      } catch (err) {
        // "If the syncToken expires, the server will respond with a 410 GONE ... clear your
        // client's store and perform a full synchronization" (Calendar API sync guide). A token
        // Google cannot read at all answers 400 instead: the same remedy.
        const gone = isAppError(err) && err.code === 'UPSTREAM_GONE';
        if (!gone && !isUnreadableToken(err)) throw err;
        ctx.log.info({ calendarRowId, status: gone ? 410 : 400, reason: isAppError(err) ? err.details?.reason : undefined }, 'sync token refused: full resync');
        const result = await fullSync(ctx, cal, opts);
        return { ...result, recoveredFromGone: true };
      }
    }
    return await fullSync(ctx, cal, opts);
  } catch (err) {
    if (err instanceof Superseded) {
      ctx.log.info({ calendarRowId, why: err.why }, 'sync stopped: superseded');
      return { calendarRowId, mode: 'skipped', skipped: err.why, pages: 0, changes: 0 };
    }
    throw err;
  }
}

async function incrementalSync(ctx: Ctx, cal: Calendar, token: string, opts: SyncEventsOptions): Promise<EventSyncResult> {
  return syncPages(ctx, cal, opts, { generation: cal.syncGeneration, token });
}

/**
 * An interrupted full sync of this generation left its next page token, young enough to use. Google
 * documents no lifetime for page tokens; calwatch uses one for SYNC_RESUME_MAX_AGE_SECONDS after the
 * listing's first page (the emulator refuses them after an hour), and starts over when Google refuses it.
 */
function resumePoint(ctx: Ctx, cal: Calendar): { pageToken: string; startedAt: Date } | undefined {
  if (!cal.resumePageToken || cal.resumeGeneration !== cal.syncGeneration || !cal.resumeStartedAt || cal.syncToken) return undefined;
  const ageMs = ctx.clock.now().getTime() - cal.resumeStartedAt.getTime();
  if (ageMs < 0 || ageMs > ctx.config.sync.resumeMaxAgeSeconds * 1000) return undefined;
  return { pageToken: cal.resumePageToken, startedAt: cal.resumeStartedAt };
}

async function fullSync(ctx: Ctx, cal: Calendar, opts: SyncEventsOptions): Promise<EventSyncResult> {
  const resume = resumePoint(ctx, cal);
  if (resume) {
    // Same generation: what the interrupted attempt committed is already marked as seen, the sweep
    // at the end removes the rest. The pages come from Google's snapshot of the first page, and
    // the sync token of the last page covers every change since then.
    try {
      const result = await syncPages(ctx, cal, opts, { generation: cal.syncGeneration, token: null, pageToken: resume.pageToken, startedAt: resume.startedAt });
      return { ...result, resumed: true };
    } catch (err) {
      if (!isUnreadableToken(err)) throw err;
      ctx.log.info({ calendarRowId: cal.id }, 'page token of the interrupted full sync refused (400): full sync from the first page');
    }
  }
  // A new generation for this attempt alone: rows it writes carry it, the sweep removes the rest.
  // The old token is dropped now, so a crash mid-way restarts a full sync, never an incremental one
  // (and resumes it from the last page committed, while its page token is young: resumePoint).
  const [started] = await ctx.db
    .update(calendars)
    .set({ syncToken: null, syncGeneration: sql`${calendars.syncGeneration} + 1`, resumePageToken: null, resumeGeneration: null, resumeStartedAt: null, updatedAt: ctx.clock.now() })
    .where(and(eq(calendars.id, cal.id), eq(calendars.selected, true), eq(calendars.deleted, false), eq(calendars.syncGeneration, cal.syncGeneration)))
    .returning();
  if (!started) throw new Superseded('calendar changed before the full sync started');
  return syncPages(ctx, started, opts, { generation: started.syncGeneration, token: null, startedAt: ctx.clock.now() });
}

/**
 * The page loop of both syncs: a full sync (`token` null) and an incremental one differ only in the
 * token sent, the sweep of unseen rows on the last page, and what the last page records.
 */
async function syncPages(
  ctx: Ctx,
  cal: Calendar,
  opts: SyncEventsOptions,
  sync: { generation: number; token: string | null; pageToken?: string; startedAt?: Date },
): Promise<EventSyncResult> {
  const { generation, token } = sync;
  const full = token === null;
  let pages = 0;
  let changes = 0;
  const timing = { googleMs: 0, googleWaitMs: 0, writeMs: 0, mirrorMs: 0, reactorsMs: 0 };
  const reactorMs: Record<string, number> = {};
  // The incremental query is the full one plus the token (Google: "All other query parameters
  // should be the same as for the initial synchronization"); deleted entries always come back.
  // showDeleted=false: a full sync needs only what exists (cancelled instances of live series
  // still come back, "if showDeleted and singleEvents are both False").
  const fetchPage = (pageToken: string | undefined) => {
    const g0 = performance.now();
    const p = listPage(ctx, cal, {
      calendarId: cal.googleCalendarId,
      ...(full ? {} : { syncToken: token }),
      maxResults: opts.pageSize ?? ctx.config.sync.pageSize ?? EVENTS_PAGE_SIZE,
      singleEvents: false,
      ...(pageToken ? { pageToken } : {}),
    }, opts.priority).finally(() => {
      timing.googleMs += performance.now() - g0;
    });
    return p;
  };
  // Each page is asked for after the previous one committed (not overlapped with its write: see
  // docs/sync.md, "Full sync speed"), so googleMs and googleWaitMs are the same time.
  let pageToken = sync.pageToken;
  for (;;) {
    const g0 = performance.now();
    const page = await fetchPage(pageToken);
    pages++;
    const w0 = performance.now();
    timing.googleWaitMs += w0 - g0;
    const last = !page.nextPageToken;
    const now = ctx.clock.now();
    changes += await ctx.db.transaction(async (tx) => {
      let row = await lockForWrite(tx, cal.id, { generation, token });
      // Every page carries the calendar's time zone and the caller's access role (Schema$Events), and
      // an incremental calendar list never reports them changing ("If only read-only fields such as
      // calendar properties or ACLs have changed, the entry won't be returned"): taken from here.
      const zoneChanges: EventChange[] = [];
      const zone = page.timeZone && isValidTimeZone(page.timeZone) ? page.timeZone : null;
      if ((zone && zone !== row.timeZone) || (page.accessRole && page.accessRole !== row.accessRole)) {
        const before = row;
        [row] = (await tx
          .update(calendars)
          .set({ ...(zone ? { timeZone: zone } : {}), ...(page.accessRole ? { accessRole: page.accessRole } : {}), updatedAt: now })
          .where(eq(calendars.id, cal.id))
          .returning()) as [Calendar];
        if (zone && zone !== before.timeZone) {
          ctx.log.info({ calendarRowId: cal.id, from: before.timeZone, to: zone }, 'calendar time zone changed at Google: all-day events placed again');
          zoneChanges.push(...(await replaceAllDayEvents(tx, row, zone, before.timeZone)));
        }
      }
      const m0 = performance.now();
      const result = await applyEventPage(tx, row, page.items ?? [], {
        zone: placementZone(row.timeZone ?? page.timeZone),
        generation,
        fullSync: full,
      });
      timing.mirrorMs += performance.now() - m0;
      const pageChanges = [...zoneChanges, ...result.changes];
      if (full && !last) {
        // Where a retry goes on if this sync stops after this page (resumePoint).
        await tx
          .update(calendars)
          .set({ resumePageToken: page.nextPageToken!, resumeGeneration: generation, resumeStartedAt: sync.startedAt ?? now })
          .where(eq(calendars.id, cal.id));
      }
      if (last) {
        const s0 = performance.now();
        if (full) pageChanges.push(...(await sweepUnseen(tx, row, generation)));
        timing.mirrorMs += performance.now() - s0;
        await tx
          .update(calendars)
          .set({
            syncToken: page.nextSyncToken ?? null,
            lastSyncedAt: now,
            ...(full ? { lastFullSyncAt: now } : {}),
            syncError: null,
            syncErrorAt: null,
            updatedAt: now,
            ...(full ? { resumePageToken: null, resumeGeneration: null, resumeStartedAt: null } : {}),
            ...(row.timeZone ? {} : { timeZone: page.timeZone ?? null }),
          })
          .where(eq(calendars.id, cal.id));
      }
      const d0 = performance.now();
      await dispatchEventChanges(inTransaction(ctx, tx), { ...changeSetHead(row), fullSync: full, syncedAt: now, changes: pageChanges }, reactorMs);
      timing.reactorsMs += performance.now() - d0;
      if (last && full) await dispatchCalendarChange(inTransaction(ctx, tx), { kind: 'fullSynced', ...calendarChangeHead(row) });
      // Covered with the data it covers: a request noted before this sync started needs no other.
      // Last in the transaction, so that the row lock is held only until the commit (a reactor may
      // ask for another sync of this calendar meanwhile).
      if (last) await noteSyncFinished(tx, cal.id);
      // A resumed full sync lists Google's snapshot of its first page, taken up to
      // SYNC_RESUME_MAX_AGE_SECONDS ago: one incremental sync from its new token brings what changed since.
      if (last && full && sync.pageToken) await enqueueEventSync(ctx, cal.id, { tx, reason: 'resumed' });
      return pageChanges.length;
    });
    timing.writeMs += performance.now() - w0;
    if (last) break;
    // A page's garbage (Google's JSON, the rows, the change set: some MB) is dead once it commits.
    // Without this hint the heap grows page after page before the collector catches up, and peak
    // RSS with the calendar's size although the live heap stays flat (BENCHMARKS.md, full sync).
    Bun.gc(false);
    if (pages >= MAX_PAGES) throw new AppError('UPSTREAM_ERROR', `events.list returned more than ${MAX_PAGES} pages`);
    pageToken = page.nextPageToken!;
  }
  const ms = (n: number) => Math.round(n);
  return {
    calendarRowId: cal.id,
    mode: full ? 'full' : 'incremental',
    pages,
    changes,
    googleMs: ms(timing.googleMs),
    googleWaitMs: ms(timing.googleWaitMs),
    writeMs: ms(timing.writeMs),
    mirrorMs: ms(timing.mirrorMs),
    reactorsMs: ms(timing.reactorsMs),
    reactorMs: Object.fromEntries(Object.entries(reactorMs).map(([k, v]) => [k, ms(v)])),
  };
}

export function changeSetHead(row: Calendar) {
  return {
    ownerId: row.ownerId,
    externalOwnerId: row.externalOwnerId,
    calendarRowId: row.id,
    calendarId: row.googleCalendarId,
    calendarTimeZone: row.timeZone,
  };
}

export function calendarChangeHead(row: Calendar) {
  return {
    ownerId: row.ownerId,
    externalOwnerId: row.externalOwnerId,
    calendarRowId: row.id,
    calendarId: row.googleCalendarId,
    summary: row.summary,
    timeZone: row.timeZone,
  };
}

/**
 * Google answers 404 for the calendar: it is gone (deleted, or access lost). The row is marked
 * deleted, its events leave the mirror, and reactors get a 'removed' calendar change.
 */
export async function markCalendarGone(ctx: Ctx, calendarRowId: string, reason: string, tx?: Executor): Promise<boolean> {
  const run = async (t: Executor) => {
    const row = await loadCalendarRow(t, calendarRowId, { forUpdate: true });
    if (!row || row.deleted) return false;
    const now = ctx.clock.now();
    await t
      .update(calendars)
      .set({
        deleted: true,
        deletedAt: now,
        selected: false,
        syncToken: null,
        syncGeneration: sql`${calendars.syncGeneration} + 1`,
        syncError: reason.slice(0, 2000),
        syncErrorAt: now,
        updatedAt: now,
      })
      .where(eq(calendars.id, calendarRowId));
    await removeAllEvents(t, calendarRowId);
    await dispatchCalendarChange(inTransaction(ctx, t), { kind: 'removed', ...calendarChangeHead(row) });
    return true;
  };
  return tx ? run(tx) : ctx.db.transaction(run);
}

async function recordCalendarSyncError(ctx: Ctx, calendarRowId: string, message: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.update(calendars).set({ syncError: message.slice(0, 2000), syncErrorAt: now, updatedAt: now }).where(eq(calendars.id, calendarRowId));
}

interface Attempt {
  /** Every request for this calendar came before a sync that started later and succeeded. */
  covered: boolean;
  /** The previous sync of this calendar started less than HOT_CALENDAR_MS ago. */
  hot?: boolean;
}

/**
 * A calendar synced again within this time is busy (its owner changing it without pause): its
 * syncs then take Google's quota as background work, so that one person's stream of changes does
 * not spend the per-user budget their channel renewals and bookings also need.
 */
export const HOT_CALENDAR_MS = 1000;

/**
 * Before a sync: skip it when an earlier successful sync started after the latest request (a job
 * queued while that sync was waiting to start), else note this start. Database clock throughout, as
 * enqueueEventSync uses. There is no wait here: an idle calendar's sync starts at once (the
 * leading edge), and requests made while it runs queue exactly one more, which starts when it ends
 * (the trailing edge: pg-boss's stately policy holds one queued job per calendar behind the active
 * one), at the earliest SYNC_TRAILING_MIN_MS after its start (enqueueEventSync).
 */
async function beginAttempt(ctx: Ctx, calendarRowId: string): Promise<Attempt> {
  const [state] = await ctx.db.execute<{ covered: boolean | null; hot: boolean | null }>(sql`
    select requested_at <= covered_at as covered,
           started_at > clock_timestamp() - make_interval(secs => ${HOT_CALENDAR_MS / 1000}) as hot
    from ${calendarSyncStates} where calendar_id = ${calendarRowId}::uuid`);
  if (state?.covered) return { covered: true };
  // clock_timestamp() in the SET is evaluated once the row is locked: a request whose transaction
  // held it (the webhook's drain) committed before this start, so this sync covers it. Stamped from
  // the VALUES instead, the start was up to the lock wait earlier than the request it covered
  // (tests/reliability/database-down.test.ts, covered_at 298 ms before requested_at).
  await ctx.db.execute(sql`
    insert into ${calendarSyncStates} (calendar_id, started_at) values (${calendarRowId}::uuid, clock_timestamp())
    on conflict (calendar_id) do update set started_at = clock_timestamp()`);
  return { covered: false, hot: state?.hot === true };
}

/** In a sync's last page transaction: requests made before it started are covered. */
async function noteSyncFinished(tx: Executor, calendarRowId: string): Promise<void> {
  await tx.execute(sql`
    update ${calendarSyncStates} set covered_at = greatest(coalesce(covered_at, started_at), started_at), finished_at = clock_timestamp()
    where calendar_id = ${calendarRowId}::uuid`);
}

/** The `sync.events` job: one sync, its errors recorded on the calendar and the owner. */
export async function runEventSyncJob(
  ctx: Ctx,
  data: { calendarRowId: string; reason: string; notifiedAt?: string },
  job: Pick<JobInfo, 'id' | 'log' | 'lastAttempt' | 'retryCount'>,
): Promise<EventSyncResult | { calendarRowId: string; gone: true }> {
  const cal = await loadCalendarRow(ctx.db, data.calendarRowId);
  if (!cal) return { calendarRowId: data.calendarRowId, mode: 'skipped', skipped: 'no such calendar', pages: 0, changes: 0 };
  const attempt = await beginAttempt(ctx, cal.id);
  if (attempt.covered) {
    job.log.debug({ calendarRowId: cal.id, reason: data.reason }, 'sync skipped: covered by a sync that started after the request');
    return { calendarRowId: cal.id, mode: 'skipped', skipped: 'covered by a later sync', pages: 0, changes: 0 };
  }
  try {
    const result = await syncCalendarEvents(ctx, cal.id, { priority: isInteractiveSync(data.reason) && !attempt.hot ? 'interactive' : 'background' });
    const finished = ctx.clock.now();
    if (data.notifiedAt && result.mode !== 'skipped') {
      ctx.metrics.notificationToSync.observe(Math.max(0, finished.getTime() - new Date(data.notifiedAt).getTime()) / 1000);
    }
    if (result.mode !== 'skipped') await recordOwnerSync(ctx, cal.ownerId, { at: finished });
    job.log.info({ ...result, reason: data.reason }, 'calendar synced');
    return result;
  } catch (raw) {
    const err = isAppError(raw) ? raw : raw instanceof Error && 'response' in raw ? classifyGoogleError(raw) : raw;
    if (isAppError(err) && err.code === 'NOT_FOUND' && err.details?.status === 404) {
      await markCalendarGone(ctx, cal.id, 'Google: 404 notFound (calendar deleted or no longer shared)');
      job.log.warn({ calendarRowId: cal.id }, 'calendar not found at Google: marked deleted');
      return { calendarRowId: cal.id, gone: true };
    }
    // Google's Retry-After decides when this job is retried, instead of pg-boss's own backoff.
    const retryAfter = isAppError(err) && err.code === 'UPSTREAM_RATE_LIMITED' ? err.details?.retryAfterSeconds : undefined;
    if (retryAfter && !job.lastAttempt) await ctx.jobs.setRetryDelay(eventSyncJob.name, job.id, retryAfter).catch(() => {});
    const message = err instanceof Error ? err.message : String(err);
    const at = ctx.clock.now();
    await recordCalendarSyncError(ctx, cal.id, message).catch(() => {});
    await recordOwnerSync(ctx, cal.ownerId, { at, error: `calendar ${cal.googleCalendarId}: ${message}` }).catch(() => {});
    throw err;
  }
}
