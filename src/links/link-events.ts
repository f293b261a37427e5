// The link events of the WebhookDB model, validated once here for both transports (tRPC links.event
// and POST /link-events), and dispatched to their verb.
import { z } from 'zod';
import { ExternalOwnerId } from '../api/index.ts';
import type { Ctx } from '../context/index.ts';
import { linkOwner, refreshOwnerToken, resyncOwner, unlinkOwner, type LinkResult } from './link-owner.ts';

const notBlank = (s: string) => s.trim().length > 0;
export const RefreshToken = z.string().min(1).max(2048).refine(notBlank, 'must not be blank');

export const LinkEventInput = z.discriminatedUnion('type', [
  // force: replace the grant even if it is for another Google account than the owner's.
  z.object({ type: z.literal('LINKED'), externalOwnerId: ExternalOwnerId, refreshToken: RefreshToken, force: z.boolean().optional() }),
  z.object({ type: z.literal('REFRESHED'), externalOwnerId: ExternalOwnerId, refreshToken: RefreshToken, force: z.boolean().optional() }),
  z.object({ type: z.literal('UNLINKED'), externalOwnerId: ExternalOwnerId, keepBlockedTimes: z.boolean().optional() }),
  // WebhookDB's docs use both names.
  z.object({ type: z.literal('UNLINK'), externalOwnerId: ExternalOwnerId, keepBlockedTimes: z.boolean().optional() }),
  z.object({ type: z.literal('RESYNC'), externalOwnerId: ExternalOwnerId }),
]);
export type LinkEvent = z.infer<typeof LinkEventInput>;

/** WebhookDB's body (`type`, `external_owner_id`, `refresh_token`), mapped onto LinkEventInput. */
export const WebhookDbLinkEvent = z
  .object({
    type: z.string().max(32),
    external_owner_id: z.unknown(),
    refresh_token: z.unknown().optional(),
    keep_blocked_times: z.unknown().optional(),
  })
  .transform((b) => ({
    type: b.type,
    externalOwnerId: b.external_owner_id,
    ...(b.refresh_token !== undefined ? { refreshToken: b.refresh_token } : {}),
    ...(b.keep_blocked_times !== undefined ? { keepBlockedTimes: b.keep_blocked_times } : {}),
  }))
  .pipe(LinkEventInput);

const SNAKE: Record<string, string> = { externalOwnerId: 'external_owner_id', refreshToken: 'refresh_token', keepBlockedTimes: 'keep_blocked_times' };

/** Parses WebhookDB's body; the issues name the fields as that body does (`external_owner_id`). */
export function parseWebhookDbLinkEvent(body: unknown): { success: true; data: LinkEvent } | { success: false; issues: z.core.$ZodIssue[] } {
  const r = WebhookDbLinkEvent.safeParse(body);
  if (r.success) return { success: true, data: r.data };
  return {
    success: false,
    issues: r.error.issues.map((i) => ({ ...i, path: i.path.map((p) => (typeof p === 'string' ? (SNAKE[p] ?? p) : p)) }) as z.core.$ZodIssue),
  };
}

export async function applyLinkEvent(ctx: Ctx, ev: LinkEvent): Promise<LinkResult> {
  switch (ev.type) {
    case 'LINKED':
      return linkOwner(ctx, { externalOwnerId: ev.externalOwnerId, refreshToken: ev.refreshToken, ...(ev.force ? { force: true } : {}) });
    case 'REFRESHED':
      return refreshOwnerToken(ctx, { externalOwnerId: ev.externalOwnerId, refreshToken: ev.refreshToken, ...(ev.force ? { force: true } : {}) });
    case 'UNLINKED':
    case 'UNLINK':
      return unlinkOwner(ctx, { externalOwnerId: ev.externalOwnerId, ...(ev.keepBlockedTimes !== undefined ? { keepBlockedTimes: ev.keepBlockedTimes } : {}) });
    case 'RESYNC':
      return resyncOwner(ctx, { externalOwnerId: ev.externalOwnerId });
  }
}
