// Calendar-list sync of one owner: calendarList.list with page tokens, then the stored sync token.
// New calendars appear (only the primary one selected by default), deleted ones are marked and
// their events removed; a full list (first sync or after 410) also marks calendars it no longer has.
import { and, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { isAppError } from '../errors/index.ts';
import { classifyGoogleError, type calendar_v3 } from '../google/index.ts';
import type { JobInfo } from '../jobs/index.ts';
import { getOwner, recordOwnerSync, withCalendar } from '../links/index.ts';
import { calendarLists, calendars, type Calendar } from '../../schema/sync.ts';
import { dispatchCalendarChange, dispatchEventChanges, inTransaction } from '../context/index.ts';
import { enqueueEventSync } from './enqueue.ts';
import { replaceAllDayEvents } from './mirror-writes.ts';
import { calendarChangeHead, changeSetHead, isUnreadableToken, markCalendarGone } from './sync-events.ts';
import { isValidTimeZone } from './time-zone.ts';

/** calendarList.list: "Maximum number of entries returned on one result page ... cannot be larger than 250". */
const LIST_PAGE_SIZE = 250;
const MAX_PAGES = 1000;

type Entry = calendar_v3.Schema$CalendarListEntry;

export interface CalendarListSyncResult {
  ownerId: string;
  mode: 'full' | 'incremental' | 'skipped';
  skipped?: string;
  /** Why a full list: first list, a refused token, or calendar properties due for their refresh. */
  fullReason?: 'first' | 'token refused' | 'refresh';
  added: number;
  removed: number;
  updated: number;
}

async function listAll(ctx: Ctx, ownerId: string, syncToken: string | null, pageSize: number): Promise<{ entries: Entry[]; nextSyncToken: string | null }> {
  const entries: Entry[] = [];
  let pageToken: string | undefined;
  for (let pages = 1; ; pages++) {
    const params: calendar_v3.Params$Resource$Calendarlist$List = {
      maxResults: pageSize,
      // Hidden calendars are still the owner's; with a sync token deleted and hidden entries always come.
      ...(syncToken ? { syncToken } : { showHidden: true }),
      ...(pageToken ? { pageToken } : {}),
    };
    let data: calendar_v3.Schema$CalendarList;
    try {
      data = (await withCalendar(ctx, ownerId, (client) => client.calendarList.list(params), { priority: 'background' })).data;
      ctx.metrics.googleRequests.inc({ method: 'calendarList.list', outcome: 'ok' });
    } catch (err) {
      const e = classifyGoogleError(err);
      ctx.metrics.googleRequests.inc({ method: 'calendarList.list', outcome: e.code });
      throw e;
    }
    entries.push(...(data.items ?? []));
    if (!data.nextPageToken) return { entries, nextSyncToken: data.nextSyncToken ?? null };
    if (pages >= MAX_PAGES) throw new Error(`calendarList.list returned more than ${MAX_PAGES} pages`);
    pageToken = data.nextPageToken;
  }
}

function metadata(e: Entry) {
  return {
    summary: e.summaryOverride ?? e.summary ?? null,
    timeZone: e.timeZone ?? null,
    primary: e.primary === true,
    accessRole: e.accessRole ?? null,
    raw: e as unknown as Record<string, unknown>,
  };
}

export async function syncCalendarList(ctx: Ctx, ownerId: string, opts: { pageSize?: number } = {}): Promise<CalendarListSyncResult> {
  const owner = await getOwner(ctx, ownerId);
  const none = { ownerId, added: 0, removed: 0, updated: 0 };
  if (!owner || owner.status !== 'active') return { ...none, mode: 'skipped', skipped: owner ? `owner ${owner.status}` : 'no such owner' };

  const [list] = await ctx.db.select().from(calendarLists).where(eq(calendarLists.ownerId, ownerId));
  const startToken = list?.syncToken ?? null;
  // An incremental list never returns an entry whose calendar properties or ACLs alone changed
  // ("If only read-only fields such as calendar properties or ACLs have changed, the entry won't be
  // returned", calendarList.list reference): a full list re-reads them every SYNC_CALENDAR_REFRESH_SECONDS.
  const refreshDue =
    !list?.lastFullSyncedAt || ctx.clock.now().getTime() - list.lastFullSyncedAt.getTime() >= ctx.config.sync.calendarRefreshSeconds * 1000;
  let fetched: { entries: Entry[]; nextSyncToken: string | null };
  let fullReason: CalendarListSyncResult['fullReason'] = startToken === null ? 'first' : refreshDue ? 'refresh' : undefined;
  try {
    fetched = await listAll(ctx, ownerId, fullReason ? null : startToken, opts.pageSize ?? LIST_PAGE_SIZE);
  } catch (err) {
    // 410: the token expired; 400 "Invalid Value": Google cannot read it. Both: list in full.
    if (!(startToken && !fullReason && isAppError(err) && (err.code === 'UPSTREAM_GONE' || isUnreadableToken(err)))) throw err;
    ctx.log.info({ ownerId, status: err.code === 'UPSTREAM_GONE' ? 410 : 400 }, 'calendar list sync token refused: full list');
    fullReason = 'token refused';
    fetched = await listAll(ctx, ownerId, null, opts.pageSize ?? LIST_PAGE_SIZE);
  }
  const full = fullReason !== undefined;

  const now = ctx.clock.now();
  const result = await ctx.db.transaction(async (tx) => {
    await tx.insert(calendarLists).values({ ownerId }).onConflictDoNothing();
    const [locked] = await tx.select().from(calendarLists).where(eq(calendarLists.ownerId, ownerId)).for('update');
    const existing = await tx.select().from(calendars).where(eq(calendars.ownerId, ownerId)).for('update');
    const byGoogleId = new Map(existing.map((r) => [r.googleCalendarId, r]));
    const seen = new Set<string>();
    const counts = { added: 0, removed: 0, updated: 0 };

    for (const entry of fetched.entries) {
      if (!entry.id) continue;
      seen.add(entry.id);
      const row = byGoogleId.get(entry.id);
      if (entry.deleted) {
        if (row && !row.deleted && (await markCalendarGone(ctx, row.id, 'removed from the calendar list', tx))) counts.removed++;
        continue;
      }
      if (!row || row.deleted) {
        await addCalendar(tx, ctx, { ownerId, externalOwnerId: owner.externalOwnerId }, entry, row);
        counts.added++;
        continue;
      }
      const meta = metadata(entry);
      if (meta.summary !== row.summary || meta.timeZone !== row.timeZone || meta.primary !== row.primary || meta.accessRole !== row.accessRole) {
        counts.updated++;
      }
      const zone = meta.timeZone && isValidTimeZone(meta.timeZone) ? meta.timeZone : row.timeZone;
      const [updated] = (await tx
        .update(calendars)
        .set({ ...meta, timeZone: zone, updatedAt: now })
        .where(eq(calendars.id, row.id))
        .returning()) as [Calendar];
      if (row.selected && row.timeZone && zone && zone !== row.timeZone) {
        // The mirror's all-day events were placed in the old zone: placed again, reported as updated.
        const moved = await replaceAllDayEvents(tx, updated, zone, row.timeZone);
        if (moved.length > 0) await dispatchEventChanges(inTransaction(ctx, tx), { ...changeSetHead(updated), fullSync: false, syncedAt: now, changes: moved });
      }
    }

    if (full) {
      for (const row of existing) {
        if (!row.deleted && !seen.has(row.googleCalendarId)) {
          if (await markCalendarGone(ctx, row.id, 'no longer in the calendar list', tx)) counts.removed++;
        }
      }
    }

    // A resync that cleared the token while we listed wins: its own list sync is queued.
    const keepToken = (locked?.syncToken ?? null) === startToken;
    await tx
      .update(calendarLists)
      .set({ ...(keepToken ? { syncToken: fetched.nextSyncToken } : {}), lastSyncedAt: now, ...(full ? { lastFullSyncedAt: now } : {}), syncError: null, syncErrorAt: null })
      .where(eq(calendarLists.ownerId, ownerId));

    // Selected calendars never synced yet (just linked or re-selected) get their first full sync.
    const pending = await tx
      .select({ id: calendars.id })
      .from(calendars)
      .where(and(eq(calendars.ownerId, ownerId), eq(calendars.selected, true), eq(calendars.deleted, false), sql`${calendars.syncToken} is null`));
    for (const p of pending) await enqueueEventSync(ctx, p.id, { tx, reason: 'calendarList' });
    return counts;
  });

  await recordOwnerSync(ctx, ownerId, { at: now });
  return { ownerId, mode: full ? 'full' : 'incremental', ...(fullReason ? { fullReason } : {}), ...result };
}

async function addCalendar(
  tx: Executor,
  ctx: Ctx,
  owner: { ownerId: string; externalOwnerId: string },
  entry: Entry & { id?: string | null },
  former: Calendar | undefined,
): Promise<void> {
  const now = ctx.clock.now();
  const meta = metadata(entry);
  // Default selection: the primary calendar only (setSelected changes it).
  const selected = meta.primary;
  const values = {
    ...meta,
    selected,
    deleted: false,
    deletedAt: null,
    syncToken: null,
    syncError: null,
    syncErrorAt: null,
    updatedAt: now,
  };
  let row: Calendar;
  if (former) {
    [row] = (await tx
      .update(calendars)
      .set({ ...values, syncGeneration: sql`${calendars.syncGeneration} + 1` })
      .where(eq(calendars.id, former.id))
      .returning()) as [Calendar];
  } else {
    [row] = (await tx
      .insert(calendars)
      .values({ ...values, ownerId: owner.ownerId, externalOwnerId: owner.externalOwnerId, googleCalendarId: entry.id! })
      .returning()) as [Calendar];
  }
  await dispatchCalendarChange(inTransaction(ctx, tx), { kind: 'added', ...calendarChangeHead(row) });
  if (selected) await dispatchCalendarChange(inTransaction(ctx, tx), { kind: 'selected', ...calendarChangeHead(row) });
}

export async function runCalendarListSyncJob(ctx: Ctx, data: { ownerId: string; reason: string }, job: Pick<JobInfo, 'log'>): Promise<CalendarListSyncResult> {
  try {
    const result = await syncCalendarList(ctx, data.ownerId);
    job.log.info({ ...result, reason: data.reason }, 'calendar list synced');
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = ctx.clock.now();
    await ctx.db
      .update(calendarLists)
      .set({ syncError: message.slice(0, 2000), syncErrorAt: at })
      .where(eq(calendarLists.ownerId, data.ownerId))
      .catch(() => {});
    await recordOwnerSync(ctx, data.ownerId, { at, error: `calendar list: ${message}` }).catch(() => {});
    throw err;
  }
}
