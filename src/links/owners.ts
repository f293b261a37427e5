// Queries over links' own tables, and the owner as the rest of the service sees it.
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { owners, ownerTombstones, type Owner as OwnerRow, type OwnerTombstone } from '../../schema/links.ts';

export type OwnerStatus = 'active' | 'revoked' | 'unlinked';

/** An owner as other modules see it: never a token. */
export interface Owner {
  id: string;
  externalOwnerId: string;
  status: OwnerStatus;
  googleEmail: string | null;
  scopes: string | null;
  linkedAt: Date | null;
  revokedAt: Date | null;
  unlinkedAt: Date | null;
  lastSyncAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

export function ownerView(row: OwnerRow): Owner {
  return {
    id: row.id,
    externalOwnerId: row.externalOwnerId,
    status: row.status === 'revoked' ? 'revoked' : 'active',
    googleEmail: row.googleEmail,
    scopes: row.scopes,
    linkedAt: row.linkedAt,
    revokedAt: row.revokedAt,
    unlinkedAt: null,
    lastSyncAt: row.lastSyncAt,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
  };
}

export function tombstoneView(t: OwnerTombstone): Owner {
  return {
    id: t.formerOwnerId,
    externalOwnerId: t.externalOwnerId,
    status: 'unlinked',
    googleEmail: null,
    scopes: null,
    linkedAt: t.linkedAt,
    revokedAt: null,
    unlinkedAt: t.unlinkedAt,
    lastSyncAt: null,
    lastError: null,
    lastErrorAt: null,
  };
}

/** forUpdate takes FOR NO KEY UPDATE: other modules' rows referencing the owner can still be inserted. */
export async function ownerRowById(db: Executor, ownerId: string, opts: { forUpdate?: boolean } = {}): Promise<OwnerRow | undefined> {
  const q = db.select().from(owners).where(eq(owners.id, ownerId));
  const rows = opts.forUpdate ? await q.for('no key update') : await q;
  return rows[0];
}

export async function ownerRowByExternalId(db: Executor, externalOwnerId: string, opts: { forUpdate?: boolean } = {}): Promise<OwnerRow | undefined> {
  const q = db.select().from(owners).where(eq(owners.externalOwnerId, externalOwnerId));
  const rows = opts.forUpdate ? await q.for('no key update') : await q;
  return rows[0];
}

export async function latestTombstone(db: Executor, by: { ownerId?: string; externalOwnerId?: string }): Promise<OwnerTombstone | undefined> {
  const where = by.ownerId ? eq(ownerTombstones.formerOwnerId, by.ownerId) : eq(ownerTombstones.externalOwnerId, by.externalOwnerId ?? '');
  const rows = await db.select().from(ownerTombstones).where(where).orderBy(desc(ownerTombstones.unlinkedAt)).limit(1);
  return rows[0];
}

/** The owner, or its tombstone (status 'unlinked') once unlinked, or undefined when never linked. */
export async function getOwner(ctx: Pick<Ctx, 'db'>, ownerId: string): Promise<Owner | undefined> {
  if (!isUuid(ownerId)) return undefined;
  const row = await ownerRowById(ctx.db, ownerId);
  if (row) return ownerView(row);
  const t = await latestTombstone(ctx.db, { ownerId });
  return t ? tombstoneView(t) : undefined;
}

/** getOwner of many ids in two queries at most (the admin API's loaders): unknown ids are left out. */
export async function getOwners(ctx: Pick<Ctx, 'db'>, ownerIds: readonly string[]): Promise<Owner[]> {
  const ids = [...new Set(ownerIds.filter(isUuid))];
  if (ids.length === 0) return [];
  const rows = await ctx.db.select().from(owners).where(inArray(owners.id, ids));
  const found = new Set(rows.map((r) => r.id));
  const gone = ids.filter((id) => !found.has(id));
  const out = rows.map(ownerView);
  if (gone.length > 0) {
    const tombstones = await ctx.db
      .selectDistinctOn([ownerTombstones.formerOwnerId])
      .from(ownerTombstones)
      .where(inArray(ownerTombstones.formerOwnerId, gone))
      .orderBy(ownerTombstones.formerOwnerId, desc(ownerTombstones.unlinkedAt));
    out.push(...tombstones.map(tombstoneView));
  }
  return out;
}

/** The live owner of this external id, else its latest tombstone (status 'unlinked'), else undefined. */
export async function findOwnerByExternalId(ctx: Pick<Ctx, 'db'>, externalOwnerId: string): Promise<Owner | undefined> {
  const row = await ownerRowByExternalId(ctx.db, externalOwnerId);
  if (row) return ownerView(row);
  const t = await latestTombstone(ctx.db, { externalOwnerId });
  return t ? tombstoneView(t) : undefined;
}

/**
 * The sync module reports here how the owner's last sync went: a success sets lastSyncAt and clears
 * the last error (links.get shows the connection as it is now); a failure sets lastError and its
 * time. A revoked owner keeps its revocation as lastError: a sync that started before the revocation
 * and ends after it must not hide it.
 */
export async function recordOwnerSync(ctx: Pick<Ctx, 'db'>, ownerId: string, input: { at: Date; error?: string | null }): Promise<void> {
  if (!isUuid(ownerId)) return;
  if (input.error) {
    await ctx.db
      .update(owners)
      .set({ lastError: input.error.slice(0, 2000), lastErrorAt: input.at, updatedAt: input.at })
      .where(and(eq(owners.id, ownerId), eq(owners.status, 'active')));
    return;
  }
  await ctx.db
    .update(owners)
    .set({
      lastSyncAt: input.at,
      lastError: sql`case when ${owners.status} = 'active' then null else ${owners.lastError} end`,
      lastErrorAt: sql`case when ${owners.status} = 'active' then null else ${owners.lastErrorAt} end`,
      updatedAt: input.at,
    })
    .where(eq(owners.id, ownerId));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

/** Admin listing, oldest first. status 'unlinked' lists tombstones; no status lists live owners. */
export async function listOwners(ctx: Pick<Ctx, 'db'>, input: { status?: OwnerStatus; limit: number; offset: number }): Promise<Owner[]> {
  if (input.status === 'unlinked') {
    const rows = await ctx.db
      .select()
      .from(ownerTombstones)
      .orderBy(asc(ownerTombstones.unlinkedAt), asc(ownerTombstones.formerOwnerId))
      .limit(input.limit)
      .offset(input.offset);
    return rows.map(tombstoneView);
  }
  const rows = await ctx.db
    .select()
    .from(owners)
    .where(input.status ? eq(owners.status, input.status) : undefined)
    .orderBy(asc(owners.createdAt), asc(owners.id))
    .limit(input.limit)
    .offset(input.offset);
  return rows.map(ownerView);
}
