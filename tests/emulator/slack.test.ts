// Slack Web API conformance with @slack/web-api's WebClient pointed at the emulator (slackApiUrl).

import { beforeEach, describe, expect, test } from 'bun:test';
import { ErrorCode, LogLevel, WebClient, WebClientEvent, type WebAPIPlatformError } from '@slack/web-api';
import { control } from './helpers.ts';
import { emulatorSuite } from './setup.ts';

const suite = emulatorSuite();
let slack: WebClient;

// Small retry policy (node-retry options) so that the 429 test stays fast.
const retryConfig = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 };

beforeEach(() => {
  slack = new WebClient('xoxb-test', { slackApiUrl: `${suite.emu.url}slack/api/`, retryConfig, logLevel: LogLevel.ERROR });
});

async function platformError(fn: () => Promise<unknown>): Promise<WebAPIPlatformError> {
  try {
    await fn();
  } catch (e) {
    return e as WebAPIPlatformError;
  }
  throw new Error('expected a Slack error');
}

interface Posted { channel: string; text: string | null; blocks: unknown[] | null; ts: string }

describe('Slack', () => {
  test('chat.postMessage returns ts and the message is recorded', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Booked*' } }];
    const res = await slack.chat.postMessage({ channel: 'C123ABC456', text: 'Booked: Alice', blocks });
    expect(res.ok).toBe(true);
    expect(res.channel).toBe('C123ABC456');
    expect(res.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(res.message?.text).toBe('Booked: Alice');
    const second = await slack.chat.postMessage({ channel: 'C123ABC456', text: 'again' });
    expect(Number(second.ts)).toBeGreaterThan(Number(res.ts));

    const { items } = await control<{ items: Posted[] }>(suite.emu, 'GET', 'slack/messages');
    expect(items.map((m) => [m.channel, m.text, m.ts])).toEqual([['C123ABC456', 'Booked: Alice', res.ts ?? ''], ['C123ABC456', 'again', second.ts ?? '']]);
    expect(items[0]?.blocks).toEqual(blocks);
  });

  test('errors are HTTP 200 {ok:false, error}: channel_not_found, no_text, not_authed', async () => {
    const noChannel = await platformError(() => slack.chat.postMessage({ channel: '', text: 'hi' }));
    expect(noChannel.code).toBe(ErrorCode.PlatformError);
    expect(noChannel.data.error).toBe('channel_not_found');
    const noText = await platformError(() => slack.chat.postMessage({ channel: 'C1' } as never));
    expect(noText.data.error).toBe('no_text');
    const anonymous = new WebClient(undefined, { slackApiUrl: `${suite.emu.url}slack/api/`, retryConfig, logLevel: LogLevel.ERROR });
    expect((await platformError(() => anonymous.auth.test())).data.error).toBe('not_authed');

    // A raw form post with the token as a parameter, as Slack also accepts.
    const raw = await fetch(`${suite.emu.url}slack/api/chat.postMessage`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'xoxb-test', channel: 'C1', text: 'form' }).toString(),
    });
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { ok: boolean }).ok).toBe(true);
  });

  test('a 429 with Retry-After is retried by WebClient, then succeeds', async () => {
    await control(suite.emu, 'POST', 'slack/faults', { status: 429, count: 1, retryAfter: 0 });
    let limited = 0;
    slack.on(WebClientEvent.RATE_LIMITED, () => {
      limited++;
    });
    const res = await slack.chat.postMessage({ channel: 'C1', text: 'after rate limit' });
    expect(res.ok).toBe(true);
    expect(limited).toBe(1);
    const log = await control<{ items: Array<{ path: string; status: number }> }>(suite.emu, 'GET', 'requests?path=/slack/api/chat.postMessage');
    expect(log.items.map((r) => r.status)).toEqual([429, 200]);
  });

  test('users.lookupByEmail and auth.test', async () => {
    await control(suite.emu, 'POST', 'slack/users', { email: 'Alice@Example.com', id: 'U012ALICE', name: 'alice' });
    const found = await slack.users.lookupByEmail({ email: 'alice@example.com' });
    expect(found.user?.id).toBe('U012ALICE');
    expect(found.user?.profile?.email).toBe('alice@example.com');
    expect((await platformError(() => slack.users.lookupByEmail({ email: 'nobody@example.com' }))).data.error).toBe('users_not_found');
    const me = await slack.auth.test();
    expect(me.ok).toBe(true);
    expect(me.team_id).toBeString();
  });
});
