// The tRPC API of calwatch. Each module's router holds its namespaces (docs/architecture.md)
// (`links.*` and `oauth.*` from links, `calendars.*` and `events.*` from sync, ...), merged here.
// `AppRouter` is the type typed clients import.
import { router, mergeRouters, systemRouter } from '../api/index.ts';
import { linksRouter } from '../links/index.ts';
import { syncRouter } from '../sync/index.ts';
import { channelsRouter } from '../channels/index.ts';
import { oncallRouter } from '../oncall/index.ts';
import { bookingsRouter } from '../bookings/index.ts';
import { availabilityRouter } from '../availability/index.ts';
import { fanoutRouter } from '../fanout/index.ts';
import { changesRouter } from '../changes/index.ts';

export const appRouter = mergeRouters(
  router({ system: systemRouter }),
  linksRouter,
  syncRouter,
  channelsRouter,
  oncallRouter,
  bookingsRouter,
  availabilityRouter,
  fanoutRouter,
  changesRouter,
);

export type AppRouter = typeof appRouter;
