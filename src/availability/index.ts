// The `availability` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { applyChangeSet } from './apply-changes.ts';
import { availabilityJobs, extendHorizonJob } from './jobs.ts';
import { onCalendarChangeForAvailability, onOwnerEventForAvailability } from './owner-events.ts';
import { resumeRebuilds } from './rebuild-owners.ts';
import './admin/index.ts';

export { availabilityRouter } from './router.ts';
export { busyIntervals, type BusyInput, type TimeInterval } from './busy.ts';
export { extendHorizon } from './extend-horizon.ts';
export { runAvailabilityCommand, AVAILABILITY_USAGE } from './cli.ts';
export { RULES_VERSION } from './rules-version.ts';
export { extendHorizonJob } from './jobs.ts';

export const availabilityModule: CalwatchModule = {
  name: 'availability',
  jobs: availabilityJobs,
  // Blocked times follow the mirror inside the sync's transaction; unlink deletes or freezes them.
  reactions: { eventChanges: applyChangeSet, calendarChanges: onCalendarChangeForAvailability, ownerEvents: onOwnerEventForAvailability },
  // The cron may have been missed while the service was down: move the horizon once at start.
  // A new rules version starts a rebuild of every owner; unfinished rebuilds carry on.
  start: async (ctx) => {
    await extendHorizonJob.send(ctx, {});
    await resumeRebuilds(ctx);
  },
};
