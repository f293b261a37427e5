// The `links` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const linksRouter = router({});

export const linksModule: CalwatchModule = { name: 'links', jobs: [] };
