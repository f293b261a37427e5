// Delivery ids are UUIDv7 made strictly increasing within this process. pg-boss orders a
// key_strict_fifo key by (created_on, id), and created_on is the transaction's start time, so the
// jobs one sync transaction enqueues tie on created_on: their ids must keep the order of the changes.
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let seq = 0;

/** RFC 9562 UUIDv7 with a 12-bit counter in rand_a (method 1): monotonic even within one millisecond. */
export function monotonicUuid(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else {
    seq += 1;
    // The counter overflowed within one millisecond: borrow the next millisecond.
    if (seq > 0xfff) {
      lastMs += 1;
      seq = 0;
    }
  }
  const bytes = randomBytes(16);
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((seq >>> 8) & 0x0f);
  bytes[7] = seq & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
