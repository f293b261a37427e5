// The `changes` module's public face: the changes feed (changes.list), read with a cursor.
import type { CalwatchModule } from '../context/index.ts';
import { changesJobs } from './jobs.ts';
import { registerReactors } from './reactors.ts';

export { changesRouter } from './router.ts';
export { listChanges, type ChangeItem } from './list.ts';
export { pruneChanges } from './prune.ts';

registerReactors();

export const changesModule: CalwatchModule = { name: 'changes', jobs: changesJobs };
