// The `channels` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const channelsRouter = router({});

export const channelsModule: CalwatchModule = { name: 'channels', jobs: [] };
