// Backfill: a channel for every selected calendar that lacks one, and one for each owner's calendar
// list (the existing-users case, and owners revived after a revoked grant). Safe to run twice:
// resources with a live channel are skipped, and a creation already in flight is left alone.
import type { Ctx } from '../context/index.ts';
import { isAppError } from '../errors/index.ts';
import { listSelectedCalendars } from '../sync/index.ts';
import { getOwner } from '../links/index.ts';
import { createChannel, isPushNotSupported, type CreateOutcome } from './create.ts';
import { liveResourceKeys, resourceKeyFor } from './queries.ts';
import { webhookAddress } from './runtime.ts';

export interface BackfillProgress {
  total: number;
  done: number;
  created: number;
  skipped: number;
  pollOnly: number;
  /** Watches Google refused with 403/404: tried again later on a backoff. */
  retrying: number;
  failed: number;
}

export interface BackfillResult extends BackfillProgress {
  disabled: boolean;
  errors: Array<{ ownerId: string; calendarRowId: string | null; error: string }>;
}

interface Target {
  ownerId: string;
  calendarRowId: string | null;
}

async function targetsFor(ctx: Ctx, ownerId?: string): Promise<Target[]> {
  // Poll-only for good (Google's "not supported") are skipped; marks left by a 403/404 are tried again.
  const calendars = (await listSelectedCalendars(ctx, ownerId ? { ownerId } : {})).filter((c) => !(c.pollOnly && isPushNotSupported(c.pollOnlyReason)));
  const owners = new Set(ownerId ? [ownerId] : calendars.map((c) => c.ownerId));
  const targets: Target[] = [];
  for (const o of owners) targets.push({ ownerId: o, calendarRowId: null });
  for (const c of calendars) targets.push({ ownerId: c.ownerId, calendarRowId: c.id });
  return targets;
}

export async function backfillChannels(
  ctx: Ctx,
  opts: { ownerId?: string; concurrency?: number; onProgress?: (p: BackfillProgress) => void } = {},
): Promise<BackfillResult> {
  const result: BackfillResult = { total: 0, done: 0, created: 0, skipped: 0, pollOnly: 0, retrying: 0, failed: 0, disabled: false, errors: [] };
  if (!webhookAddress(ctx)) return { ...result, disabled: true };

  const all = await targetsFor(ctx, opts.ownerId);
  const live = await liveResourceKeys(ctx.db, all.map(resourceKeyFor));
  const ownerActive = new Map<string, boolean>();
  result.total = all.length;
  const todo: Target[] = [];
  for (const t of all) {
    if (live.has(resourceKeyFor(t))) {
      result.skipped++;
      result.done++;
    } else todo.push(t);
  }
  opts.onProgress?.({ ...result });

  const count = (outcome: CreateOutcome) => {
    if (outcome === 'created') result.created++;
    else if (outcome === 'poll-only') result.pollOnly++;
    else if (outcome === 'refused') result.failed++;
    else if (outcome === 'retry-later') result.retrying++;
    else result.skipped++;
  };
  const worker = async () => {
    for (let t = todo.shift(); t; t = todo.shift()) {
      try {
        let active = ownerActive.get(t.ownerId);
        if (active === undefined) {
          active = (await getOwner(ctx, t.ownerId))?.status === 'active';
          ownerActive.set(t.ownerId, active);
        }
        if (!active) result.skipped++;
        else count((await createChannel(ctx, { ...t, reason: 'backfill' })).outcome);
      } catch (err) {
        result.failed++;
        result.errors.push({ ...t, error: isAppError(err) ? `${err.code}: ${err.message}` : String(err) });
      }
      result.done++;
      opts.onProgress?.({ ...result });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, todo.length)) }, worker));
  return result;
}
