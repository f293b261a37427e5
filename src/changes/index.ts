// The `changes` module's public face: the changes feed (changes.list), read with a cursor.
import type { CalwatchModule } from '../context/index.ts';
import { changesJobs } from './jobs.ts';
import { changesReactions } from './reactors.ts';

export { changesRouter } from './router.ts';
export { listChanges, type ChangeItem } from './list.ts';
export { pruneChanges } from './prune.ts';

// Written after fan-out and the reacting modules (the module list's order), in their transactions.
export const changesModule: CalwatchModule = { name: 'changes', jobs: changesJobs, reactions: changesReactions };
