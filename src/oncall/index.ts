// The `oncall` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const oncallRouter = router({});

export const oncallModule: CalwatchModule = { name: 'oncall', jobs: [] };
