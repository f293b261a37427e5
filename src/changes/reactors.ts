// The feed is written in the other modules' transactions: sync's change sets and calendar changes,
// links' owner events; the row commits with the change, or not at all.
import { onCalendarChanges, onEventChanges } from '../sync/index.ts';
import { onOwnerEvent } from '../links/index.ts';
import { recordCalendarChange, recordChangeSet, recordOwnerEvent } from './record.ts';

export function registerReactors(): void {
  onEventChanges('changes', async (tx, ctx, changeSet) => {
    await recordChangeSet(tx, ctx, changeSet);
  });
  onCalendarChanges('changes', recordCalendarChange);
  onOwnerEvent('changes', recordOwnerEvent);
}
