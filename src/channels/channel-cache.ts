// An in-process LRU of the channel rows the webhook needs, keyed by channel id, so that most
// notifications cost no lookup at all. Entries are dropped when this process renews or stops a
// channel, and expire after a while so that another process's changes are seen too; a stale entry
// can never cause a sync of a dead channel, because the durable note re-checks the status in SQL.
import { MESSAGE_NUMBER_MAX_JUMP, type ChannelKind, type ChannelStatus } from './queries.ts';

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

interface Entry<V> {
  value: V;
  until: number;
}

/** An LRU with expiry: a Map in use order (re-inserted on every hit). */
class Lru<V> {
  readonly map = new Map<string, Entry<V>>();
  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  get(id: string): Entry<V> | undefined {
    const e = this.map.get(id);
    if (!e) return undefined;
    if (e.until < performance.now()) {
      this.map.delete(id);
      return undefined;
    }
    this.map.delete(id);
    this.map.set(id, e);
    return e;
  }

  set(id: string, value: V): void {
    this.map.delete(id);
    this.map.set(id, { value, until: performance.now() + this.ttlMs });
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }
}

/**
 * Known channels and known-unknown ids live in separate LRUs: a flood of random ids (anyone can
 * send them) fills only the negative one and never pushes a real channel out of the cache.
 */
export class ChannelCache {
  private readonly known: Lru<CachedChannel>;
  private readonly unknown: Lru<null>;

  constructor(capacity = 50_000, ttlMs = 5 * 60_000, negativeTtlMs = 30_000, negativeCapacity = 20_000) {
    this.known = new Lru(capacity, ttlMs);
    this.unknown = new Lru(negativeCapacity, negativeTtlMs);
  }

  /** undefined: not cached; null: known not to exist. */
  get(id: string): CachedChannel | null | undefined {
    const hit = this.known.get(id);
    if (hit) return hit.value;
    return this.unknown.get(id) ? null : undefined;
  }

  set(id: string, value: CachedChannel | null): void {
    if (value === null) {
      this.known.map.delete(id);
      this.unknown.set(id, null);
      return;
    }
    // A channel still being created changes soon: not worth caching.
    if (value.status === 'pending') return;
    this.unknown.map.delete(id);
    this.known.set(id, value);
  }

  /** The stored number rose to `n` (never lowers the cached bound; an implausible jump is ignored). */
  noteMessage(id: string, n: number): void {
    const e = this.known.map.get(id);
    if (e && n > e.value.lastMessageNumber && n - e.value.lastMessageNumber <= MESSAGE_NUMBER_MAX_JUMP) e.value.lastMessageNumber = n;
  }

  invalidate(id: string): void {
    this.known.map.delete(id);
    this.unknown.map.delete(id);
  }

  invalidateWhere(pred: (c: CachedChannel) => boolean): void {
    for (const [id, e] of this.known.map) if (pred(e.value)) this.known.map.delete(id);
  }

  get size(): number {
    return this.known.map.size + this.unknown.map.size;
  }

  /** Real channels cached (for tests: a flood of unknown ids leaves them be). */
  get knownSize(): number {
    return this.known.map.size;
  }
}
