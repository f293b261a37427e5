// The admin GraphQL types of sync, one file per type; the module's index.ts imports this file.
export { CalendarRef, loadCalendar } from './calendar.ts';
