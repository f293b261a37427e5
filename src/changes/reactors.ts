// The feed is written in the other modules' transactions: sync's change sets and calendar changes,
// links' owner events; the rows commit with the change, or not at all. Thin subscriptions of
// fan-out are then told where the feed has them (changes.available), in the same transaction.
import { onCalendarChanges, onEventChanges } from '../sync/index.ts';
import { onOwnerEvent } from '../links/index.ts';
import { publishChangesAvailable } from '../fanout/index.ts';
import { recordCalendarChange, recordChangeSet, recordOwnerEvent } from './record.ts';

export function registerReactors(): void {
  onEventChanges('changes', async (tx, ctx, cs) => {
    const cursor = await recordChangeSet(tx, ctx, cs);
    if (!cursor) return;
    const covers = [...new Set(cs.changes.map((c) => `event.${c.kind}` as const))];
    await publishChangesAvailable(tx, ctx, { ownerId: cs.ownerId, externalOwnerId: cs.externalOwnerId, calendarId: cs.calendarId, cursor, covers });
  });
  onCalendarChanges('changes', async (tx, ctx, change) => {
    const recorded = await recordCalendarChange(tx, ctx, change);
    if (recorded) await publishChangesAvailable(tx, ctx, { ownerId: change.ownerId, externalOwnerId: change.externalOwnerId, calendarId: change.calendarId, ...recorded });
  });
  onOwnerEvent('changes', async (tx, ctx, ev) => {
    const recorded = await recordOwnerEvent(tx, ctx, ev);
    if (recorded) await publishChangesAvailable(tx, ctx, { ownerId: ev.ownerId, externalOwnerId: ev.externalOwnerId, calendarId: null, ...recorded });
  });
}
