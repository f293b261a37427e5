// An append-only log of (sequence, key) pairs, ordered by sequence. Lists page through it by sequence, so a
// page costs O(page + superseded entries) and a sync token ("everything after sequence N") is a binary search.
// Entries whose key changed again later are stale; they are skipped when read and compacted away once they
// make up half the log, which keeps the log O(live keys).

export interface LogEntry<K> {
  seq: number;
  key: K;
}

export class ChangeLog<K> {
  private entries: LogEntry<K>[] = [];

  append(seq: number, key: K): void {
    this.entries.push({ seq, key });
  }

  get length(): number {
    return this.entries.length;
  }

  /** Index of the first entry with seq >= `seq`. */
  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entries with from <= seq <= upper, in order. */
  *range(from: number, upper: number): Generator<LogEntry<K>> {
    const arr = this.entries; // compaction swaps the array; a running read keeps its own
    for (let i = this.lowerBound(from); i < arr.length; i++) {
      const e = arr[i]!;
      if (e.seq > upper) return;
      yield e;
    }
  }

  /** Drops stale entries when they outnumber live ones. */
  maybeCompact(liveCount: number, isCurrent: (e: LogEntry<K>) => boolean): void {
    if (this.entries.length <= 2 * liveCount + 64) return;
    this.entries = this.entries.filter(isCurrent);
  }
}
