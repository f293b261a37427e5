// Identifier, etag and link formats, modelled on real Google responses (FACTS §2, §3, §4).

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** A Google-style event id: 26 base32hex characters, like "52uj3nelsca3bgar5ii0ua2vgn". */
export function newEventId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(26));
  let s = '';
  for (const b of bytes) s += BASE32HEX[b & 31];
  return s;
}

/**
 * Client-supplied event ids: "characters allowed in the ID are those used in base32hex encoding, i.e.
 * lowercase letters a-v and digits 0-9 ... the length of the ID must be between 5 and 1024 characters"
 * (Schema$Event.id). Recurring-instance ids add "_<time>", which is why "_" is accepted when targeting them.
 */
export function isValidClientEventId(id: string): boolean {
  return /^[a-v0-9]{5,1024}$/.test(id);
}

export function randomToken(bytes = 24): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url');
}

let lastMicros = 0;

/** Event etags are a quoted microsecond timestamp: "\"3485815948352798\"" (FACTS §3, observed). Strictly rising. */
export function newEventEtag(): string {
  const micros = Math.max(Date.now() * 1000, lastMicros + 1);
  lastMicros = micros;
  return `"${micros}"`;
}

/** Collection etags look like "\"p32nsfe61kqioo0o\"" (observed); derived from the change sequence. */
export function collectionEtag(seq: number): string {
  return `"p3${seq.toString(32).padStart(14, '0')}"`;
}

/**
 * resourceId is opaque, 27 base64url characters (observed "vLDjaX7kI9LbiqW3M-Op50Mf_kA") and stable per
 * watched resource, so it is a hash of the resource rather than random.
 */
export function resourceIdFor(key: string): string {
  const hasher = new Bun.CryptoHasher('sha1');
  hasher.update(key);
  return Buffer.from(hasher.digest()).toString('base64url');
}

/**
 * htmlLink: https://www.google.com/calendar/event?eid=<unpadded base64url("<eventId> <calendarId>")> where
 * "@gmail.com" shortens to "@m" and "@group.calendar.google.com" to "@g" (decoded from observed links).
 */
export function htmlLinkFor(eventId: string, calendarId: string): string {
  const cal = calendarId.replace(/@gmail\.com$/, '@m').replace(/@group\.calendar\.google\.com$/, '@g');
  return `https://www.google.com/calendar/event?eid=${Buffer.from(`${eventId} ${cal}`).toString('base64url')}`;
}
