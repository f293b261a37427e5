// The emulator's HTTP surface: Google's paths at the root (OAuth, /calendar/v3), Slack under /slack/api and
// the control API under /_emulator.

import { Hono } from 'hono';
import { calendarApi } from './calendar-api.ts';
import { controlErrorResponse, controlRoutes, isControlError } from './control.ts';
import { GoogleApiError, notFound } from './errors.ts';
import { oauthRoutes } from './oauth.ts';
import { queryObject } from './request-log.ts';
import { slackRoutes } from './slack.ts';
import type { EmulatorState } from './state.ts';

type RootEnv = { Variables: { userEmail: string } };

export function createApp(state: EmulatorState): Hono<RootEnv> {
  const app = new Hono<RootEnv>();

  // Log every Google and Slack request (not control calls) with the user its token resolved to.
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    if (url.pathname.startsWith('/_emulator')) return next();
    await next();
    state.requests.add({
      method: c.req.method,
      path: url.pathname,
      query: queryObject(url),
      user: c.get('userEmail') ?? null,
      status: c.res.status,
    });
  });

  app.onError((err) => {
    if (err instanceof GoogleApiError) return err.toResponse();
    if (isControlError(err)) return controlErrorResponse(err);
    console.error('[emulator] unexpected error', err);
    return new GoogleApiError(500, { domain: 'global', reason: 'backendError', message: 'Backend Error' }).toResponse();
  });

  app.get('/', (c) => c.json({ name: 'calwatch Google Calendar + OAuth + Slack emulator', control: '/_emulator/' }));
  app.route('/_emulator', controlRoutes(state));
  app.route('/slack/api', slackRoutes(() => state.slack));
  app.route('/calendar/v3', calendarApi(state));
  app.route('/', oauthRoutes(state));
  app.notFound(() => notFound().toResponse());
  return app;
}
