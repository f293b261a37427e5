// The webhook's durable note, written in batches. Every notification that arrives while a write is
// in flight joins the next one, so under load one statement carries hundreds of notifications (the
// message numbers advanced and the sync requests noted in the outbox, atomically), and at rest a
// lone notification is written at once. A caller's promise settles only after the statement that
// carries its notification committed: never a 2xx without a durable note. The outbox is drained into
// sync's coalesced jobs right after (drain-sync-requests.ts).
import type { Ctx } from '../context/index.ts';
import type { ChannelCache, CachedChannel } from './channel-cache.ts';
import { confirmChannels, noteNotifications, channelsForWebhook } from './queries.ts';
import type { SyncRequestHolds } from './sync-request-holds.ts';

export type NoteState = 'sync' | 'exists';
export type NoteResult = 'accepted' | 'duplicate' | 'confirmed';

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** performance.now() at submission. */
  at: number;
}

export interface NoteRequest {
  channel: CachedChannel;
  state: NoteState;
  /** X-Goog-Message-Number; null when absent. */
  n: number | null;
  resourceId: string;
  at: Date;
}

export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

/** Collects items and hands them to `run` in batches: up to `maxInFlight` batches at a time. */
class Batcher<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private inFlight = 0;
  private scheduled = false;
  private expiry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly opts: { maxBatch: number; maxInFlight: number; timeoutMs: number },
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, at: performance.now() });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.opts.maxInFlight) this.expireLater();
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight) return;
    this.scheduled = true;
    // setImmediate: every request parsed in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /**
   * Items waiting for a slot that a dead database holds are refused once they have waited the
   * bound: it counts from arrival, not from the batch (during an outage a notification waited
   * 6-10 s for a slot: tests/reliability/database-down.test.ts). One timer for the whole queue.
   */
  private expireLater(): void {
    if (this.expiry || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.at + this.opts.timeoutMs - performance.now());
    this.expiry = setTimeout(() => {
      this.expiry = undefined;
      const now = performance.now();
      let n = 0;
      while (n < this.queue.length && now - this.queue[n]!.at >= this.opts.timeoutMs) n++;
      for (const p of this.queue.splice(0, n)) p.reject(new StoreUnavailable('database did not answer in time'));
      if (this.inFlight >= this.opts.maxInFlight) this.expireLater();
    }, wait);
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async execute(batch: Array<Pending<T, R>>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable('database did not answer in time')), this.opts.timeoutMs);
    });
    const work = this.run(batch.map((p) => p.item));
    try {
      const results = await Promise.race([work, timeout]);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err instanceof StoreUnavailable ? err : new StoreUnavailable(String((err as Error)?.message ?? err)));
      // The slot stays taken until the database really answers (or fails): no pile-up on a dead pool.
      await work.catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * How long a notification waits on the database before it is answered 503 (Google retries it with
 * backoff). A healthy database answers in milliseconds even under load; a dead one should not hold
 * Google's deliveries, and our connections, for long.
 */
export const WEBHOOK_DB_TIMEOUT_MS = 2000;

export interface WriterOptions {
  maxBatch?: number;
  maxInFlight?: number;
  timeoutMs?: number;
}

/** Looks channel rows up by id, many ids per query (cache misses of one event-loop turn). */
export function createChannelLoader(ctx: Ctx, cache: ChannelCache, opts: WriterOptions = {}) {
  const batcher = new Batcher<string, CachedChannel | null>(
    async (ids) => {
      const unique = [...new Set(ids)];
      const rows = await channelsForWebhook(ctx.db, unique);
      const byId = new Map(rows.map((r) => [r.id, r as CachedChannel]));
      for (const id of unique) cache.set(id, byId.get(id) ?? null);
      return ids.map((id) => byId.get(id) ?? null);
    },
    { maxBatch: opts.maxBatch ?? 500, maxInFlight: opts.maxInFlight ?? 2, timeoutMs: opts.timeoutMs ?? WEBHOOK_DB_TIMEOUT_MS },
  );
  return (id: string) => batcher.submit(id);
}

export function createNotificationWriter(ctx: Ctx, cache: ChannelCache, holds: SyncRequestHolds, requestDrain: (afterMs?: number) => void, opts: WriterOptions = {}) {
  const batcher = new Batcher<NoteRequest, NoteResult>((items) => writeBatch(ctx, cache, holds, requestDrain, items), {
    maxBatch: opts.maxBatch ?? 1000,
    maxInFlight: opts.maxInFlight ?? 4,
    timeoutMs: opts.timeoutMs ?? WEBHOOK_DB_TIMEOUT_MS,
  });
  return (req: NoteRequest) => batcher.submit(req);
}

async function writeBatch(ctx: Ctx, cache: ChannelCache, holds: SyncRequestHolds, requestDrain: (afterMs?: number) => void, items: NoteRequest[]): Promise<NoteResult[]> {
  // Per channel: the highest number of the batch (a message without number is always taken).
  const perChannel = new Map<string, { id: string; n: number | null; force: boolean; count: number; at: Date }>();
  const confirms: Array<{ id: string; resourceId: string; at: Date }> = [];
  const numbers = new Set<string>();
  for (const it of items) {
    if (it.state === 'sync') {
      confirms.push({ id: it.channel.id, resourceId: it.resourceId, at: it.at });
      continue;
    }
    // Counted once per distinct message: the same message delivered twice is one notification.
    const fresh = it.n === null || !numbers.has(`${it.channel.id}:${it.n}`);
    if (it.n !== null) numbers.add(`${it.channel.id}:${it.n}`);
    const cur = perChannel.get(it.channel.id);
    if (!cur) perChannel.set(it.channel.id, { id: it.channel.id, n: it.n, force: it.n === null, count: 1, at: it.at });
    else {
      if (fresh) cur.count++;
      if (it.n === null) cur.force = true;
      else cur.n = cur.n === null ? it.n : Math.max(cur.n, it.n);
      if (it.at > cur.at) cur.at = it.at;
    }
  }

  const accepted = new Map<string, number>();
  // Taken before the statement: a hold counts from a moment surely before it began.
  const sentAt = performance.now();
  // One statement each (atomic on its own): the note with its outbox rows, and the confirmations.
  const [noted] = await Promise.all([
    perChannel.size > 0 ? noteNotifications(ctx.db, [...perChannel.values()], holds.holder) : Promise.resolve([]),
    confirms.length > 0 ? confirmChannels(ctx.db, confirms) : Promise.resolve(),
  ]);
  for (const row of noted) {
    accepted.set(row.id, row.lastMessageNumber);
    if (row.held && row.deferredMs > 0) holds.hold(row.resourceKey, sentAt, row.deferredMs);
  }
  if (noted.length > 0) requestDrain(Math.max(0, ...noted.map((r) => r.deferredMs)));

  for (const [id, n] of accepted) cache.noteMessage(id, n);
  const seen = new Set<string>();
  return items.map((it) => {
    if (it.state === 'sync') return 'confirmed';
    if (accepted.has(it.channel.id)) {
      // The same message twice in one batch: the second is a duplicate.
      if (it.n === null) return 'accepted';
      const key = `${it.channel.id}:${it.n}`;
      if (seen.has(key)) return 'duplicate';
      seen.add(key);
      return 'accepted';
    }
    // Not taken: a duplicate, or the channel stopped meanwhile. Re-read it next time.
    cache.invalidate(it.channel.id);
    return 'duplicate';
  });
}
