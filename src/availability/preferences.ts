// availability.preferences: whether tentative events block, which calendars count. Changing the
// tentative rule recomputes every blocked time of the owner in the same transaction; the calendar
// choice is applied when busy times are read.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { horizonAt } from './horizon.ts';
import { groupSeries, rebuildSeries } from './rebuild.ts';
import { ownerByExternalId } from './busy.ts';
import { fromSourceRow, loadOwnerSources, readPreferences, writePreferences, type StoredPreferences } from './store.ts';

export interface PreferencesView {
  tentativeBlocks: boolean;
  /** Google calendar ids that count; null: every selected calendar. */
  calendarIds: string[] | null;
}

async function linkedOwner(ctx: Ctx, externalOwnerId: string) {
  const owner = await ownerByExternalId(ctx, externalOwnerId);
  if (owner.status === 'unlinked') throw new AppError('NOT_FOUND', `owner ${externalOwnerId} is unlinked: preferences belong to a linked owner`);
  return owner;
}

export async function getPreferences(ctx: Ctx, input: { externalOwnerId: string }): Promise<PreferencesView> {
  const owner = await linkedOwner(ctx, input.externalOwnerId);
  return readPreferences(ctx.db, owner.id);
}

const DEADLOCK = '40P01';
export const isDeadlock = (err: unknown): boolean => {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === DEADLOCK) return true;
  }
  return false;
};

export async function setPreferences(
  ctx: Ctx,
  input: { externalOwnerId: string; tentativeBlocks?: boolean; calendarIds?: string[] | null },
): Promise<PreferencesView> {
  const owner = await linkedOwner(ctx, input.externalOwnerId);
  // A recompute may meet the sync on the same series rows in the other order: Postgres then aborts
  // one side; this side simply tries again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.transaction(async (tx) => {
        const now = ctx.clock.now();
        const before = await readPreferences(tx, owner.id);
        const next: StoredPreferences = {
          tentativeBlocks: input.tentativeBlocks ?? before.tentativeBlocks,
          calendarIds: input.calendarIds === undefined ? before.calendarIds : input.calendarIds && [...new Set(input.calendarIds)],
        };
        // Written first: it waits on the owner row (an unlink in progress) before holding any series lock.
        await writePreferences(tx, owner.id, next, now);
        if (next.tentativeBlocks !== before.tentativeBlocks) {
          const rows = await loadOwnerSources(tx, owner.id);
          const groups = groupSeries(rows.map((r) => ({ ...r, source: fromSourceRow(r) })));
          await rebuildSeries(tx, ctx, groups, () => next, horizonAt(now, ctx.config.availability.horizonDays));
        }
        return next;
      });
    } catch (err) {
      if (attempt >= 3 || !isDeadlock(err)) throw err;
      ctx.log.warn({ ownerId: owner.id, attempt }, 'preferences recompute met a deadlock; retrying');
    }
  }
}
