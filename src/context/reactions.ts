// How modules react to each other without importing each other: the contract of each reaction
// (what sync hands over after writing the mirror, what links announces about an owner), the
// answers one module gives another (links.get's calendar list, channel expiries, freshness), and
// the wiring the composition root builds from the module list, in that list's order, once per
// context. Nothing here is global: two services in one process have two wirings.
import type { Executor } from '../db/index.ts';
import type { Ctx, TxCtx } from './index.ts';

export interface MirrorAttendee {
  email: string;
  responseStatus: string;
  self?: boolean;
  organizer?: boolean;
  displayName?: string;
}

/** A mirror row as reactors see it (times as Dates; all-day dates as YYYY-MM-DD). */
export interface MirrorEvent {
  ownerId: string;
  externalOwnerId: string;
  /** calendars.id (our row). */
  calendarRowId: string;
  /** Google's calendar id. */
  calendarId: string;
  calendarTimeZone: string | null;
  googleEventId: string;
  status: string;
  summary: string | null;
  startAt: Date | null;
  endAt: Date | null;
  startDate: string | null;
  endDate: string | null;
  timeZone: string | null;
  allDay: boolean;
  transparency: string;
  eventType: string;
  recurrence: string[] | null;
  recurringEventId: string | null;
  originalStartTime: string | null;
  organizerEmail: string | null;
  attendees: MirrorAttendee[];
  updated: Date | null;
  etag: string | null;
  raw: Record<string, unknown>;
}

export type EventChange =
  | { kind: 'created'; event: MirrorEvent }
  | { kind: 'updated'; event: MirrorEvent; previous: MirrorEvent }
  /** `previous` is null when Google reports a deletion of an event the mirror never held. */
  | { kind: 'cancelled'; event: MirrorEvent; previous: MirrorEvent | null };

/** What a sync changed in the mirror: handed to the reactors inside the sync's own transaction. */
export interface ChangeSet {
  ownerId: string;
  externalOwnerId: string;
  calendarRowId: string;
  calendarId: string;
  calendarTimeZone: string | null;
  /** A full sync (first sync, or recovery from 410): `changes` covers every row it touched. */
  fullSync: boolean;
  syncedAt: Date;
  changes: EventChange[];
}

export interface CalendarChange {
  /**
   * added: a new calendar appeared in the owner's list; removed: it left the list (or Google
   * answers 404) and its events are gone; selected / deselected: `calendars.setSelected` (or the
   * default selection of the primary calendar); fullSynced: a first or recovery (410, resync) full
   * sync of the calendar just committed (channels creates the watch channel then).
   */
  kind: 'added' | 'removed' | 'selected' | 'deselected' | 'fullSynced';
  ownerId: string;
  externalOwnerId: string;
  calendarRowId: string;
  calendarId: string;
  summary: string | null;
  timeZone: string | null;
}

export type OwnerEventType = 'linked' | 'refreshed' | 'resync' | 'revoked' | 'unlinked';

export interface OwnerEvent {
  type: OwnerEventType;
  ownerId: string;
  externalOwnerId: string;
  /** UNLINKED only: the caller asked to keep the owner's blocked times. */
  keepBlockedTimes?: boolean;
}

export interface CalendarStatus {
  calendarId: string;
  summary: string | null;
  primary: boolean;
  selected: boolean;
  lastSyncedAt: Date | string | null;
  syncError: string | null;
  channelExpiresAt: Date | string | null;
}

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

/** Runs inside the sync's transaction (`ctx.tx`), once the rows are written: write your own rows, enqueue with `{tx: ctx.tx}`. */
export type EventChangeHandler = (ctx: TxCtx, changeSet: ChangeSet) => Promise<void>;
export type CalendarChangeHandler = (ctx: TxCtx, change: CalendarChange) => Promise<void>;
/** Runs inside links' transaction: write your own rows and enqueue your jobs with `{tx: ctx.tx}`, never call Google. */
export type OwnerEventHandler = (ctx: TxCtx, ev: OwnerEvent) => Promise<void>;
/** Runs outside any transaction, before the unlink transaction (e.g. stop watch channels at Google). */
export type BeforeUnlinkHandler = (ctx: Ctx, owner: { ownerId: string; externalOwnerId: string }) => Promise<void>;

/** What a module reacts to. The composition root runs them in the order of its module list. */
export interface ModuleReactions {
  eventChanges?: EventChangeHandler;
  calendarChanges?: CalendarChangeHandler;
  ownerEvents?: OwnerEventHandler;
  beforeUnlink?: BeforeUnlinkHandler;
}

/** Answers one module gives another that may not import it. At most one module provides each. */
export interface ModuleProviders {
  /** The owner's calendars for links.get (sync). */
  calendarStatus?: (ctx: Ctx, ownerId: string) => Promise<CalendarStatus[]>;
  /** When each calendar's watch channel expires, by calendars.id (channels). */
  channelExpiry?: (ctx: Ctx, ownerId: string) => Promise<Map<string, Date | null>>;
  /** How each selected calendar is kept fresh, by Google calendar id (channels). */
  calendarFreshness?: (ctx: Ctx, ownerId: string) => Promise<Map<string, CalendarFreshness>>;
}

interface Named<H> {
  module: string;
  handler: H;
}

/** The reactions and answers of a service's modules, built once from its module list. */
export interface Wiring {
  eventChanges: ReadonlyArray<Named<EventChangeHandler>>;
  calendarChanges: ReadonlyArray<Named<CalendarChangeHandler>>;
  ownerEvents: ReadonlyArray<Named<OwnerEventHandler>>;
  beforeUnlink: ReadonlyArray<Named<BeforeUnlinkHandler>>;
  providers: Readonly<ModuleProviders>;
}

/** Wires modules in the order given: that order is the order every reaction runs in. */
export function wireModules(modules: ReadonlyArray<{ name: string; reactions?: ModuleReactions; provides?: ModuleProviders }>): Wiring {
  const names = new Set<string>();
  const pick = <K extends keyof ModuleReactions>(kind: K) =>
    modules.flatMap((m) => {
      const handler = m.reactions?.[kind];
      return handler ? [{ module: m.name, handler: handler as NonNullable<ModuleReactions[K]> }] : [];
    });
  const providers: ModuleProviders = {};
  const providedBy: Record<string, string> = {};
  for (const m of modules) {
    if (names.has(m.name)) throw new Error(`module ${m.name} is listed twice`);
    names.add(m.name);
    for (const [key, fn] of Object.entries(m.provides ?? {}) as Array<[keyof ModuleProviders, unknown]>) {
      if (!fn) continue;
      if (providedBy[key]) throw new Error(`${key} is provided by both ${providedBy[key]} and ${m.name}`);
      providedBy[key] = m.name;
      (providers as Record<string, unknown>)[key] = fn;
    }
  }
  return {
    eventChanges: pick('eventChanges'),
    calendarChanges: pick('calendarChanges'),
    ownerEvents: pick('ownerEvents'),
    beforeUnlink: pick('beforeUnlink'),
    providers,
  };
}

/** A context joined to a transaction: verbs given it read, write and enqueue in that transaction. */
export const inTransaction = (ctx: Ctx, tx: Executor): TxCtx => ({ ...ctx, tx });

/**
 * Called by the sync inside its transaction, once the rows are written. `timings`, when given,
 * receives the milliseconds each reactor took (by module name), added to what it holds.
 */
export async function dispatchEventChanges(ctx: TxCtx, changeSet: ChangeSet, timings?: Record<string, number>): Promise<void> {
  if (changeSet.changes.length === 0) return;
  for (const { module, handler } of ctx.wiring.eventChanges) {
    const t0 = performance.now();
    await handler(ctx, changeSet);
    if (timings) timings[module] = (timings[module] ?? 0) + performance.now() - t0;
  }
}

export async function dispatchCalendarChange(ctx: TxCtx, change: CalendarChange): Promise<void> {
  for (const { handler } of ctx.wiring.calendarChanges) await handler(ctx, change);
}

/** A handler's failure fails the transaction: the event and the owner's change commit together or not at all. */
export async function dispatchOwnerEvent(ctx: TxCtx, ev: OwnerEvent): Promise<void> {
  for (const { handler } of ctx.wiring.ownerEvents) await handler(ctx, ev);
}

/** Each hook's failure is logged and does not block the unlink: the owner asked to be forgotten. */
export async function runBeforeUnlink(ctx: Ctx, owner: { ownerId: string; externalOwnerId: string }): Promise<void> {
  for (const { module, handler } of ctx.wiring.beforeUnlink) {
    try {
      await handler(ctx, owner);
    } catch (err) {
      ctx.log.warn({ err, hook: module, ownerId: owner.ownerId }, 'before-unlink hook failed; unlinking anyway');
    }
  }
}
