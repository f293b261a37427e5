// bookings.get, bookings.list and the admin listing.
import type { Ctx } from '../context/index.ts';
import { AppError } from '../errors/index.ts';
import { bookingById, listBookings, listBookingsByStart, type Booking, type BookingStatus } from './queries.ts';
import { knownOwner } from './owner.ts';
import { bookingView, type BookingView } from './view.ts';

export async function getBooking(ctx: Ctx, input: { id: string }): Promise<BookingView> {
  const b = await bookingById(ctx.db, input.id);
  if (!b) throw new AppError('NOT_FOUND', `no booking ${input.id}`);
  return bookingView(b);
}

export interface ListBookingsInput {
  externalOwnerId: string;
  status?: BookingStatus;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** An owner's bookings overlapping [from, to), by start time, a page at a time. */
export async function listOwnerBookings(ctx: Ctx, input: ListBookingsInput): Promise<{ items: BookingView[]; nextCursor: string | null }> {
  const from = input.from ? new Date(input.from) : undefined;
  const to = input.to ? new Date(input.to) : undefined;
  if (from && to && to.getTime() <= from.getTime()) throw new AppError('VALIDATION', `to (${input.to}) must be after from (${input.from})`);
  const owner = await knownOwner(ctx, input.externalOwnerId);
  const limit = input.limit ?? 100;
  const rows = await listBookingsByStart(ctx.db, {
    ownerId: owner.id,
    status: input.status,
    from,
    to,
    after: input.cursor ? decodeListCursor(input.cursor) : undefined,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(bookingView),
    nextCursor: rows.length > limit && last ? encodeListCursor(last) : null,
  };
}

function encodeListCursor(b: Booking): string {
  return Buffer.from(JSON.stringify([b.startAt.toISOString(), b.seq])).toString('base64url');
}

function decodeListCursor(cursor: string): { startAt: Date; seq: number } {
  try {
    const [start, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, number];
    const startAt = new Date(start);
    if (Number.isNaN(startAt.getTime()) || !Number.isSafeInteger(seq)) throw new Error('bad cursor');
    return { startAt, seq };
  } catch {
    throw new AppError('VALIDATION', 'cursor is not one this API returned');
  }
}

/** The admin listing: newest first, keyset on the insertion sequence. */
export async function adminListBookings(
  ctx: Ctx,
  input: { externalOwnerId?: string | null; status?: BookingStatus | null; afterSeq?: number; beforeSeq?: number; limit: number; inverted: boolean },
): Promise<Booking[]> {
  let ownerId: string | undefined;
  if (input.externalOwnerId) {
    const owner = await knownOwner(ctx, input.externalOwnerId).catch(() => undefined);
    if (!owner) return [];
    ownerId = owner.id;
  }
  // Newest first: "after" a cursor means a smaller sequence number, "before" a larger one; when
  // paging backwards (last/before) the rows nearest the cursor come first and Pothos reverses them.
  return listBookings(ctx.db, {
    ownerId,
    status: input.status ?? undefined,
    beforeSeq: input.afterSeq,
    afterSeq: input.beforeSeq,
    limit: input.limit,
    order: input.inverted ? 'asc' : 'desc',
  });
}
