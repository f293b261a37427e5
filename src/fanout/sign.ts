// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id` stays the same across
// retries and replays (receivers drop duplicates by it), `webhook-timestamp` is the attempt's time in
// seconds, `webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** `whsec_` + base64 of 32 random bytes: the format the standardwebhooks libraries accept. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function signedHeaders(secret: string, msgId: string, at: Date, body: string, userAgent: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': userAgent,
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, at, body),
  };
}
