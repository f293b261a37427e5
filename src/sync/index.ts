// The `sync` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { router } from '../api/index.ts';

export const syncRouter = router({});

export const syncModule: CalwatchModule = { name: 'sync', jobs: [] };

export {
  onEventChanges,
  onCalendarChanges,
  type ChangeSet,
  type EventChange,
  type MirrorEvent,
  type MirrorAttendee,
  type CalendarChange,
  type EventChangeHandler,
  type CalendarChangeHandler,
} from './changes.ts';
