// links.get: the connection status of an owner as a frontend shows it.
import { AppError } from '../errors/index.ts';
import type { CalendarFreshness, Ctx } from '../context/index.ts';
import { findOwnerByExternalId, type OwnerStatus } from './owners.ts';

const iso = (d: Date | string | null | undefined) => (d == null ? null : d instanceof Date ? d.toISOString() : new Date(d).toISOString());

export interface LinkStatus {
  ownerId: string;
  externalOwnerId: string;
  status: OwnerStatus;
  linkedAt: string | null;
  revokedAt: string | null;
  unlinkedAt: string | null;
  lastSyncAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  calendars: Array<{
    calendarId: string;
    summary: string | null;
    primary: boolean;
    selected: boolean;
    lastSyncedAt: string | null;
    syncError: string | null;
    channelExpiresAt: string | null;
    /** How a selected calendar is kept fresh (push, or polling and why); null when not selected. */
    freshness: CalendarFreshness | null;
  }>;
}

export async function getLinkStatus(ctx: Ctx, input: { externalOwnerId: string }): Promise<LinkStatus> {
  const owner = await findOwnerByExternalId(ctx, input.externalOwnerId);
  if (!owner) throw new AppError('NOT_FOUND', `no owner ${input.externalOwnerId}`);
  const [calendars, freshness] = owner.status === 'unlinked'
    ? [[], new Map<string, CalendarFreshness>()]
    : await Promise.all([
        ctx.wiring.providers.calendarStatus?.(ctx, owner.id) ?? [],
        ctx.wiring.providers.calendarFreshness?.(ctx, owner.id) ?? new Map<string, CalendarFreshness>(),
      ]);
  return {
    ownerId: owner.id,
    externalOwnerId: owner.externalOwnerId,
    status: owner.status,
    linkedAt: iso(owner.linkedAt),
    revokedAt: iso(owner.revokedAt),
    unlinkedAt: iso(owner.unlinkedAt),
    lastSyncAt: iso(owner.lastSyncAt),
    lastError: owner.lastError,
    lastErrorAt: iso(owner.lastErrorAt),
    calendars: calendars.map((c) => ({
      calendarId: c.calendarId,
      summary: c.summary,
      primary: c.primary,
      selected: c.selected,
      lastSyncedAt: iso(c.lastSyncedAt),
      syncError: c.syncError,
      channelExpiresAt: iso(c.channelExpiresAt),
      freshness: c.selected ? freshness.get(c.calendarId) ?? null : null,
    })),
  };
}
