// POST /webhooks/google/calendar: the one path Google calls. Parses Google's headers, hands them to
// receiveNotification, maps its answer. 400 {"detail"} on missing or malformed headers.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Ctx } from '../context/index.ts';
import { parseNotificationHeaders } from './notification-headers.ts';
import { receiveNotification } from './receive-notification.ts';

export const WEBHOOK_PATH = '/webhooks/google/calendar';
const WEBHOOK_MAX_BODY = 1024 * 1024;

export function webhookRoutes(ctx: Ctx): Hono {
  const app = new Hono();
  // Google's pushes carry no body of consequence. The limit reads only Content-Length when there is
  // one; a body streamed without it is counted as it comes, never parsed.
  app.post(WEBHOOK_PATH, bodyLimit({ maxSize: WEBHOOK_MAX_BODY, onError: (c) => c.json({ detail: 'Request body too large' }, 413) }), async (c) => {
    const parsed = parseNotificationHeaders(c.req.raw.headers);
    if (!parsed.ok) {
      ctx.metrics.notifications.inc({ state: 'invalid', outcome: 'bad_request' });
      return c.json({ detail: parsed.detail }, 400);
    }
    const answer = await receiveNotification(ctx, parsed.value);
    if (answer.status === 204) return c.body(null, 204);
    return c.json({ detail: answer.detail }, answer.status);
  });
  return app;
}
