// The Booking type (with BookingStatus and BookingConference) and the `bookings` connection (newest
// first, keyset-paged on the booking's sequence). No title: the admin API shows times and states, not what owners' events are about.
import { resolveCursorConnection } from '@pothos/plugin-relay';
import { builder } from '../../api/index.ts';
import { AppError } from '../../errors/index.ts';
import { adminListBookings } from '../read-bookings.ts';
import { bookingView, type BookingView } from '../view.ts';
import type { BookingStatus } from '../statuses.ts';

type AdminBooking = BookingView & { seq: number };

export const BookingStatusEnum = builder.enumType('BookingStatus', {
  values: {
    REQUESTED: { value: 'requested' },
    CONFIRMED: { value: 'confirmed' },
    DENIED: { value: 'denied' },
    DECLINED: { value: 'declined' },
    CANCELLED: { value: 'cancelled' },
    FAILED: { value: 'failed', description: 'Google did not take the event; the slot is free again' },
  } as const,
});

type Conference = NonNullable<BookingView['conference']>;
const BookingConferenceRef = builder.objectRef<Conference>('BookingConference').implement({
  description: 'The video conference asked for with a booking (its join link is not shown here: it admits to the meeting)',
  fields: (t) => ({
    type: t.exposeString('type', { description: 'meet' }),
    status: t.exposeString('status', { description: "Google's create request status: pending | success | failure" }),
    hasLink: t.boolean({ resolve: (c) => c.link !== null }),
  }),
});

export const BookingRef = builder.objectRef<AdminBooking>('Booking').implement({
  description: 'A booking of an owner’s time, inserted as a Google event with the bookee as attendee',
  fields: (t) => ({
    id: t.exposeID('id'),
    externalOwnerId: t.exposeString('externalOwnerId'),
    status: t.field({ type: BookingStatusEnum, resolve: (b) => b.status }),
    statusReason: t.exposeString('statusReason', { nullable: true }),
    calendarId: t.exposeString('calendarId', { description: "Google's calendar id" }),
    googleEventId: t.exposeString('googleEventId'),
    start: t.field({ type: 'DateTime', resolve: (b) => b.start }),
    end: t.field({ type: 'DateTime', resolve: (b) => b.end }),
    bookeeEmail: t.string({ resolve: (b) => b.bookee.email }),
    bookeeResponse: t.exposeString('bookeeResponse', { description: 'needsAction | accepted | tentative | declined' }),
    autoConfirmed: t.exposeBoolean('autoConfirmed'),
    conference: t.field({ type: BookingConferenceRef, nullable: true, resolve: (b) => b.conference }),
    googlePending: t.exposeBoolean('googlePending', { description: 'a write to Google is still owed (queued or retrying)' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    statusChangedAt: t.field({ type: 'DateTime', resolve: (b) => b.statusChangedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
  }),
});

const toCursor = (b: AdminBooking) => Buffer.from(`booking:${b.seq}`).toString('base64url');

function seqOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const m = Buffer.from(cursor, 'base64url').toString('utf8').match(/^booking:(\d{1,15})$/);
  if (!m) throw new AppError('VALIDATION', 'cursor is not one this API returned');
  return Number(m[1]);
}

builder.queryField('bookings', (t) =>
  t.connection(
    {
      type: BookingRef,
      description: 'Bookings, newest first',
      args: {
        externalOwnerId: t.arg.string({ required: false }),
        status: t.arg({ type: BookingStatusEnum, required: false }),
      },
      resolve: (_root, args, ctx) =>
        resolveCursorConnection<Promise<AdminBooking[]>>({ args, toCursor, defaultSize: 50, maxSize: 200 }, async ({ before, after, limit, inverted }) => {
          const rows = await adminListBookings(ctx.app, {
            externalOwnerId: args.externalOwnerId,
            status: (args.status as BookingStatus | null | undefined) ?? null,
            afterSeq: seqOf(after),
            beforeSeq: seqOf(before),
            limit,
            inverted,
          });
          return rows.map((b) => ({ ...bookingView(b), seq: b.seq }));
        }),
    },
    { name: 'BookingConnection' },
    { name: 'BookingEdge' },
  ),
);
