// The feed is written in the other modules' transactions: sync's change sets and calendar changes,
// links' owner events; the rows commit with the change, or not at all. Thin subscriptions of
// fan-out are then told where the feed has them (changes.available), in the same transaction.
import type { ModuleReactions } from '../context/index.ts';
import { publishChangesAvailable } from '../fanout/index.ts';
import { recordCalendarChange, recordChangeSet, recordOwnerEvent } from './record.ts';

export const changesReactions: ModuleReactions = {
  eventChanges: async (ctx, cs) => {
    const cursor = await recordChangeSet(ctx.tx, ctx, cs);
    if (!cursor) return;
    const covers = [...new Set(cs.changes.map((c) => `event.${c.kind}` as const))];
    await publishChangesAvailable(ctx.tx, ctx, { ownerId: cs.ownerId, externalOwnerId: cs.externalOwnerId, calendarId: cs.calendarId, cursor, covers });
  },
  calendarChanges: async (ctx, change) => {
    const recorded = await recordCalendarChange(ctx.tx, ctx, change);
    if (recorded) await publishChangesAvailable(ctx.tx, ctx, { ownerId: change.ownerId, externalOwnerId: change.externalOwnerId, calendarId: change.calendarId, ...recorded });
  },
  ownerEvents: async (ctx, ev) => {
    const recorded = await recordOwnerEvent(ctx.tx, ctx, ev);
    if (recorded) await publishChangesAvailable(ctx.tx, ctx, { ownerId: ev.ownerId, externalOwnerId: ev.externalOwnerId, calendarId: null, ...recorded });
  },
};
