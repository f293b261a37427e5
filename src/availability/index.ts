// The `availability` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const availabilityRouter = router({});

export const availabilityModule: CalwatchModule = { name: 'availability', jobs: [] };
