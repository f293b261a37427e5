// The `fanout` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const fanoutRouter = router({});

export const fanoutModule: CalwatchModule = { name: 'fanout', jobs: [] };
