// A booking as the API shows it (tRPC has no transformer: times cross as ISO strings).
import type { Booking, BookingStatus } from './queries.ts';

export interface BookingView {
  id: string;
  externalOwnerId: string;
  status: BookingStatus;
  /** Why the booking is in its status (e.g. "declined by the bookee in Google Calendar"). */
  statusReason: string | null;
  googleEventId: string;
  calendarId: string;
  start: string;
  end: string;
  title: string;
  bookee: { email: string; name?: string };
  /** The bookee's answer in Google Calendar: needsAction | accepted | tentative | declined. */
  bookeeResponse: string;
  autoConfirmed: boolean;
  /**
   * The video conference asked for with the booking (null: none). `status` is Google's create request status
   * (pending until Google has created it: the link then arrives through the sync); `link` the Meet link.
   */
  conference: { type: 'meet'; status: 'pending' | 'success' | 'failure'; link: string | null } | null;
  /** Google has not yet been brought in line with this booking (a write is queued or retrying). */
  googlePending: boolean;
  lastError: string | null;
  statusChangedAt: string;
  createdAt: string;
  updatedAt: string;
}

export function bookingView(b: Booking): BookingView {
  return {
    id: b.id,
    externalOwnerId: b.externalOwnerId,
    status: b.status,
    statusReason: b.statusReason,
    googleEventId: b.googleEventId,
    calendarId: b.calendarId,
    start: b.startAt.toISOString(),
    end: b.endAt.toISOString(),
    title: b.title,
    bookee: { email: b.bookeeEmail, ...(b.bookeeName ? { name: b.bookeeName } : {}) },
    bookeeResponse: b.bookeeResponse,
    autoConfirmed: b.autoConfirmed,
    conference: b.conference
      ? { type: b.conference, status: (b.conferenceStatus as 'pending' | 'success' | 'failure' | null) ?? 'pending', link: b.conferenceLink }
      : null,
    googlePending: b.googleVersion > b.googleAppliedVersion,
    lastError: b.lastError,
    statusChangedAt: b.statusChangedAt.toISOString(),
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}
