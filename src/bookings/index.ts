// The `bookings` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { bookingsJobs } from './jobs.ts';
import { reactToChangeSet, reactToOwnerEvent } from './reactions.ts';
import './admin/index.ts';

export { bookingsRouter } from './router.ts';
export { requestBooking, type RequestBookingInput } from './request-booking.ts';
export { confirmBooking, denyBooking } from './decide-booking.ts';
export { rescheduleBooking, type RescheduleBookingInput } from './reschedule-booking.ts';
export { cancelBooking } from './cancel-booking.ts';
export { getBooking, listOwnerBookings } from './read-bookings.ts';
export { getBookingSettings, setBookingSettings } from './settings.ts';
export type { BookingView } from './view.ts';
export { reconcileJob } from './jobs.ts';

export const bookingsModule: CalwatchModule = {
  name: 'bookings',
  jobs: bookingsJobs,
  // Answers flowing back from Google (declines, acceptances, deletions, moves) arrive in the sync's
  // change sets; an unlinked owner's bookings go with the rest of their rows.
  reactions: { eventChanges: reactToChangeSet, ownerEvents: reactToOwnerEvent },
};
