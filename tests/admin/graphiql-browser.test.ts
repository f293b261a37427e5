// The admin opens /graphql in a real browser, pastes the admin header, runs a query through the
// GraphiQL editor and sees the answer: headless Debian Chromium driven by playwright-core.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startTestService, TEST_ADMIN_TOKEN, type TestService } from '../support/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dir, '..', 'artifacts');

let t: TestService;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  t = await startTestService({ name: 'admin-graphiql-browser' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
}, 30_000);

test('GraphiQL loads without a token, then runs a query with the admin header pasted in', async () => {
  const page = await browser.newPage();
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(t.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) external.push(r.url());
  });
  await page.goto(`${t.url}/graphql`);
  // GraphiQL opens with the example tabs; the last one asks about the queues.
  await page.getByText('ChannelsExpiringSoon', { exact: false }).first().waitFor({ timeout: 20_000 });
  await page.getByRole('tab', { name: 'Queues' }).click();
  await page.getByText('query Queues', { exact: false }).first().waitFor({ timeout: 10_000 });

  // Paste the admin header into the headers editor.
  await page.getByText('Headers', { exact: true }).first().click();
  const headers = page.locator('.graphiql-editor-tool .graphiql-editor').last();
  await headers.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }));

  const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST');
  await page.locator('.graphiql-execute-button').click();
  expect((await response).status()).toBe(200);
  const result = page.locator('.graphiql-response');
  await result.getByText('"queues"', { exact: false }).waitFor({ timeout: 10_000 });
  // Monaco renders spaces as non-breaking ones: compare on normalised whitespace.
  const text = (await result.innerText()).replace(/\s+/g, ' ');
  expect(text).toContain(`"database": "${t.service.ctx.runtime.dbKind}"`);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png'), fullPage: true });
  // Everything GraphiQL needs is served by calwatch itself.
  expect(external).toEqual([]);
}, 60_000);
