// Fan-out plugs into the other modules' transactions: sync's change sets and calendar changes,
// links' owner events. Each handler only writes delivery rows and enqueues jobs in that transaction.
import type { ModuleReactions } from '../context/index.ts';
import { enqueueMessages } from './publish.ts';
import { messageFromCalendarChange, messageFromOwnerRevoked, messagesFromChangeSet } from './messages.ts';

export const fanoutReactions: ModuleReactions = {
  eventChanges: async (ctx, changeSet) => {
    if (changeSet.changes.length === 0) return;
    await enqueueMessages(ctx.tx, ctx, { ownerIds: [changeSet.ownerId], build: () => messagesFromChangeSet(changeSet) });
  },
  calendarChanges: async (ctx, change) => {
    const message = messageFromCalendarChange(change, ctx.clock.now());
    if (message) await enqueueMessages(ctx.tx, ctx, [message]);
  },
  ownerEvents: async (ctx, ev) => {
    if (ev.type === 'revoked') await enqueueMessages(ctx.tx, ctx, [messageFromOwnerRevoked(ev, ctx.clock.now())]);
  },
};
