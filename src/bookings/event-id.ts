// The Google event id of a booking, derived from the booking id so that every attempt to insert
// the event (a retry after a timeout, the safety-net job after a crash) names the same event and
// Google answers 409 duplicate instead of creating a second one.

/**
 * Event ids are base32hex ("lowercase letters a-v and digits 0-9"), 5 to 1024 characters
 * (Calendar API, Event.id). A UUID's hex digits are a subset of base32hex, so "bk" + its 32 hex
 * digits is a valid, readable id.
 */
export function eventIdForBooking(bookingId: string): string {
  return `bk${bookingId.replaceAll('-', '').toLowerCase()}`;
}

const BOOKING_EVENT_ID = /^bk[0-9a-f]{32}$/;

/** Cheap filter for change sets: only ids of this shape can belong to a booking. */
export function isBookingEventId(googleEventId: string): boolean {
  return BOOKING_EVENT_ID.test(googleEventId);
}
