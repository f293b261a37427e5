// Shared start-up of the fan-out suites: the emulator, the real service on its own database, a raw
// SQL handle, a local receiver, and helpers to link owners and to hand change sets to fan-out the
// way sync does (inside a transaction), before and besides the end-to-end path through sync.
import type postgres from 'postgres';
import type { Emulator } from '../../src/emulator/index.ts';
import type { ChangeSet, MirrorEvent } from '../../src/context/index.ts';
import { enqueueMessages } from '../../src/fanout/publish.ts';
import { messagesFromChangeSet } from '../../src/fanout/messages.ts';
import type { TestService } from '../support/service.ts';
import { startServiceWithEmulator } from '../support/service-with-emulator.ts';
import type { TestDatabase } from '../support/db.ts';
import { startReceiver, type Receiver } from './receiver.ts';

export interface FanoutHarness {
  emu: Emulator;
  t: TestService;
  sql: postgres.Sql;
  rx: Receiver;
  emuJson<T = any>(path: string, body?: unknown, method?: string): Promise<T>;
  /** Links an owner through links.event LINKED with an emulator grant. */
  linkOwner(externalOwnerId: string, email?: string): Promise<{ ownerId: string; email: string }>;
  /** subscriptions.create, registering the returned secret with the receiver for that path. */
  subscribe(path: string, input?: Record<string, unknown>): Promise<{ id: string; secret: string }>;
  /** Hands a change set to fan-out inside a transaction, like sync's dispatch does. */
  applyChanges(cs: ChangeSet): Promise<number>;
  deliveries(subscriptionId: string): Promise<Array<Record<string, any>>>;
  stop(): Promise<void>;
}

export async function startFanoutHarness(name: string, env: Record<string, string> = {}, database?: TestDatabase & { url: string }): Promise<FanoutHarness> {
  const pair = await startServiceWithEmulator({
    name,
    database,
    env: { FANOUT_RETRY_BASE_SECONDS: '0.25', FANOUT_TIMEOUT_MS: '1500', LOG_LEVEL: 'info', ...env },
  });
  const { emu, ctl, t, sql } = pair;
  const rx = startReceiver();
  return {
    emu,
    t,
    sql,
    rx,
    emuJson: ctl.json,
    async linkOwner(externalOwnerId, email = `${externalOwnerId}@example.com`) {
      return { ownerId: await pair.linkOwner(email, externalOwnerId), email };
    },
    async subscribe(path, input = {}) {
      // Event types only by default: linking an owner also makes sync announce its calendars.
      const r = await t.trpc<{ id: string; secret: string }>('subscriptions.create', { url: rx.url(path), types: EVENT_TYPES, ...input });
      if (r.status !== 200) throw new Error(`subscriptions.create: ${JSON.stringify(r.body)}`);
      rx.secret(path, r.body.result!.data.secret);
      return r.body.result!.data;
    },
    applyChanges: (cs) => t.service.ctx.db.transaction((tx) => enqueueMessages(tx, t.service.ctx, messagesFromChangeSet(cs))),
    deliveries: (subscriptionId) =>
      sql`select * from deliveries where subscription_id = ${subscriptionId} order by created_at, id`.then((r) => [...r]),
    async stop() {
      await rx.stop();
      await pair.stop();
    },
  };
}

export const EVENT_TYPES = ['event.created', 'event.updated', 'event.cancelled'];

let seq = 0;

export function mirrorEvent(owner: { ownerId: string; externalOwnerId: string }, calendarId: string, over: Partial<MirrorEvent> = {}): MirrorEvent {
  seq += 1;
  const start = new Date(Date.UTC(2030, 0, 1, 9) + seq * 3600_000);
  return {
    ownerId: owner.ownerId,
    externalOwnerId: owner.externalOwnerId,
    calendarRowId: '00000000-0000-4000-8000-000000000000',
    calendarId,
    calendarTimeZone: 'Europe/Paris',
    googleEventId: `ev${seq}`,
    status: 'confirmed',
    summary: `Event ${seq}`,
    startAt: start,
    endAt: new Date(start.getTime() + 1800_000),
    startDate: null,
    endDate: null,
    timeZone: 'Europe/Paris',
    allDay: false,
    transparency: 'opaque',
    eventType: 'default',
    recurrence: null,
    recurringEventId: null,
    originalStartTime: null,
    organizerEmail: 'boss@example.com',
    attendees: [{ email: 'boss@example.com', responseStatus: 'accepted', organizer: true }],
    updated: new Date(),
    etag: `"${seq}"`,
    raw: { id: `ev${seq}` },
    ...over,
  };
}

export function changeSet(
  owner: { ownerId: string; externalOwnerId: string },
  calendarId: string,
  changes: ChangeSet['changes'],
): ChangeSet {
  return {
    ownerId: owner.ownerId,
    externalOwnerId: owner.externalOwnerId,
    calendarRowId: '00000000-0000-4000-8000-000000000000',
    calendarId,
    calendarTimeZone: 'Europe/Paris',
    fullSync: false,
    syncedAt: new Date(),
    changes,
  };
}
