// Users, calendars and each user's calendar list. A calendar has one owner and may appear in other users'
// lists (shared calendars). Calendar lists are per user and have their own change log so that
// calendarList.list can do incremental sync like events.list.

import { ChangeLog } from './change-log.ts';
import { EventStore } from './events-store.ts';
import { newEventEtag } from './ids.ts';
import type { AccessRole } from './types.ts';

export interface Calendar {
  id: string;
  summary: string;
  description?: string;
  timeZone: string;
  owner: string;
  /** Holiday-like calendars whose watch answers pushNotSupportedForRequestedResource. */
  pushNotSupported: boolean;
  etag: string;
  events: EventStore;
  /**
   * Events on this calendar that are attendees' copies of an event organised on another calendar:
   * event id -> the organizer's calendar id (calendar-service.ts keeps the copies in step).
   */
  copyOf: Map<string, string>;
}

export interface ListEntry {
  calendarId: string;
  accessRole: AccessRole;
  primary: boolean;
  deleted: boolean;
  /** Hidden from the user's list (a user-settable field of the entry, unlike the calendar's properties). */
  hidden: boolean;
  colorId: string;
  seq: number;
  etag: string;
}

export interface User {
  email: string;
  createdAt: string;
  list: Map<string, ListEntry>;
  listLog: ChangeLog<string>;
  listEpoch: number;
}

// Google's default calendar colour palette (calendar colors "1".."24"), a few of them.
const PALETTE: ReadonlyArray<readonly [string, string]> = [
  ['14', '#9fe1e7'], ['7', '#42d692'], ['8', '#16a765'], ['1', '#ac725e'], ['17', '#9a9cff'], ['23', '#cd74e6'],
];

export class Directory {
  readonly users = new Map<string, User>();
  readonly calendars = new Map<string, Calendar>();

  constructor(private readonly nextSeq: () => number) {}

  getUser(email: string): User | undefined {
    return this.users.get(email.toLowerCase());
  }

  /** Creates the user and their primary calendar (id = email), or returns the existing one. */
  ensureUser(emailRaw: string, timeZone = 'UTC'): User {
    const email = emailRaw.toLowerCase();
    const existing = this.users.get(email);
    if (existing) return existing;
    const user: User = { email, createdAt: new Date().toISOString(), list: new Map(), listLog: new ChangeLog(), listEpoch: 0 };
    this.users.set(email, user);
    this.createCalendar({ id: email, owner: email, summary: email, timeZone, primary: true });
    return user;
  }

  createCalendar(spec: { id: string; owner: string; summary: string; timeZone: string; description?: string; primary?: boolean; pushNotSupported?: boolean }): Calendar {
    const cal: Calendar = {
      id: spec.id,
      summary: spec.summary,
      timeZone: spec.timeZone,
      owner: spec.owner,
      pushNotSupported: spec.pushNotSupported ?? false,
      etag: newEventEtag(),
      events: new EventStore(),
      copyOf: new Map(),
    };
    if (spec.description !== undefined) cal.description = spec.description;
    this.calendars.set(cal.id, cal);
    this.setListEntry(spec.owner, cal.id, 'owner', spec.primary ?? false);
    return cal;
  }

  /**
   * Updates a calendar's properties. No calendar list records a change: "If only read-only fields such as
   * calendar properties or ACLs have changed, the entry won't be returned" by an incremental calendarList.list
   * (Params$Resource$Calendarlist$List.syncToken). A full list, calendars.get and events.list show the new
   * values. Returns the users to notify: none.
   */
  updateCalendar(cal: Calendar, patch: { summary?: string; timeZone?: string; description?: string; pushNotSupported?: boolean }): string[] {
    if (patch.summary !== undefined) cal.summary = patch.summary;
    if (patch.timeZone !== undefined) cal.timeZone = patch.timeZone;
    if (patch.description !== undefined) cal.description = patch.description;
    if (patch.pushNotSupported !== undefined) cal.pushNotSupported = patch.pushNotSupported;
    cal.etag = newEventEtag();
    return [];
  }

  /** Hides or shows a calendar in one user's list: a change of the entry itself, so incremental lists return it. */
  setHidden(email: string, calendarId: string, hidden: boolean): boolean {
    const user = this.getUser(email);
    const prev = user?.list.get(calendarId);
    if (!user || !prev || prev.deleted || prev.hidden === hidden) return false;
    this.writeEntry(user, { ...prev, hidden });
    return true;
  }

  /** Adds or updates `calendarId` in the user's list. Returns true when something changed. */
  setListEntry(email: string, calendarId: string, accessRole: AccessRole, primary = false): boolean {
    const user = this.getUser(email);
    if (!user) throw new Error(`unknown user ${email}`);
    const prev = user.list.get(calendarId);
    if (prev && !prev.deleted && prev.accessRole === accessRole && prev.primary === primary) return false;
    if (prev && !prev.deleted && prev.primary === primary) {
      // Only the access role (an ACL) changed: the entry shows it, but incremental lists do not return it
      // ("If only read-only fields such as calendar properties or ACLs have changed, the entry won't be returned").
      prev.accessRole = accessRole;
      return false;
    }
    const color = PALETTE[user.list.size % PALETTE.length] ?? PALETTE[0]!;
    this.writeEntry(user, {
      calendarId, accessRole, primary, deleted: false, hidden: false, colorId: prev?.colorId ?? color[0], seq: 0, etag: '',
    });
    return true;
  }

  removeListEntry(email: string, calendarId: string): boolean {
    const user = this.getUser(email);
    const prev = user?.list.get(calendarId);
    if (!user || !prev || prev.deleted) return false;
    this.writeEntry(user, { ...prev, deleted: true });
    return true;
  }

  /** Records a change of the calendar in every list that shows it; returns those users' emails. */
  touchEverywhere(calendarId: string): string[] {
    const touched: string[] = [];
    for (const user of this.users.values()) {
      const e = user.list.get(calendarId);
      if (e && !e.deleted) {
        this.writeEntry(user, { ...e });
        touched.push(user.email);
      }
    }
    return touched;
  }

  /** Deletes a calendar: it disappears from every list. Returns the affected users. */
  deleteCalendar(calendarId: string): string[] {
    const touched: string[] = [];
    for (const user of this.users.values()) if (this.removeListEntry(user.email, calendarId)) touched.push(user.email);
    this.calendars.delete(calendarId);
    return touched;
  }

  private writeEntry(user: User, entry: ListEntry): void {
    const seq = this.nextSeq();
    const stored: ListEntry = { ...entry, seq, etag: newEventEtag() };
    user.list.set(entry.calendarId, stored);
    user.listLog.append(seq, entry.calendarId);
    user.listLog.maybeCompact(user.list.size, (e) => user.list.get(e.key)?.seq === e.seq);
  }

  /** The caller's role on a calendar, or undefined when it is not in their list. */
  roleOf(email: string, calendarId: string): AccessRole | undefined {
    const e = this.getUser(email)?.list.get(calendarId);
    return e && !e.deleted ? e.accessRole : undefined;
  }
}

export const PALETTE_COLORS: ReadonlyMap<string, string> = new Map(PALETTE.map(([id, bg]) => [id, bg]));
