// The webhook writes only what it must. A notification for a resource whose sync request is
// already in the outbox, held back for a moment and held by this process, needs nothing new in the
// database: the sync that row leads to starts after it is drained, so after the notification, and
// covers its change. Such notifications are answered 204 without a write; their message numbers and
// counts are kept here and written by the next drain pass.
//
// A request row is held back (`not_before`, HOT_DEFER_MS) when a second notification finds it still
// in the outbox: the resource is busy, and its syncs are trailing ones anyway. While it is held back
// no drain pass of any process takes it, and this process trusts its hold for half that time,
// counted from before the note was sent: the row surely exists until the trust ends. Only the
// holder drains its rows early; another process takes them once the hold (HOLD_SECONDS) has run out,
// when the holder died. So a crash after such a 204 still ends with the change in the mirror: the
// row stays, and is drained by whoever comes next. A lone notification for an idle resource is
// written and handed over at once (the leading edge).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** How long a busy resource's request row waits in the outbox, absorbing notifications. */
export const HOT_DEFER_MS = 200;

export interface UnflushedMessage {
  id: string;
  n: number;
  count: number;
  at: Date;
}

export class SyncRequestHolds {
  /** This process, as written in channel_sync_requests.held_by. */
  readonly holder = `${hostname().slice(0, 40)}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Resource key -> performance.now() until which its row surely waits in the outbox. */
  private readonly held = new Map<string, number>();
  private unflushed = new Map<string, UnflushedMessage>();

  /**
   * After a note sent at `sentAt` (performance.now()) whose statement found the row held back for
   * another `deferredMs` (DB clock, at the statement's end, which is after `sentAt`). Trusted for
   * half of that, and never more than HOT_DEFER_MS / 2: the row surely still waits until then,
   * whatever the statement's own latency (a row already waiting keeps its time, so the remaining
   * wait may be short).
   */
  hold(resourceKey: string, sentAt: number, deferredMs: number): void {
    const until = sentAt + Math.min(HOT_DEFER_MS, deferredMs) / 2;
    if (until > (this.held.get(resourceKey) ?? 0)) this.held.set(resourceKey, until);
  }

  isHeld(resourceKey: string): boolean {
    const until = this.held.get(resourceKey);
    if (until === undefined) return false;
    if (performance.now() < until) return true;
    this.held.delete(resourceKey);
    return false;
  }

  /** A notification answered without a write: its number and count, for the drain to write. */
  absorb(channelId: string, n: number, at: Date): void {
    this.merge({ id: channelId, n, count: 1, at });
  }

  takeUnflushed(): UnflushedMessage[] {
    if (this.unflushed.size === 0) return [];
    const items = [...this.unflushed.values()];
    this.unflushed = new Map();
    return items;
  }

  /** A write that failed: its numbers go with the next one. */
  restore(items: UnflushedMessage[]): void {
    for (const it of items) this.merge(it);
  }

  get pendingFlush(): number {
    return this.unflushed.size;
  }

  private merge(it: UnflushedMessage): void {
    const cur = this.unflushed.get(it.id);
    if (!cur) this.unflushed.set(it.id, { ...it });
    else {
      cur.n = Math.max(cur.n, it.n);
      cur.count += it.count;
      if (it.at > cur.at) cur.at = it.at;
    }
  }
}
