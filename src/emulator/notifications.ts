// Push notification channels and their delivery, after the push guide
// (https://developers.google.com/workspace/calendar/api/guides/push):
// - a `sync` message numbered 1 right after the channel is created ("it's possible to receive the sync
//   message even before you receive the watch method response"), then an `exists` message after changes;
// - message numbers rise per channel "but they're not sequential", so ours skip a little on purpose;
// - headers X-Goog-Channel-ID/-Token/-Expiration, X-Goog-Resource-ID/-URI/-State, X-Goog-Message-Number,
//   user agent APIs-Google, no body;
// - 500/502/503/504 answers are retried with exponential backoff, "every other return status code is
//   considered to be a message failure" (not retried); Google documents no schedule and no count, so
//   the retries are a setting (notificationRetries; 0 = push mode "no retries");
// - push modes (config.ts PushModes) make it as unreliable as "not 100% reliable" allows: the first
//   change of each channel unannounced (dropFirstPush), changes listable only some time after their
//   push (listableDelayMs, state.ts);
// - nothing is sent after the channel expires or is stopped.
// Deliveries run in the background, in order per channel. An `exists` message still waiting in a channel's
// queue absorbs later changes (the receiver re-lists anyway), which keeps bulk edits from flooding receivers.

import type { RuntimeConfig } from './config.ts';
import type { Faults } from './faults.ts';
import { rfc1123 } from './time.ts';

export const PUSH_USER_AGENT = 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)';
const SUCCESS: ReadonlySet<number> = new Set([200, 201, 202, 204, 102]);
const RETRYABLE: ReadonlySet<number> = new Set([500, 502, 503, 504]);
const RECORD_LIMIT = 10_000;

export type ResourceState = 'sync' | 'exists';

export interface Channel {
  id: string;
  resourceId: string;
  resourceUri: string;
  /** "events:<calendarId>" or "calendarList:<email>". */
  resourceKey: string;
  address: string;
  token: string | undefined;
  expiration: number;
  email: string;
  clientId: string;
  createdAt: string;
  state: 'active' | 'stopped' | 'expired';
  lastMessageNumber: number;
  queue: NotificationRecord[];
  pumping: boolean;
  pendingExists: boolean;
  /**
   * events.watch's `eventTypes`: only changes to events of these types are announced ("eventTypes can
   * be specified in an Events:watch call to subscribe to updates on events of specific types. If no
   * type is specified, the request will result in subscribing to all event types", Event types guide).
   */
  eventTypes?: ReadonlySet<string>;
  /** `exists` messages queued so far (push mode dropFirstPush drops the first). */
  existsCount: number;
}

export interface NotificationRecord {
  id: number;
  channelId: string;
  resourceId: string;
  resourceKey: string;
  resourceState: ResourceState;
  messageNumber: number;
  address: string;
  duplicate: boolean;
  queuedAt: string;
  /** pending -> delivered | failed | dropped (fault injection, push mode dropFirstPush) | cancelled (channel stopped or expired first). */
  outcome: 'pending' | 'delivered' | 'failed' | 'dropped' | 'cancelled';
  /** The receiver's last HTTP status, null if it never answered. */
  status: number | null;
  attempts: number;
  error?: string;
  deliveredAt?: string;
}

export class Notifier {
  private readonly channels = new Map<string, Channel>();
  private readonly byResource = new Map<string, Set<Channel>>();
  private records: NotificationRecord[] = [];
  private nextRecordId = 1;
  private readonly shutdown = new AbortController();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly config: RuntimeConfig, private readonly faults: Faults) {}

  get(id: string): Channel | undefined {
    return this.channels.get(id);
  }

  /** Registers an active channel and queues its sync message. */
  add(ch: Channel): void {
    this.channels.set(ch.id, ch);
    let set = this.byResource.get(ch.resourceKey);
    if (!set) this.byResource.set(ch.resourceKey, (set = new Set()));
    set.add(ch);
    this.enqueue(ch, 'sync');
  }

  /** Something changed in the resource: queue an `exists` message on each live channel watching it. */
  notify(resourceKey: string, eventType?: string): void {
    const set = this.byResource.get(resourceKey);
    if (!set) return;
    for (const ch of set) {
      if (!this.isLive(ch)) continue;
      if (ch.eventTypes && eventType !== undefined && !ch.eventTypes.has(eventType)) continue;
      if (ch.pendingExists) continue;
      this.enqueue(ch, 'exists');
    }
  }

  /** channels.stop. */
  stop(ch: Channel): void {
    ch.state = 'stopped';
    this.detach(ch);
  }

  list(): Channel[] {
    for (const ch of this.channels.values()) this.isLive(ch);
    return [...this.channels.values()];
  }

  notifications(): NotificationRecord[] {
    return this.records;
  }

  /** Stops all deliveries for good (emulator stop or reset). */
  close(): void {
    this.shutdown.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ch of this.channels.values()) if (ch.state === 'active') ch.state = 'stopped';
  }

  private detach(ch: Channel): void {
    this.byResource.get(ch.resourceKey)?.delete(ch);
    for (const r of ch.queue) r.outcome = 'cancelled';
    ch.queue = [];
    ch.pendingExists = false;
  }

  private isLive(ch: Channel): boolean {
    if (ch.state === 'active' && Date.now() >= ch.expiration) {
      ch.state = 'expired';
      this.detach(ch);
    }
    return ch.state === 'active';
  }

  private enqueue(ch: Channel, state: ResourceState): void {
    // "Value is always 1 for sync messages"; later numbers rise by a varying step.
    const messageNumber = state === 'sync' ? 1 : ch.lastMessageNumber + 1 + Math.floor(Math.random() * 3);
    ch.lastMessageNumber = messageNumber;
    const record = this.record(ch, state, messageNumber, false);
    // Push mode dropFirstPush: the first change of each channel is never announced ("Notifications are
    // not 100% reliable", push guide, Special considerations). Its message number is still used up.
    const first = state === 'exists' && ch.existsCount++ === 0;
    if ((first && this.config.push.dropFirstPush) || Math.random() < this.faults.dropNotifications) {
      record.outcome = 'dropped';
      return;
    }
    ch.queue.push(record);
    if (state === 'exists') ch.pendingExists = true;
    if (Math.random() < this.faults.duplicateNotifications) ch.queue.push(this.record(ch, state, messageNumber, true));
    void this.pump(ch);
  }

  private record(ch: Channel, state: ResourceState, messageNumber: number, duplicate: boolean): NotificationRecord {
    const r: NotificationRecord = {
      id: this.nextRecordId++, channelId: ch.id, resourceId: ch.resourceId, resourceKey: ch.resourceKey, resourceState: state,
      messageNumber, address: ch.address, duplicate, queuedAt: new Date().toISOString(), outcome: 'pending', status: null, attempts: 0,
    };
    this.records.push(r);
    if (this.records.length > RECORD_LIMIT * 1.5) this.records = this.records.slice(-RECORD_LIMIT);
    return r;
  }

  private async pump(ch: Channel): Promise<void> {
    if (ch.pumping) return;
    ch.pumping = true;
    try {
      // Yield first so that the API call that caused the message answers before delivery starts.
      await Promise.resolve();
      for (let r = ch.queue.shift(); r; r = ch.queue.shift()) {
        if (r.resourceState === 'exists' && !r.duplicate) ch.pendingExists = false;
        await this.deliver(ch, r);
      }
    } finally {
      ch.pumping = false;
    }
  }

  private async deliver(ch: Channel, r: NotificationRecord): Promise<void> {
    for (;;) {
      if (!this.isLive(ch) || this.shutdown.signal.aborted) {
        r.outcome = 'cancelled';
        return;
      }
      r.attempts++;
      try {
        const res = await fetch(ch.address, {
          method: 'POST',
          headers: this.headers(ch, r),
          body: new Uint8Array(0),
          redirect: 'manual',
          signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.config.notificationTimeoutMs)]),
        });
        r.status = res.status;
        await res.arrayBuffer().catch(() => undefined);
        if (SUCCESS.has(res.status)) {
          r.outcome = 'delivered';
          r.deliveredAt = new Date().toISOString();
          return;
        }
        if (!RETRYABLE.has(res.status) || r.attempts > this.config.notificationRetries) {
          r.outcome = 'failed';
          return;
        }
      } catch (e) {
        r.error = (e as Error).message;
        r.outcome = 'failed';
        return;
      }
      await this.sleep(this.config.notificationRetryBaseMs * 2 ** (r.attempts - 1));
    }
  }

  private headers(ch: Channel, r: NotificationRecord): Record<string, string> {
    const h: Record<string, string> = {
      'X-Goog-Channel-ID': ch.id,
      'X-Goog-Channel-Expiration': rfc1123(ch.expiration),
      'X-Goog-Resource-ID': ch.resourceId,
      'X-Goog-Resource-URI': ch.resourceUri,
      'X-Goog-Resource-State': r.resourceState,
      'X-Goog-Message-Number': String(r.messageNumber),
      'User-Agent': PUSH_USER_AGENT,
      Accept: '*/*',
      'Content-Length': '0',
    };
    if (ch.token !== undefined) h['X-Goog-Channel-Token'] = ch.token;
    return h;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
      this.shutdown.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}
