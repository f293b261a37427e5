// The `bookings` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const bookingsRouter = router({});

export const bookingsModule: CalwatchModule = { name: 'bookings', jobs: [] };
