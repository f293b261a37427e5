// Re-sealing: every subscription secret under the current ENCRYPTION_KEY and in the current format
// (v2, bound to `subscriptions.secret_enc:<id>`), while the previous key (ENCRYPTION_KEY_PREVIOUS) is
// still configured to read the old ones. `legacyOnly` (the boot's step) touches only v1 values and
// finds them with one query when none is left.
import { and, asc, eq, gt, like } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { decrypt, encrypt, isCurrentSeal } from '../crypto/index.ts';
import { subscriptions } from '../../schema/fanout.ts';

export interface RotateKeyResult {
  module: 'fanout';
  reencrypted: number;
  current: number;
  /** Secrets that do not open (unknown key, or not sealed for their row): left as they are. */
  unreadable: number;
}

export async function rotateKey(ctx: Ctx, opts: { legacyOnly?: boolean } = {}): Promise<RotateKeyResult> {
  const result: RotateKeyResult = { module: 'fanout', reencrypted: 0, current: 0, unreadable: 0 };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await ctx.db
      .select({ id: subscriptions.id, secretEnc: subscriptions.secretEnc })
      .from(subscriptions)
      .where(and(gt(subscriptions.id, after), opts.legacyOnly ? like(subscriptions.secretEnc, 'v1.%') : undefined))
      .orderBy(asc(subscriptions.id))
      .limit(200);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (isCurrentSeal(ctx.keyring, row.secretEnc)) {
        result.current++;
        continue;
      }
      const place = `subscriptions.secret_enc:${row.id}`;
      let next: string;
      try {
        next = encrypt(ctx.keyring, decrypt(ctx.keyring, row.secretEnc, place), place);
      } catch (err) {
        result.unreadable++;
        ctx.log.warn({ subscriptionId: row.id, err: (err as Error).message }, 'fanout: subscription secret does not open; left as it is');
        continue;
      }
      // Compare-and-set: a secret re-sealed meanwhile (another process) is left alone.
      await ctx.db.update(subscriptions).set({ secretEnc: next }).where(and(eq(subscriptions.id, row.id), eq(subscriptions.secretEnc, row.secretEnc)));
      result.reencrypted++;
    }
    after = rows[rows.length - 1]!.id;
  }
  if (!opts.legacyOnly || result.reencrypted + result.unreadable > 0) ctx.log.info(result, 'fanout: subscription secrets re-sealed under the current key');
  return result;
}
