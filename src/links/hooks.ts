// Registries other modules plug into through the face: owner events (inside links' transaction),
// before-unlink hooks (outside any transaction) and the calendar status provider of links.get.
// links depends on no domain module: sync, channels... register here instead.
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';

export type OwnerEventType = 'linked' | 'refreshed' | 'resync' | 'revoked' | 'unlinked';

export interface OwnerEvent {
  type: OwnerEventType;
  ownerId: string;
  externalOwnerId: string;
  /** UNLINKED only: the caller asked to keep the owner's blocked times. */
  keepBlockedTimes?: boolean;
}

/** Runs inside links' transaction: write your own rows and enqueue your jobs with `{tx}`, never call Google. */
export type OwnerEventHandler = (tx: Executor, ctx: Ctx, ev: OwnerEvent) => Promise<void>;
/** Runs outside any transaction, before the unlink transaction (e.g. stop watch channels at Google). */
export type BeforeUnlinkHandler = (ctx: Ctx, owner: { ownerId: string; externalOwnerId: string }) => Promise<void>;

export interface CalendarStatus {
  calendarId: string;
  summary: string | null;
  primary: boolean;
  selected: boolean;
  lastSyncedAt: Date | string | null;
  syncError: string | null;
  channelExpiresAt: Date | string | null;
}
export type CalendarStatusProvider = (ctx: Ctx, ownerId: string) => Promise<CalendarStatus[]>;

/**
 * How a mirrored calendar is kept fresh (links.get's `freshness`): by Google's push, or by polling,
 * and why polling: `pushNotSupported` (Google never pushes it: holiday, birthday, other users' public
 * calendars), `watchRefused` (a watch failed with 403/404: tried again on a backoff), `notWatched`
 * (no live channel yet, or it lapsed), `noPublicUrl` (this deployment registers no channels).
 */
export type FreshnessReason = 'pushNotSupported' | 'watchRefused' | 'notWatched' | 'noPublicUrl';
export interface CalendarFreshness {
  mode: 'push' | 'polling';
  reason: FreshnessReason | null;
}
/** Per Google calendar id of the owner's selected calendars. */
export type CalendarFreshnessProvider = (ctx: Ctx, ownerId: string) => Promise<Map<string, CalendarFreshness>>;
let calendarFreshnessProvider: CalendarFreshnessProvider | undefined;

/** channels registers how each calendar is kept fresh. Returns a function that puts the previous provider back. */
export function provideCalendarFreshness(provider: CalendarFreshnessProvider): () => void {
  const previous = calendarFreshnessProvider;
  calendarFreshnessProvider = provider;
  return () => {
    if (calendarFreshnessProvider === provider) calendarFreshnessProvider = previous;
  };
}

export async function calendarFreshnessFor(ctx: Ctx, ownerId: string): Promise<Map<string, CalendarFreshness>> {
  return calendarFreshnessProvider ? calendarFreshnessProvider(ctx, ownerId) : new Map();
}

const ownerEventHandlers = new Map<string, OwnerEventHandler>();
const beforeUnlinkHandlers = new Map<string, BeforeUnlinkHandler>();
let calendarStatusProvider: CalendarStatusProvider | undefined;

/**
 * Registers by name: registering the same name again replaces the handler. Returns a function that
 * undoes this registration (the previous handler of that name, if any, comes back): for tests.
 */
export function onOwnerEvent(name: string, handler: OwnerEventHandler): () => void {
  return register(ownerEventHandlers, name, handler);
}

export function beforeUnlink(name: string, handler: BeforeUnlinkHandler): () => void {
  return register(beforeUnlinkHandlers, name, handler);
}

function register<H>(map: Map<string, H>, name: string, handler: H): () => void {
  const previous = map.get(name);
  map.set(name, handler);
  return () => {
    if (map.get(name) !== handler) return;
    if (previous) map.set(name, previous);
    else map.delete(name);
  };
}

/**
 * sync registers the function that lists an owner's calendars for links.get (links never reads
 * sync's tables). Returns a function that puts the previous provider back.
 */
export function provideCalendarStatus(provider: CalendarStatusProvider): () => void {
  const previous = calendarStatusProvider;
  calendarStatusProvider = provider;
  return () => {
    if (calendarStatusProvider === provider) calendarStatusProvider = previous;
  };
}

/** A handler's failure fails the transaction: the event and the owner's change commit together or not at all. */
export async function dispatchOwnerEvent(tx: Executor, ctx: Ctx, ev: OwnerEvent): Promise<void> {
  for (const handler of ownerEventHandlers.values()) await handler(tx, ctx, ev);
}

/** Each hook's failure is logged and does not block the unlink: the owner asked to be forgotten. */
export async function runBeforeUnlink(ctx: Ctx, owner: { ownerId: string; externalOwnerId: string }): Promise<void> {
  for (const [name, handler] of beforeUnlinkHandlers) {
    try {
      await handler(ctx, owner);
    } catch (err) {
      ctx.log.warn({ err, hook: name, ownerId: owner.ownerId }, 'before-unlink hook failed; unlinking anyway');
    }
  }
}

export async function calendarStatusFor(ctx: Ctx, ownerId: string): Promise<CalendarStatus[]> {
  return calendarStatusProvider ? calendarStatusProvider(ctx, ownerId) : [];
}
