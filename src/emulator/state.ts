// Everything the emulator holds, in memory. `reset()` swaps in fresh stores; the generation id changes too,
// so sync and page tokens issued before the reset are refused.

import { Directory } from './calendars-store.ts';
import { Conferences } from './conferences.ts';
import { initialConfig, initialQuotaSettings, type EmulatorOptions, type RuntimeConfig } from './config.ts';
import { GoogleApiError, notFound } from './errors.ts';
import { Faults } from './faults.ts';
import { randomToken } from './ids.ts';
import { Notifier } from './notifications.ts';
import { OAuthStore } from './oauth-store.ts';
import { QuotaKeeper, type QuotaSettings } from './quota.ts';
import { RequestLog } from './request-log.ts';
import { SlackStore } from './slack.ts';

export class EmulatorState {
  gen = randomToken(6);
  seq = 0;
  config: RuntimeConfig;
  directory: Directory;
  oauth = new OAuthStore();
  faults = new Faults();
  notifier: Notifier;
  requests = new RequestLog();
  slack = new SlackStore();
  /** Conference creation (Meet links): settings and pending create requests. */
  conferences = new Conferences();
  /**
   * How far the clock that ages sync and page tokens runs ahead of the wall clock (POST /_emulator/token-clock):
   * tests make tokens old without waiting. Nothing else reads it.
   */
  tokenClockOffsetMs = 0;
  /** Per-minute (and optional daily) Calendar API quotas; unlimited unless configured. */
  quota: QuotaKeeper;
  private readonly initialQuota: QuotaSettings;

  constructor(private readonly options: EmulatorOptions) {
    this.config = initialConfig(options);
    // Read once: an invalid EMULATOR_*QUOTA* variable fails start-up, and reset returns to these settings.
    this.initialQuota = initialQuotaSettings(options);
    this.quota = new QuotaKeeper(this.initialQuota);
    this.directory = new Directory(() => this.nextSeq());
    this.notifier = new Notifier(this.config, this.faults);
  }

  /**
   * Changes not yet listable (push mode listableDelayMs), oldest first: each change's sequence and
   * when lists may show it. Its push goes out at once (calendar-service.ts notifies on commit).
   */
  private unlisted: Array<{ seq: number; at: number }> = [];

  /** The global change sequence: every change to any collection takes the next number. */
  nextSeq(): number {
    const seq = ++this.seq;
    const delay = this.config.push.listableDelayMs;
    if (delay > 0) this.unlisted.push({ seq, at: Date.now() + delay });
    return seq;
  }

  /**
   * The highest sequence lists may show: every change up to it is listable. A prefix, so that it
   * only ever grows and sync tokens issued at it stay valid; a change becomes listable no sooner than
   * listableDelayMs after it was made (and pushed). Google promises no consistency between a
   * notification and the list that follows it ("Notifications are not 100% reliable", push guide),
   * and changes have been observed to show up only after a later change
   * (github.com/KeepSoftwareSimple/compass-calendar/issues/1190, "Event notifications are delayed").
   */
  listableSeq(): number {
    const now = Date.now();
    while (this.unlisted.length > 0 && this.unlisted[0]!.at <= now) this.unlisted.shift();
    return this.unlisted.length > 0 ? this.unlisted[0]!.seq - 1 : this.seq;
  }

  /** Push mode refuseWatches: the error an events.watch on this calendar must answer, consuming one. */
  takeWatchRefusal(calendarId: string): GoogleApiError | undefined {
    const r = this.config.push.refuseWatches;
    if (!r || r.remaining <= 0 || (r.calendarId !== undefined && r.calendarId !== calendarId)) return undefined;
    r.remaining--;
    if (r.status === 404) return notFound();
    // Google's generic 403 body (errors guide format); the exact reason for a refused watch is UNVERIFIED.
    return new GoogleApiError(403, { domain: 'global', reason: 'forbidden', message: 'Forbidden' });
  }

  /** Now, on the clock that ages tokens. */
  tokenNow(): number {
    return Date.now() + this.tokenClockOffsetMs;
  }

  reset(): void {
    this.notifier.close();
    this.conferences.close();
    this.conferences = new Conferences();
    this.tokenClockOffsetMs = 0;
    this.gen = randomToken(6);
    // seq keeps rising across resets so that tokens can never alias a new state.
    this.config = initialConfig(this.options);
    this.unlisted = [];
    this.directory = new Directory(() => this.nextSeq());
    this.oauth = new OAuthStore();
    this.faults = new Faults();
    this.notifier = new Notifier(this.config, this.faults);
    this.requests = new RequestLog();
    this.slack = new SlackStore();
    this.quota = new QuotaKeeper(this.initialQuota);
  }

  close(): void {
    this.notifier.close();
    this.conferences.close();
  }
}
