// The input primitives every transport validates with: one rule each, so that the same bad value gets
// the same answer from every procedure (each router used to redeclare its own, and they differed).
// Routers and input schemas compose these; none redeclares one (tests/architecture/inputs.test.ts).
import { z } from 'zod';
import { isValidTimeZone } from '../time-zones/index.ts';

const notBlank = (s: string) => s.trim().length > 0;

/** The caller's id of one of its users: 1 to 255 characters, not blank, taken as given (docs/links.md, "Link events"). */
export const ExternalOwnerId = z.string().min(1).max(255).refine(notBlank, 'must not be blank');

/**
 * Google's calendar id (`primary`, an email address, `...@group.calendar.google.com`): 1 to 1024
 * characters (Google states no bound; ours, as for event ids).
 */
export const CalendarId = z.string().min(1).max(1024);

/**
 * The id of an event at Google, as Google returns it: 1 to 1024 characters. Ids a client picks are
 * base32hex, 5 to 1024 (Calendar API, Event.id), but instance ids (`<id>_20250325T130000Z`) and
 * imported events' (`_...`) are not, so an id read back is not held to that alphabet.
 */
export const GoogleEventId = z.string().min(1).max(1024);

/** Our row ids are UUIDs (RFC 9562: Postgres's v4, fan-out's v7); the message names what the id is of. */
const uuidOf = (what: string) => z.uuid({ message: `must be ${what} id (UUID)` });
export const BookingId = uuidOf('a booking');
export const SubscriptionId = uuidOf('a subscription');
export const OncallGroupId = uuidOf('an on-call group');
export const ShiftId = uuidOf('a shift');

/**
 * A point in time: an RFC 3339 date-time with seconds and an offset (`Z` or `+02:00`), as Google's
 * timeMin/timeMax require (Calendar API, Events: list); a local time without offset is ambiguous.
 */
export const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone offset (e.g. 2030-01-01T10:00:00Z)' });
/** The same rule, handed to the verb as a Date. */
export const InstantDate = Instant.transform((s) => new Date(s));

/** An IANA time zone name that Intl knows (`Europe/Paris`); the longest today has 32 characters. */
export const TimeZone = z.string().min(1).max(64).refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Paris');

/**
 * An email address, trimmed: at most 254 characters (RFC 5321 §4.5.3.1.3: a path is at most 256
 * with its angle brackets), `local@domain.tld` as zod's email check reads it.
 */
export const Email = z.string().trim().max(254).pipe(z.email({ message: 'must be a valid email address' }));

/** A URL as text, at most 2048 characters; the verb checks what it may point at (scheme, origin, address). */
export const Url = z.string().min(1).max(2048);

/** A page size, 1 to `max`; the verb's default applies when it is absent. */
export const PageLimit = (max: number) => z.number().int().min(1).max(max);
/** An opaque cursor a list procedure returned (`nextCursor`); the verb decodes and checks it. */
export const PageCursor = z.string().max(200);
