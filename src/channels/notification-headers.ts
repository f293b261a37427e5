// Google's push notification headers (push guide, "Notification message"): ID, resource ID and
// state are required; the message number is an integer ("always 1 for sync messages", then rising
// but not sequential); token, expiration and resource URI optional. No body.
import { z } from 'zod';

/** Google's own constraint on channel ids: [A-Za-z0-9\-_+/=], at most 64 characters. */
const CHANNEL_ID = /^[A-Za-z0-9\-_+/=]{1,64}$/;

export const NotificationHeaders = z.object({
  channelId: z.string().regex(CHANNEL_ID),
  resourceId: z.string().min(1).max(256),
  // `update` is not Google's, but some senders use it: it counts as `exists`. Google's deletions
  // are `exists` too; `not_exists` is listed in the header table.
  resourceState: z.enum(['sync', 'exists', 'not_exists', 'update']),
  // Bounded so the number stays an exact integer in JavaScript and in a bigint column.
  messageNumber: z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .optional(),
  channelToken: z.string().max(256).optional(),
  channelExpiration: z.string().max(128).optional(),
  resourceUri: z.string().max(2048).optional(),
});
export type NotificationHeaders = z.infer<typeof NotificationHeaders>;

const HEADER_NAMES: Record<keyof NotificationHeaders, string> = {
  channelId: 'X-Goog-Channel-ID',
  resourceId: 'X-Goog-Resource-ID',
  resourceState: 'X-Goog-Resource-State',
  messageNumber: 'X-Goog-Message-Number',
  channelToken: 'X-Goog-Channel-Token',
  channelExpiration: 'X-Goog-Channel-Expiration',
  resourceUri: 'X-Goog-Resource-URI',
};

export function parseNotificationHeaders(h: Headers): { ok: true; value: NotificationHeaders } | { ok: false; detail: string } {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(HEADER_NAMES)) {
    const v = h.get(name);
    if (v !== null) raw[key] = v;
  }
  const r = NotificationHeaders.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const name = HEADER_NAMES[issue.path[0] as keyof NotificationHeaders] ?? String(issue.path[0]);
  return { ok: false, detail: raw[issue.path[0] as string] === undefined ? `Missing ${name} header` : `Malformed ${name} header` };
}
