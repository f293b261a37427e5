// An in-process LRU of the channel rows the webhook needs, keyed by channel id, so that most
// notifications cost no lookup at all. Entries are dropped when this process renews or stops a
// channel, and expire after a while so that another process's changes are seen too; a stale entry
// can never cause a sync of a dead channel, because the durable note re-checks the status in SQL.
import type { ChannelKind, ChannelStatus } from './queries.ts';

export interface CachedChannel {
  id: string;
  ownerId: string;
  calendarId: string | null;
  kind: ChannelKind;
  resourceId: string | null;
  tokenHash: string;
  status: ChannelStatus;
  /** A lower bound of the stored last message number (it only ever rises). */
  lastMessageNumber: number;
}

interface Entry {
  value: CachedChannel | null; // null: no such channel
  until: number;
}

export class ChannelCache {
  private readonly map = new Map<string, Entry>();

  constructor(
    private readonly capacity = 50_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly negativeTtlMs = 30_000,
  ) {}

  /** undefined: not cached; null: known not to exist. */
  get(id: string): CachedChannel | null | undefined {
    const e = this.map.get(id);
    if (!e) return undefined;
    if (e.until < performance.now()) {
      this.map.delete(id);
      return undefined;
    }
    // Move to the back: least recently used entries are evicted first.
    this.map.delete(id);
    this.map.set(id, e);
    return e.value;
  }

  set(id: string, value: CachedChannel | null): void {
    // A channel still being created changes soon: not worth caching.
    if (value?.status === 'pending') return;
    this.map.delete(id);
    this.map.set(id, { value, until: performance.now() + (value ? this.ttlMs : this.negativeTtlMs) });
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  /** The stored number rose to `n` (never lowers the cached bound). */
  noteMessage(id: string, n: number): void {
    const e = this.map.get(id);
    if (e?.value && n > e.value.lastMessageNumber) e.value.lastMessageNumber = n;
  }

  invalidate(id: string): void {
    this.map.delete(id);
  }

  invalidateWhere(pred: (c: CachedChannel) => boolean): void {
    for (const [id, e] of this.map) if (e.value && pred(e.value)) this.map.delete(id);
  }

  get size(): number {
    return this.map.size;
  }
}
