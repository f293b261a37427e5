// Fan-out plugs into the other modules' transactions: sync's change sets and calendar changes,
// links' owner events. Each handler only writes delivery rows and enqueues jobs in that transaction.
import { onCalendarChanges, onEventChanges } from '../sync/index.ts';
import { onOwnerEvent } from '../links/index.ts';
import { enqueueMessages } from './publish.ts';
import { messageFromCalendarChange, messageFromOwnerRevoked, messagesFromChangeSet } from './messages.ts';

export function registerReactors(): void {
  onEventChanges('fanout', async (tx, ctx, changeSet) => {
    if (changeSet.changes.length === 0) return;
    await enqueueMessages(tx, ctx, { ownerIds: [changeSet.ownerId], build: () => messagesFromChangeSet(changeSet) });
  });
  onCalendarChanges('fanout', async (tx, ctx, change) => {
    const message = messageFromCalendarChange(change, ctx.clock.now());
    if (message) await enqueueMessages(tx, ctx, [message]);
  });
  onOwnerEvent('fanout', async (tx, ctx, ev) => {
    if (ev.type === 'revoked') await enqueueMessages(tx, ctx, [messageFromOwnerRevoked(ev, ctx.clock.now())]);
  });
}
