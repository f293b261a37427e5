// links' transactions dispatch owner events, whose handlers write other modules' rows while those
// modules' jobs write them too: Postgres may pick one of the two as a deadlock victim. Ours is
// rolled back whole (owner event included), so it is simply run again.
import type { Ctx } from '../context/index.ts';
import type { Transaction } from '../db/index.ts';

const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure

function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

export async function linksTransaction<T>(ctx: Ctx, fn: (tx: Transaction) => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.transaction(fn);
    } catch (err) {
      const state = sqlState(err);
      if (!state || !RETRYABLE.has(state) || attempt >= attempts) throw err;
      ctx.log.warn({ sqlState: state, attempt }, 'links transaction lost a deadlock; running it again');
      await Bun.sleep(20 * attempt + Math.random() * 30);
    }
  }
}
