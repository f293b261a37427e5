// Reading and marking calendar rows: what other modules see of a calendar through the face.
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { calendars, type Calendar } from '../../schema/sync.ts';

/** A calendar of one owner as the sync module exposes it (`id` is our row id). */
export interface SyncCalendar {
  id: string;
  ownerId: string;
  externalOwnerId: string;
  /** Google's calendar id. */
  calendarId: string;
  summary: string | null;
  timeZone: string | null;
  primary: boolean;
  accessRole: string | null;
  selected: boolean;
  deleted: boolean;
  pollOnly: boolean;
  pollOnlyReason: string | null;
  /** Whether a sync token is held (false: the next sync is a full one). */
  hasSyncToken: boolean;
  lastSyncedAt: Date | null;
  lastFullSyncAt: Date | null;
  syncError: string | null;
  syncErrorAt: Date | null;
}

export function toSyncCalendar(row: Calendar): SyncCalendar {
  return {
    id: row.id,
    ownerId: row.ownerId,
    externalOwnerId: row.externalOwnerId,
    calendarId: row.googleCalendarId,
    summary: row.summary,
    timeZone: row.timeZone,
    primary: row.primary,
    accessRole: row.accessRole,
    selected: row.selected,
    deleted: row.deleted,
    pollOnly: row.pollOnly,
    pollOnlyReason: row.pollOnlyReason,
    hasSyncToken: row.syncToken !== null,
    lastSyncedAt: row.lastSyncedAt,
    lastFullSyncAt: row.lastFullSyncAt,
    syncError: row.syncError,
    syncErrorAt: row.syncErrorAt,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function loadCalendarRow(db: Executor, calendarRowId: string, opts: { forUpdate?: boolean } = {}): Promise<Calendar | undefined> {
  if (!UUID.test(calendarRowId)) return undefined;
  const q = db.select().from(calendars).where(eq(calendars.id, calendarRowId));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  return row;
}

/** `primary` is Google's alias for the owner's primary calendar; it is accepted here too. */
export async function findCalendarRow(db: Executor, ownerId: string, googleCalendarId: string): Promise<Calendar | undefined> {
  if (!UUID.test(ownerId)) return undefined;
  const where =
    googleCalendarId === 'primary'
      ? and(eq(calendars.ownerId, ownerId), eq(calendars.primary, true))
      : and(eq(calendars.ownerId, ownerId), eq(calendars.googleCalendarId, googleCalendarId));
  const [row] = await db.select().from(calendars).where(where).limit(1);
  return row;
}

export async function getCalendar(ctx: Ctx, calendarRowId: string, opts: { tx?: Executor } = {}): Promise<SyncCalendar | undefined> {
  const row = await loadCalendarRow(opts.tx ?? ctx.db, calendarRowId);
  return row && toSyncCalendar(row);
}

export async function findCalendar(ctx: Ctx, ownerId: string, googleCalendarId: string, opts: { tx?: Executor } = {}): Promise<SyncCalendar | undefined> {
  const row = await findCalendarRow(opts.tx ?? ctx.db, ownerId, googleCalendarId);
  return row && toSyncCalendar(row);
}

/** Calendars currently mirrored (selected and not deleted), of one owner or of all. */
export async function listSelectedCalendars(ctx: Ctx, input: { ownerId?: string; tx?: Executor } = {}): Promise<SyncCalendar[]> {
  if (input.ownerId !== undefined && !UUID.test(input.ownerId)) return [];
  const rows = await (input.tx ?? ctx.db)
    .select()
    .from(calendars)
    .where(
      and(
        eq(calendars.selected, true),
        eq(calendars.deleted, false),
        input.ownerId ? eq(calendars.ownerId, input.ownerId) : undefined,
      ),
    )
    .orderBy(asc(calendars.ownerId), asc(calendars.googleCalendarId));
  return rows.map(toSyncCalendar);
}

/** Every calendar of an owner, deleted ones included (links.get shows them all). */
export async function listOwnerCalendars(ctx: Ctx, ownerId: string, opts: { tx?: Executor } = {}): Promise<SyncCalendar[]> {
  if (!UUID.test(ownerId)) return [];
  const rows = await (opts.tx ?? ctx.db)
    .select()
    .from(calendars)
    .where(eq(calendars.ownerId, ownerId))
    .orderBy(sql`${calendars.primary} desc`, asc(calendars.googleCalendarId));
  return rows.map(toSyncCalendar);
}

/**
 * Google will not push changes of this calendar (`pushNotSupportedForRequestedResource`, as for
 * holiday and birthday calendars, and other users' public calendars): the safety net polls it every
 * SYNC_SILENT_THRESHOLD_SECONDS, for good. (A watch refused with 403/404 does not make a calendar
 * poll-only: channels retries it on a backoff, and polls it meanwhile as an unwatched calendar.)
 */
export async function markPollOnly(ctx: Ctx, calendarRowId: string, reason: string, opts: { tx?: Executor } = {}): Promise<void> {
  if (!UUID.test(calendarRowId)) return;
  await (opts.tx ?? ctx.db)
    .update(calendars)
    .set({ pollOnly: true, pollOnlyReason: reason.slice(0, 500), updatedAt: ctx.clock.now() })
    .where(eq(calendars.id, calendarRowId));
}

/**
 * Google watches this calendar again (a watch succeeded): the safety net stops polling it. Clears
 * poll-only marks left by 403/404 refusals, which older versions made permanent.
 */
export async function clearPollOnly(ctx: Ctx, calendarRowId: string, opts: { tx?: Executor } = {}): Promise<void> {
  if (!UUID.test(calendarRowId)) return;
  await (opts.tx ?? ctx.db)
    .update(calendars)
    .set({ pollOnly: false, pollOnlyReason: null, updatedAt: ctx.clock.now() })
    .where(and(eq(calendars.id, calendarRowId), eq(calendars.pollOnly, true)));
}
