// A feed cursor names one row by its place in the feed's order, (xid, seq): `<xid>.<seq>`, both
// decimal. Opaque to callers (documented as such); checked strictly so that a malformed one is a
// validation error, not a query error.
import { AppError } from '../errors/index.ts';

export interface Cursor {
  xid: string;
  seq: number;
}

export const encodeCursor = (c: Cursor) => `${c.xid}.${c.seq}`;

export function decodeCursor(raw: string): Cursor {
  const m = /^(\d{1,20})\.(\d{1,18})$/.exec(raw);
  if (!m || BigInt(m[1]!) > 2n ** 64n - 1n) throw new AppError('VALIDATION', 'after: not a cursor of changes.list (use a nextCursor or an item cursor as given)');
  return { xid: m[1]!, seq: Number(m[2]!) };
}
