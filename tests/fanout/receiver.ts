// Moved to tests/support/webhook-receiver.ts (the reliability suites use it too).
export * from '../support/webhook-receiver.ts';
