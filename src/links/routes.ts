// Raw HTTP routes of links: the OAuth redirects for browsers and WebhookDB's POST /link-events.
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Ctx } from '../context/index.ts';
import { safeEqual } from '../crypto/index.ts';
import { authenticateLinkEvent } from './link-event-auth.ts';
import { HTTP_STATUS, isAppError } from '../errors/index.ts';
import { applyLinkEvent, parseWebhookDbLinkEvent } from './link-events.ts';
import { abandonOAuth, consumeTicket, finishOAuth, startOAuth } from './oauth.ts';

export const STATE_COOKIE = 'calwatch_oauth_state';
const COOKIE_PATH = '/oauth/google';

/** Only a ticket from `oauth.ticket`: who is linked was decided by the service that asked for it. */
const StartQuery = z.object({ ticket: z.string().min(1).max(256) });
const CallbackQuery = z.object({
  state: z.string().min(1).max(512).optional(),
  code: z.string().min(1).max(2048).optional(),
  error: z.string().regex(/^[\w.-]{1,64}$/).optional(),
});

const fail = (c: Context, err: unknown) => {
  if (isAppError(err)) return c.json({ detail: err.message, code: err.code }, HTTP_STATUS[err.code] as 400);
  throw err;
};
const invalid = (c: Context, issues: z.core.$ZodIssue[]) => c.json({ detail: 'invalid request', code: 'VALIDATION', issues }, 400);

export function linksRoutes(ctx: Ctx): Hono {
  const app = new Hono();

  app.get('/oauth/google/start', async (c) => {
    const q = StartQuery.safeParse(c.req.query());
    // No ticket, a bare externalOwnerId, anything else: nobody entitled sent this browser here.
    if (!q.success) return c.json({ detail: 'a valid OAuth ticket is required (ask oauth.ticket with the service token)', code: 'UNAUTHENTICATED' }, 401);
    try {
      const { url, state } = await startOAuth(ctx, await consumeTicket(ctx, q.data.ticket));
      setCookie(c, STATE_COOKIE, state, {
        httpOnly: true,
        secure: ctx.config.production,
        sameSite: 'Lax',
        path: COOKIE_PATH,
        maxAge: 600,
      });
      return c.redirect(url, 307);
    } catch (err) {
      return fail(c, err);
    }
  });

  app.get('/oauth/google/callback', async (c) => {
    const q = CallbackQuery.safeParse(c.req.query());
    if (!q.success) return invalid(c, q.error.issues);
    const { state, code, error } = q.data;
    const cookie = getCookie(c, STATE_COOKIE);
    // The cookie binds the flow to the browser that started it (CSRF / login CSRF).
    if (!state) return c.json({ detail: 'missing state parameter', code: 'VALIDATION' }, 400);
    if (!cookie) return c.json({ detail: 'missing OAuth state cookie: start again from /oauth/google/start', code: 'VALIDATION' }, 400);
    if (!safeEqual(cookie, state)) return c.json({ detail: 'OAuth state does not match this browser: start again', code: 'VALIDATION' }, 400);
    try {
      if (error || !code) {
        const spent = await abandonOAuth(ctx, state);
        deleteCookie(c, STATE_COOKIE, { path: COOKIE_PATH });
        const reason = error ?? 'missing_code';
        if (!spent.returnTo) return c.json({ detail: `Google did not grant access: ${reason}`, code: 'VALIDATION', error: reason }, 400);
        const back = new URL(spent.returnTo);
        back.searchParams.set('error', reason);
        return c.redirect(back.toString(), 302);
      }
      const done = await finishOAuth(ctx, { code, state });
      deleteCookie(c, STATE_COOKIE, { path: COOKIE_PATH });
      if (!done.returnTo) return c.json({ externalOwnerId: done.externalOwnerId, status: 'active' });
      return c.redirect(done.returnTo, 302);
    } catch (err) {
      // Another Google account than the owner's: back to the frontend, which says so; nothing changed.
      const returnTo = isAppError(err) ? (err.details?.returnTo as string | null | undefined) : undefined;
      if (isAppError(err) && err.details?.reason === 'account_mismatch' && returnTo) {
        deleteCookie(c, STATE_COOKIE, { path: COOKIE_PATH });
        const back = new URL(returnTo);
        back.searchParams.set('error', 'account_mismatch');
        return c.redirect(back.toString(), 302);
      }
      return fail(c, err);
    }
  });

  app.post('/link-events', async (c) => {
    // Read once, raw: a signature covers the exact bytes.
    const raw = await c.req.text().catch(() => undefined);
    if (raw === undefined) return c.json({ detail: 'unreadable body', code: 'VALIDATION' }, 400);
    const auth = authenticateLinkEvent(ctx, c.req.raw.headers, raw);
    if (!auth.ok) return c.json({ detail: auth.detail, code: 'UNAUTHENTICATED' }, 401);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return c.json({ detail: 'body must be a JSON object', code: 'VALIDATION' }, 400);
    }
    const ev = parseWebhookDbLinkEvent(body);
    if (!ev.success) return invalid(c, ev.issues);
    try {
      const r = await applyLinkEvent(ctx, ev.data);
      return c.json({ owner_id: r.ownerId, external_owner_id: ev.data.externalOwnerId, status: r.status });
    } catch (err) {
      return fail(c, err);
    }
  });

  return app;
}
