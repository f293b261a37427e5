// Key rotation: re-seals every subscription secret under the current ENCRYPTION_KEY while the
// previous key (ENCRYPTION_KEY_PREVIOUS) is still configured to read the old ones.
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { decrypt, encrypt, sealedKeyId } from '../crypto/index.ts';
import { subscriptions } from '../../schema/fanout.ts';

export interface RotateKeyResult {
  module: 'fanout';
  reencrypted: number;
  current: number;
}

export async function rotateKey(ctx: Ctx): Promise<RotateKeyResult> {
  const result: RotateKeyResult = { module: 'fanout', reencrypted: 0, current: 0 };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await ctx.db
      .select({ id: subscriptions.id, secretEnc: subscriptions.secretEnc })
      .from(subscriptions)
      .where(gt(subscriptions.id, after))
      .orderBy(asc(subscriptions.id))
      .limit(200);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (sealedKeyId(row.secretEnc) === ctx.keyring.current.id) {
        result.current++;
        continue;
      }
      const next = encrypt(ctx.keyring, decrypt(ctx.keyring, row.secretEnc));
      await ctx.db.update(subscriptions).set({ secretEnc: next }).where(and(eq(subscriptions.id, row.id), eq(subscriptions.secretEnc, row.secretEnc)));
      result.reencrypted++;
    }
    after = rows[rows.length - 1]!.id;
  }
  ctx.log.info(result, 'fanout: subscription secrets rotated to the current key');
  return result;
}
