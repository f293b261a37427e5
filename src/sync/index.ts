// The `sync` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { syncJobs } from './jobs.ts';
import { calendarStatusOf, onOwnerEventForSync } from './owner-events.ts';
import { scheduleCatchUp } from './safety-net.ts';
import './admin/index.ts';

export { syncRouter } from './router.ts';

export const syncModule: CalwatchModule = {
  name: 'sync',
  jobs: syncJobs,
  // links dispatches owner events inside its transaction; sync answers links.get's calendar list.
  reactions: { ownerEvents: onOwnerEventForSync },
  provides: { calendarStatus: calendarStatusOf },
  // Google does not queue notifications for a receiver that was down: catch up at start.
  start: async (ctx) => {
    await scheduleCatchUp(ctx);
  },
};

export { enqueueEventSync, enqueueEventSyncs, enqueueCalendarListSync, type EnqueueEventSyncOptions, type SyncReason } from './enqueue.ts';
export { getCalendar, findCalendar, listSelectedCalendars, listOwnerCalendars, markPollOnly, clearPollOnly, type SyncCalendar } from './calendars.ts';
export { syncCalendarEvents, type EventSyncResult } from './sync-events.ts';
export { syncCalendarList, type CalendarListSyncResult } from './sync-calendar-list.ts';
export { setCalendarSelected } from './set-selected.ts';
export { resyncCalendars } from './resync.ts';
export { listEvents, type ListedEvent } from './list-events.ts';
export { runSafetyNet, scheduleCatchUp } from './safety-net.ts';
export { refreshCalendarsJob } from './jobs.ts';
export { CalendarRef, loadCalendar } from './admin/index.ts';
