// The events of one calendar: current state by id plus a change log ordered by change sequence.
// Cancelled events stay (Google keeps them so incremental sync can report the deletion), recurring-instance
// exceptions are ordinary events indexed by (master, original start) so expansion can skip the occurrences
// they replace.

import { ChangeLog } from './change-log.ts';
import { suffixForOriginalStart } from './recurrence.ts';
import type { CalEvent } from './types.ts';

export interface StoredEvent {
  ev: CalEvent;
  seq: number;
}

export class EventStore {
  readonly byId = new Map<string, StoredEvent>();
  readonly log = new ChangeLog<string>();
  private readonly exceptions = new Map<string, Map<string, string>>();
  /** Bumped to invalidate every sync token issued for this calendar. */
  epoch = 0;
  lastChange = new Date().toISOString();

  get(id: string): StoredEvent | undefined {
    return this.byId.get(id);
  }

  /** Stores `ev` as the event's new state at sequence `seq`. Stored objects are never mutated afterwards. */
  put(ev: CalEvent, seq: number, calendarTz: string): void {
    this.byId.set(ev.id, { ev, seq });
    this.log.append(seq, ev.id);
    this.lastChange = ev.updated ?? new Date().toISOString();
    if (ev.recurringEventId) {
      const suffix = suffixForOriginalStart(ev.originalStartTime, calendarTz);
      if (suffix) {
        let m = this.exceptions.get(ev.recurringEventId);
        if (!m) this.exceptions.set(ev.recurringEventId, (m = new Map()));
        m.set(suffix, ev.id);
      }
    }
    this.log.maybeCompact(this.byId.size, (e) => this.byId.get(e.key)?.seq === e.seq);
  }

  /** Exceptions of a recurring master, by instance suffix. */
  exceptionsOf(masterId: string): ReadonlyMap<string, string> | undefined {
    return this.exceptions.get(masterId);
  }
}
