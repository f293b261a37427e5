// The start-up every emulator conformance suite shares: one emulator for the file, reset before
// each test (no test sees another's users, events, channels, faults or logs), then optionally the
// emulator's settings and a fresh user with a refresh-token-backed client. Register it at the top of
// a suite file; a file's own beforeEach hooks run after it.

import { afterAll, beforeAll, beforeEach } from 'bun:test';
import type { Emulator } from '../../src/emulator/index.ts';
import { control, newUser, start, type TestUser } from './helpers.ts';

export interface EmulatorSuite {
  emu: Emulator;
  /** With `user`: that user, created again after each reset (a test may replace it). */
  user: TestUser;
}

export function emulatorSuite(opts: { user?: string; config?: Record<string, unknown> } = {}): EmulatorSuite {
  const suite = {} as EmulatorSuite;
  beforeAll(async () => {
    suite.emu = await start();
  });
  afterAll(async () => {
    await suite.emu.stop();
  });
  beforeEach(async () => {
    await control(suite.emu, 'POST', 'reset');
    if (opts.config) await control(suite.emu, 'POST', 'config', opts.config);
    if (opts.user) suite.user = await newUser(suite.emu, opts.user);
  });
  return suite;
}
