// The version of the rules that turn stored sources into blocked times (blocked-times.ts:
// blockingOf, eventInterval, the series expansion; recurrence.ts). Bump it with any change to
// what counts as busy: at boot a new version starts one background rebuild of every owner's
// blocked times (availability.rebuild; progress in the admin API, `availabilityRebuilds`).
//
// A change to what is *kept* of a Google event (source-event.ts) is not covered: the rebuild
// re-derives from availability_sources, so such a change reaches stored events when they next
// change, or at once with `calwatch resync <owner>`.
export const RULES_VERSION = 1;
