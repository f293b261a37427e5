// Google Calendar v3 resource shapes as the emulator stores and serves them (Schema$Event and friends in the
// Calendar v3 discovery document). Unknown fields sent by clients are kept, hence the index signatures.

export interface EventDateTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface EventPerson {
  email?: string;
  displayName?: string;
  id?: string;
  self?: boolean;
}

export interface Attendee extends EventPerson {
  responseStatus?: string;
  organizer?: boolean;
  optional?: boolean;
  resource?: boolean;
  comment?: string;
  additionalGuests?: number;
  [k: string]: unknown;
}

export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';

export interface CalEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: EventStatus;
  htmlLink?: string;
  created?: string;
  updated?: string;
  summary?: string;
  description?: string;
  location?: string;
  creator?: EventPerson;
  organizer?: EventPerson;
  start?: EventDateTime;
  end?: EventDateTime;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventDateTime;
  iCalUID?: string;
  sequence?: number;
  attendees?: Attendee[];
  eventType?: string;
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  [k: string]: unknown;
}

export type AccessRole = 'owner' | 'writer' | 'reader' | 'freeBusyReader';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
