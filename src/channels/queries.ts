// Queries over the channels table (only this module reads or writes it).
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/index.ts';
import { HOT_DEFER_MS } from './sync-request-holds.ts';
import { channels, channelSyncRequests, type Channel, type ChannelInsert, type ChannelKind, type ChannelStatus } from '../../schema/channels.ts';

export type { Channel, ChannelKind, ChannelStatus };

/** Statuses of a channel Google may still be sending on and that we still act upon. */
export const LIVE: ChannelStatus[] = ['pending', 'active'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

export const resourceKeyFor = (t: { ownerId: string; calendarRowId?: string | null }) =>
  t.calendarRowId ? `events:${t.calendarRowId}` : `calendarList:${t.ownerId}`;

export async function channelById(db: Executor, id: string): Promise<Channel | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(channels).where(eq(channels.id, id));
  return row;
}

/** What the webhook needs of a channel, for many ids in one indexed query. */
export async function channelsForWebhook(db: Executor, ids: string[]) {
  return db
    .select({
      id: channels.id,
      ownerId: channels.ownerId,
      calendarId: channels.calendarId,
      kind: channels.kind,
      resourceId: channels.resourceId,
      tokenHash: channels.tokenHash,
      status: channels.status,
      lastMessageNumber: channels.lastMessageNumber,
    })
    .from(channels)
    .where(inArray(channels.id, ids));
}

/** The channel currently serving a resource: active and not yet replaced, or a creation in flight. */
export async function currentChannel(db: Executor, resourceKey: string): Promise<Channel | undefined> {
  const [row] = await db
    .select()
    .from(channels)
    .where(and(eq(channels.resourceKey, resourceKey), inArray(channels.status, LIVE), isNull(channels.replacedById)))
    .orderBy(desc(channels.createdAt))
    .limit(1);
  return row;
}

/** Inserts a pending channel unless one is already pending for the resource (returns undefined then). */
export async function insertPending(db: Executor, row: Omit<ChannelInsert, 'status'>): Promise<Channel | undefined> {
  const [inserted] = await db
    .insert(channels)
    .values({ ...row, status: 'pending' })
    .onConflictDoNothing({ target: channels.resourceKey, where: sql`status = 'pending'` })
    .returning();
  return inserted;
}

export async function activate(
  db: Executor,
  id: string,
  v: { resourceId: string; resourceUri: string | null; expiresAt: Date; now: Date },
): Promise<Channel | undefined> {
  const [row] = await db
    .update(channels)
    .set({ status: 'active', resourceId: v.resourceId, resourceUri: v.resourceUri, expiresAt: v.expiresAt, updatedAt: v.now })
    .where(and(eq(channels.id, id), eq(channels.status, 'pending')))
    .returning();
  return row;
}

/** The old channel of a renewal: superseded only if it is still the live one (a stop may have won). */
export async function supersede(db: Executor, oldId: string, newId: string, now: Date): Promise<Channel | undefined> {
  const [row] = await db
    .update(channels)
    // An expired channel stays `expired` (Google already forgot it): only a live one is superseded.
    .set({ status: sql`case when ${channels.status} = 'expired' then 'expired' else 'superseded' end`, replacedById: newId, updatedAt: now })
    .where(and(eq(channels.id, oldId), inArray(channels.status, ['active', 'expired']), isNull(channels.replacedById)))
    .returning();
  return row;
}

export async function setStatus(
  db: Executor,
  id: string,
  status: ChannelStatus,
  now: Date,
  extra: { lastError?: string | null; onlyFrom?: ChannelStatus[] } = {},
): Promise<Channel | undefined> {
  const [row] = await db
    .update(channels)
    .set({
      status,
      updatedAt: now,
      ...(status === 'stopped' ? { stoppedAt: now } : {}),
      ...(extra.lastError !== undefined ? { lastError: extra.lastError?.slice(0, 500) ?? null } : {}),
    })
    .where(and(eq(channels.id, id), extra.onlyFrom ? inArray(channels.status, extra.onlyFrom) : undefined))
    .returning();
  return row;
}

export async function recordError(db: Executor, id: string, message: string, now: Date): Promise<void> {
  await db.update(channels).set({ lastError: message.slice(0, 500), updatedAt: now }).where(eq(channels.id, id));
}

export async function markStoppedAtGoogle(db: Executor, id: string, now: Date): Promise<void> {
  await db
    .update(channels)
    .set({ stoppedAt: now, updatedAt: now })
    .where(and(eq(channels.id, id), isNull(channels.stoppedAt)));
}

/**
 * Marks every channel of an owner or a calendar stopped (pending, active and expired ones) and
 * returns them, so that the caller can stop them at Google. The webhook ignores them from now on.
 */
export async function stopAll(
  db: Executor,
  where: { ownerId: string } | { calendarRowId: string },
  now: Date,
  reason: string,
): Promise<Channel[]> {
  const scope = 'ownerId' in where ? eq(channels.ownerId, where.ownerId) : eq(channels.calendarId, where.calendarRowId);
  return db
    .update(channels)
    .set({ status: 'stopped', stoppedAt: now, lastError: reason, updatedAt: now })
    .where(and(scope, inArray(channels.status, ['pending', 'active', 'expired'])))
    .returning();
}

/**
 * Channels the sweep must renew: not replaced, expiring before `before`; active ones, and expired
 * ones whose replacement failed (their renewal job gave up).
 */
export async function expiringChannels(db: Executor, before: Date, limit: number): Promise<Channel[]> {
  return db
    .select()
    .from(channels)
    .where(and(inArray(channels.status, ['active', 'expired']), isNull(channels.replacedById), lt(channels.expiresAt, before)))
    .orderBy(asc(channels.expiresAt))
    .limit(limit);
}

/** Pending rows whose creation never finished (a crash between insert and watch answer). */
export async function abandonStalePending(db: Executor, olderThan: Date, now: Date): Promise<Channel[]> {
  return db
    .update(channels)
    .set({ status: 'stopped', stoppedAt: now, lastError: 'creation did not finish', updatedAt: now })
    .where(and(eq(channels.status, 'pending'), lt(channels.createdAt, olderThan)))
    .returning();
}

/** Live channel keys among these resources (for backfill). */
export async function liveResourceKeys(db: Executor, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .select({ key: channels.resourceKey })
    .from(channels)
    .where(and(inArray(channels.resourceKey, keys), inArray(channels.status, LIVE), isNull(channels.replacedById)));
  return new Set(rows.map((r) => r.key));
}

/** The expiry of each calendar's current channel (links.get shows it). */
export async function expiryByCalendar(db: Executor, ownerId: string): Promise<Map<string, Date | null>> {
  const rows = await db
    .select({ calendarId: channels.calendarId, expiresAt: channels.expiresAt })
    .from(channels)
    .where(and(eq(channels.ownerId, ownerId), eq(channels.kind, 'events'), inArray(channels.status, LIVE), isNull(channels.replacedById)));
  const out = new Map<string, Date | null>();
  for (const r of rows) if (r.calendarId) out.set(r.calendarId, r.expiresAt);
  return out;
}

export interface ListChannelsInput {
  status?: ChannelStatus;
  ownerId?: string;
  calendarRowId?: string;
  expiringBefore?: Date;
  /** Keyset cursor: rows created before this (createdAt, id). */
  after?: { createdAt: Date; id: string };
  limit: number;
}

export async function listChannelRows(db: Executor, input: ListChannelsInput): Promise<Channel[]> {
  return db
    .select()
    .from(channels)
    .where(
      and(
        input.status ? eq(channels.status, input.status) : undefined,
        input.ownerId ? eq(channels.ownerId, input.ownerId) : undefined,
        input.calendarRowId ? eq(channels.calendarId, input.calendarRowId) : undefined,
        input.expiringBefore ? lte(channels.expiresAt, input.expiringBefore) : undefined,
        input.after
          ? or(
              lt(channels.createdAt, input.after.createdAt),
              and(eq(channels.createdAt, input.after.createdAt), gt(channels.id, input.after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(channels.createdAt), asc(channels.id))
    .limit(input.limit);
}

export interface NotedChannel {
  id: string;
  ownerId: string;
  calendarId: string | null;
  kind: ChannelKind;
  resourceKey: string;
  lastMessageNumber: number;
  /** This process holds the resource's sync request (and drains it). */
  held: boolean;
  /** The request waits this long in the outbox before any drain takes it (0: at once). */
  deferredMs: number;
}

/**
 * The webhook's durable note, for a batch of notifications, in ONE statement (atomic, one round
 * trip): per channel, advance the last message number only if the new one is higher
 * (`WHERE last_message_number < n`, so two processes can never both accept the same message),
 * count them and stamp the time; and for each channel that accepted, note a sync request for its
 * resource in the outbox (coalesced: one row per resource). Returns the channels that accepted a new
 * message; a channel absent from the result saw a duplicate (or is no longer live).
 * `force` (a message without number in the batch) accepts it whatever the number.
 */
/**
 * How long a noting process holds its sync request: others drain it only after this (the holder
 * died). The holder itself trusts its hold for far less (HOLD_TRUST_MS in sync-request-holds.ts).
 */
export const HOLD_SECONDS = 5;

/**
 * Google's message numbers rise but "are not sequential" (push guide). A number this far above a
 * channel's last is implausible (a bug, or a sender holding a leaked token): it is accepted, but not
 * taken as the high-water mark, so it cannot make the channel's real messages look like duplicates.
 */
export const MESSAGE_NUMBER_MAX_JUMP = 1_000_000;

export async function noteNotifications(
  db: Executor,
  items: Array<{ id: string; n: number | null; force: boolean; count: number; at: Date }>,
  holder: string,
): Promise<NotedChannel[]> {
  const input = JSON.stringify(items.map((i) => ({ id: i.id, n: i.n, f: i.force, cnt: i.count, at: i.at.toISOString() })));
  // The hot path: a named prepared statement on the pool's client (drizzle sends raw SQL unprepared,
  // parsed and planned anew each time); inside a transaction, through drizzle.
  const client = (db as unknown as { $client?: RawClient }).$client;
  const rows = client
    ? await client.unsafe(NOTE_SQL, [input, holder], { prepare: true })
    : [...(await db.execute(noteSqlThroughDrizzle(input, holder)))];
  return (rows as NotedRow[]).map((r) => ({
    id: r.id,
    ownerId: r.owner_id,
    calendarId: r.calendar_id,
    kind: r.kind,
    resourceKey: r.resource_key,
    lastMessageNumber: Number(r.last_message_number),
    held: r.held === true,
    deferredMs: Math.max(0, Number(r.deferred_ms ?? 0)),
  }));
}

interface RawClient {
  unsafe(query: string, params: unknown[], opts: { prepare: boolean }): Promise<unknown[]>;
}

interface NotedRow {
  id: string;
  owner_id: string;
  calendar_id: string | null;
  kind: ChannelKind;
  resource_key: string;
  last_message_number: string | number;
  held: boolean | null;
  deferred_ms: number | string | null;
}

// The request row goes to the noting process ($2) unless another live holder has it; a holder
// whose hold ran out (it died) is replaced. A second notification that finds the row still waiting
// holds it back HOT_DEFER_MS (the resource is busy), see sync-request-holds.ts.
const NOTE_SQL = `
  with input as materialized (
    select * from jsonb_to_recordset(($1::text)::jsonb) as i(id uuid, n bigint, f boolean, cnt int, at timestamptz)
  ),
  noted as (
    update channels as c set
      -- an implausible jump is accepted (its sync runs) but never becomes the high-water mark
      last_message_number = case when i.n > c.last_message_number + ${MESSAGE_NUMBER_MAX_JUMP} then c.last_message_number
                                 else greatest(c.last_message_number, coalesce(i.n, 0)) end,
      last_notified_at = i.at,
      notifications_count = c.notifications_count + i.cnt
    from input as i
    where c.id = i.id
      -- by primary key, however many channels exist (the planner cannot size the JSON input)
      and c.id = any(array(select id from input))
      and c.status in ('pending', 'active')
      and (i.f or c.last_message_number < i.n)
    returning c.id, c.owner_id, c.calendar_id, c.kind, c.resource_key, c.last_message_number, i.at
  ),
  requested as (
    insert into channel_sync_requests as r (resource_key, owner_id, calendar_id, kind, notified_at, held_by, held_until, not_before)
    select distinct on (resource_key) resource_key, owner_id, calendar_id, kind, at, $2::text,
           clock_timestamp() + make_interval(secs => ${HOLD_SECONDS}), null::timestamptz
    from noted order by resource_key, at
    on conflict (resource_key) do update
      set seq = excluded.seq, notified_at = least(r.notified_at, excluded.notified_at),
          -- held back once per wait: a row already waiting keeps its time (a flood never starves it)
          not_before = case when r.not_before > clock_timestamp() then r.not_before
                            else clock_timestamp() + make_interval(secs => ${HOT_DEFER_MS / 1000}) end,
          held_by = case when r.held_by = excluded.held_by or r.held_until is null or r.held_until < clock_timestamp()
                         then excluded.held_by else r.held_by end,
          held_until = case when r.held_by = excluded.held_by or r.held_until is null or r.held_until < clock_timestamp()
                            then excluded.held_until else r.held_until end
    returning r.resource_key, r.held_by, r.not_before
  )
  select n.id, n.owner_id, n.calendar_id, n.kind, n.resource_key, n.last_message_number, (q.held_by = $2::text) as held,
         greatest(0, extract(epoch from q.not_before - clock_timestamp()) * 1000)::float8 as deferred_ms
  from noted n left join requested q on q.resource_key = n.resource_key`;
/** NOTE_SQL cut at its placeholders, for drizzle inside a transaction (params in order: $1, $2...). */
const NOTE_SQL_PIECES = NOTE_SQL.split(/(\$[12])/);

function noteSqlThroughDrizzle(input: string, holder: string) {
  return sql.join(NOTE_SQL_PIECES.map((piece) => (piece === '$1' ? sql`${input}` : piece === '$2' ? sql`${holder}` : sql.raw(piece))));
}

/**
 * Message numbers and counts of notifications the webhook answered without a write (their
 * resource's sync request was already held): kept in memory, written here about once a second.
 */
export async function flushMessageNumbers(db: Executor, items: Array<{ id: string; n: number; count: number; at: Date }>): Promise<void> {
  if (items.length === 0) return;
  const input = JSON.stringify(items.map((i) => ({ id: i.id, n: i.n, cnt: i.count, at: i.at.toISOString() })));
  await db.execute(sql`
    update channels as c set
      last_message_number = case when i.n > c.last_message_number + ${sql.raw(String(MESSAGE_NUMBER_MAX_JUMP))} then c.last_message_number
                                 else greatest(c.last_message_number, i.n) end,
      last_notified_at = greatest(c.last_notified_at, i.at),
      notifications_count = c.notifications_count + i.cnt
    from jsonb_to_recordset(${input}::jsonb) as i(id uuid, n bigint, cnt int, at timestamptz)
    where c.id = i.id and c.id = any(array(select (x->>'id')::uuid from jsonb_array_elements(${input}::jsonb) x))`);
}

export interface SyncRequest {
  resourceKey: string;
  ownerId: string;
  calendarId: string | null;
  kind: ChannelKind;
  notifiedAt: Date;
  seq: number;
}

/** The oldest sync requests of the outbox (read without locking: the drain deletes by seq). */
/** At shutdown: this holder's requests become anyone's to drain, at once. */
export async function releaseHeldRequests(db: Executor, holder: string): Promise<void> {
  await db.execute(sql`update channel_sync_requests set held_by = null, held_until = null, not_before = null where held_by = ${holder}`);
}

/** Requests this holder noted, and those whose holder's hold ran out (it died), oldest first. */
export async function pendingSyncRequests(db: Executor, limit: number, holder: string): Promise<SyncRequest[]> {
  return db
    .select()
    .from(channelSyncRequests)
    .where(
      and(
        or(eq(channelSyncRequests.heldBy, holder), isNull(channelSyncRequests.heldUntil), lt(channelSyncRequests.heldUntil, sql`clock_timestamp()`)),
        or(isNull(channelSyncRequests.notBefore), lte(channelSyncRequests.notBefore, sql`clock_timestamp()`)),
      ),
    )
    .orderBy(asc(channelSyncRequests.notifiedAt))
    .limit(limit);
}

/** Deletes drained requests, each only if no new notification bumped it since it was read. */
export async function deleteSyncRequests(db: Executor, drained: Array<{ resourceKey: string; seq: number }>): Promise<void> {
  if (drained.length === 0) return;
  const input = JSON.stringify(drained.map((d) => ({ k: d.resourceKey, s: d.seq })));
  await db.execute(sql`
    delete from channel_sync_requests as r
    using jsonb_to_recordset(${input}::jsonb) as d(k text, s bigint)
    where r.resource_key = d.k and r.seq = d.s`);
}

/** Google's `sync` message: the channel works. It also tells the resource id, should the watch answer be lost. */
export async function confirmChannels(db: Executor, items: Array<{ id: string; resourceId: string; at: Date }>): Promise<void> {
  const input = JSON.stringify(items.map((i) => ({ id: i.id, rid: i.resourceId, at: i.at.toISOString() })));
  await db.execute(sql`
    update channels as c set
      confirmed_at = coalesce(c.confirmed_at, i.at),
      resource_id = coalesce(c.resource_id, i.rid)
    from jsonb_to_recordset(${input}::jsonb) as i(id uuid, rid text, at timestamptz)
    where c.id = i.id`);
}

/** Per calendar of an owner, its newest events channel row: whether it is live now, and its last error. */
export async function newestEventChannels(db: Executor, ownerId: string, now: Date): Promise<Map<string, { live: boolean; lastError: string | null }>> {
  return newestEventChannelsWhere(db, eq(channels.ownerId, ownerId), now);
}

/** newestEventChannels of these calendars (row ids), whoever their owners. */
export async function newestEventChannelsOfCalendars(db: Executor, calendarRowIds: readonly string[], now: Date): Promise<Map<string, { live: boolean; lastError: string | null }>> {
  if (calendarRowIds.length === 0) return new Map();
  return newestEventChannelsWhere(db, inArray(channels.calendarId, [...calendarRowIds]), now);
}

async function newestEventChannelsWhere(db: Executor, where: SQL, now: Date): Promise<Map<string, { live: boolean; lastError: string | null }>> {
  const rows = await db
    .selectDistinctOn([channels.calendarId], {
      calendarId: channels.calendarId,
      status: channels.status,
      expiresAt: channels.expiresAt,
      replacedById: channels.replacedById,
      lastError: channels.lastError,
    })
    .from(channels)
    .where(and(where, eq(channels.kind, 'events')))
    .orderBy(channels.calendarId, desc(channels.createdAt));
  const out = new Map<string, { live: boolean; lastError: string | null }>();
  for (const r of rows) {
    if (!r.calendarId) continue;
    const live = r.status === 'active' && r.replacedById === null && (r.expiresAt === null || r.expiresAt > now);
    out.set(r.calendarId, { live, lastError: r.lastError });
  }
  return out;
}

/** Channels of these calendars (row ids) still pending, active or expired, newest first. */
export async function currentChannelRowsOfCalendars(db: Executor, calendarRowIds: readonly string[]): Promise<Channel[]> {
  if (calendarRowIds.length === 0) return [];
  return db
    .select()
    .from(channels)
    .where(and(inArray(channels.calendarId, [...calendarRowIds]), inArray(channels.status, ['pending', 'active', 'expired'])))
    .orderBy(desc(channels.createdAt));
}
