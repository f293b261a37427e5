// Recurrence, read once for the whole service: the bounds on expanding a stranger's rule (guard.ts)
// and the one expansion availability (blocked times) and the sync (events.list) both use (expand.ts),
// so that availability.busy and events.list always agree about a series.
export { checkShape, Meter, metered, RECURRENCE_GUARD_LIMITS, startNear, type Guard, type GuardLimits } from './guard.ts';
export { expandRecurrence, RecurrenceError, RecurrenceLimitError, type SeriesClock } from './expand.ts';
