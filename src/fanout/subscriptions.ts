// The verbs on subscriptions: create (the secret is returned once and stored sealed), list,
// delete, test (one signed ping, answered synchronously), enable again after a disable.
import { and, desc, eq } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { encrypt } from '../crypto/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { findOwnerByExternalId } from '../links/index.ts';
import { deliveries, subscriptions, type Subscription } from '../../schema/fanout.ts';
import { parseSubscriberUrl, resolveTarget } from './address-policy.ts';
import { newWebhookSecret } from './sign.ts';
import { monotonicUuid } from './ids.ts';
import { sendOnce, type AttemptVerdict } from './deliver.ts';
import { PING_TYPE, type DeliveryBody, type Payload, type WebhookType } from './types.ts';

export interface SubscriptionView {
  id: string;
  url: string;
  externalOwnerId: string | null;
  calendarId: string | null;
  /** null: every type. */
  types: string[] | null;
  payload: Payload;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  disabledAt: Date | null;
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastError: string | null;
  createdAt: Date;
}

export function subscriptionView(s: Subscription): SubscriptionView {
  return {
    id: s.id,
    url: s.url,
    externalOwnerId: s.externalOwnerId,
    calendarId: s.calendarId,
    types: s.types,
    payload: s.payload === 'thin' ? 'thin' : 'full',
    status: s.status === 'disabled' ? 'disabled' : 'active',
    disabledReason: s.disabledReason,
    disabledAt: s.disabledAt,
    failingSince: s.failingSince,
    lastSuccessAt: s.lastSuccessAt,
    lastFailureAt: s.lastFailureAt,
    lastError: s.lastError,
    createdAt: s.createdAt,
  };
}

export const MAX_URL_LENGTH = 2048;

/** Refuses what could never be delivered: not http(s), credentials, and (unless allowed) inside addresses. */
async function checkUrlAtCreate(ctx: Ctx, raw: string): Promise<string> {
  if (raw.length > MAX_URL_LENGTH) throw new AppError('VALIDATION', `url is longer than ${MAX_URL_LENGTH} characters`);
  const url = parseSubscriberUrl(raw);
  if (!ctx.config.fanout.allowPrivate) {
    try {
      await resolveTarget(url.toString(), { allowPrivate: false });
    } catch (err) {
      // Checked again at every delivery: DNS can change after today.
      if (isAppError(err)) throw new AppError('VALIDATION', `url refused: ${err.message}`);
      throw err;
    }
  }
  return url.toString();
}

export async function createSubscription(
  ctx: Ctx,
  input: { url: string; externalOwnerId?: string; calendarId?: string; types?: WebhookType[]; payload?: Payload },
): Promise<{ id: string; secret: string }> {
  const url = await checkUrlAtCreate(ctx, input.url);
  let ownerId: string | null = null;
  const calendarId = input.calendarId ?? null;
  if (input.externalOwnerId !== undefined) {
    const owner = await findOwnerByExternalId(ctx, input.externalOwnerId);
    if (!owner || owner.status === 'unlinked') throw new AppError('NOT_FOUND', `no linked owner ${input.externalOwnerId}`);
    ownerId = owner.id;
    // 'primary' (Google's alias) is kept as is and matched against the owner's primary calendar
    // when changes come: right after linking, the calendar list may not be synced yet.
  } else if (calendarId === 'primary') {
    throw new AppError('VALIDATION', "calendarId 'primary' needs externalOwnerId");
  }
  const types = input.types && input.types.length > 0 ? [...new Set(input.types)] : null;
  const secret = newWebhookSecret();
  const id = crypto.randomUUID(); // before the insert: the sealed secret is bound to its row
  const [row] = await ctx.db
    .insert(subscriptions)
    .values({
      id,
      url,
      ownerId,
      externalOwnerId: input.externalOwnerId ?? null,
      calendarId,
      types,
      payload: input.payload ?? 'full',
      secretEnc: encrypt(ctx.keyring, secret, `subscriptions.secret_enc:${id}`),
    })
    .returning({ id: subscriptions.id });
  ctx.log.info({ subscriptionId: row!.id, ownerId, calendarId, types }, 'subscription created');
  return { id: row!.id, secret };
}

/** Newest first; every one unless `limit` (and `offset`) page them. */
export async function listSubscriptions(
  ctx: Ctx,
  input: { externalOwnerId?: string; status?: 'active' | 'disabled'; limit?: number; offset?: number } = {},
): Promise<SubscriptionView[]> {
  const q = ctx.db
    .select()
    .from(subscriptions)
    .where(
      and(
        input.externalOwnerId !== undefined ? eq(subscriptions.externalOwnerId, input.externalOwnerId) : undefined,
        input.status ? eq(subscriptions.status, input.status) : undefined,
      ),
    )
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .$dynamic();
  const rows = input.limit === undefined ? await q : await q.limit(input.limit).offset(input.offset ?? 0);
  return rows.map(subscriptionView);
}

export async function getSubscription(ctx: Ctx, id: string): Promise<Subscription> {
  const [row] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.id, id));
  if (!row) throw new AppError('NOT_FOUND', `no subscription ${id}`);
  return row;
}

/** Deletes it with its deliveries; its queued jobs find nothing and finish. */
export async function deleteSubscription(ctx: Ctx, id: string): Promise<{ id: string; deleted: true }> {
  const rows = await ctx.db.delete(subscriptions).where(eq(subscriptions.id, id)).returning({ id: subscriptions.id });
  if (rows.length === 0) throw new AppError('NOT_FOUND', `no subscription ${id}`);
  ctx.log.info({ subscriptionId: id }, 'subscription deleted');
  return { id, deleted: true };
}

export interface PingResult {
  deliveryId: string;
  delivered: boolean;
  status: number | null;
  /** In our words, never the receiver's: see callerError. */
  error: string | null;
}

/**
 * What the caller of `subscriptions.test` is told about a failed ping: the receiver's status, or
 * our own reason when there was none (refused, timeout, connection error). Never what the receiver
 * said (its body, the Location of a redirect): a ping on demand must not be a way to read what an
 * address answers. The delivery row keeps the full error for the admin API.
 */
function callerError(verdict: AttemptVerdict): string | null {
  if (verdict.kind === 'delivered') return null;
  if (verdict.status === null) return verdict.error;
  return verdict.status >= 300 && verdict.status < 400 ? `HTTP ${verdict.status} (redirects are not followed)` : `HTTP ${verdict.status}`;
}

/**
 * One signed `ping`, sent now and answered with the receiver's status (no retries: the caller is
 * waiting). Recorded as a delivery, so a dead ping can be replayed like any other. Does not count
 * towards disabling the subscription.
 */
export async function testSubscription(ctx: Ctx, id: string): Promise<PingResult> {
  const sub = await getSubscription(ctx, id);
  const now = ctx.clock.now();
  const body: DeliveryBody = {
    type: PING_TYPE,
    ownerId: sub.ownerId,
    externalOwnerId: sub.externalOwnerId,
    calendarId: sub.calendarId,
    data: { subscriptionId: sub.id },
    occurredAt: now.toISOString(),
  };
  const delivery = { id: monotonicUuid(), body: JSON.stringify(body) };
  const verdict = await sendOnce(ctx, sub, delivery);
  const at = ctx.clock.now();
  const delivered = verdict.kind === 'delivered';
  const error = verdict.kind === 'delivered' ? null : verdict.error;
  await ctx.db.insert(deliveries).values({
    id: delivery.id,
    subscriptionId: sub.id,
    ownerId: sub.ownerId,
    type: PING_TYPE,
    calendarId: sub.calendarId,
    streamKey: `${sub.id}:ping`,
    body: delivery.body,
    status: delivered ? 'delivered' : 'dead',
    attempts: 1,
    lastStatus: verdict.status,
    lastError: error,
    lastAttemptAt: at,
    deliveredAt: delivered ? at : null,
    deadAt: delivered ? null : at,
    occurredAt: now,
  });
  return { deliveryId: delivery.id, delivered, status: verdict.status, error: callerError(verdict) };
}

/** After fixing the receiver: deliveries flow again (those that died while disabled can be replayed). */
export async function enableSubscription(ctx: Ctx, id: string): Promise<SubscriptionView> {
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .update(subscriptions)
    .set({ status: 'active', disabledReason: null, disabledAt: null, failingSince: null, updatedAt: now })
    .where(eq(subscriptions.id, id))
    .returning();
  if (!row) throw new AppError('NOT_FOUND', `no subscription ${id}`);
  return subscriptionView(row);
}
