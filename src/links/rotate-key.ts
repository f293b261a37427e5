// Key rotation: re-encrypts every sealed value of links' tables under the current ENCRYPTION_KEY,
// while the previous key (ENCRYPTION_KEY_PREVIOUS) is still configured to read the old ones.
import { and, asc, eq, gt, isNotNull, or } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { decrypt, encrypt, sealedKeyId } from '../crypto/index.ts';
import { owners } from '../../schema/links.ts';

export interface RotateKeyResult {
  module: 'links';
  /** Sealed values re-encrypted under the current key. */
  reencrypted: number;
  /** Sealed values already under the current key. */
  current: number;
}

const BATCH = 200;

export async function rotateKey(ctx: Ctx): Promise<RotateKeyResult> {
  const currentId = ctx.keyring.current.id;
  const result: RotateKeyResult = { module: 'links', reencrypted: 0, current: 0 };
  const reseal = (v: string | null): string | null => {
    if (v === null) return null;
    if (sealedKeyId(v) === currentId) {
      result.current++;
      return v;
    }
    result.reencrypted++;
    return encrypt(ctx.keyring, decrypt(ctx.keyring, v));
  };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await ctx.db
      .select({ id: owners.id, refreshTokenEnc: owners.refreshTokenEnc, accessTokenEnc: owners.accessTokenEnc })
      .from(owners)
      .where(and(gt(owners.id, after), or(isNotNull(owners.refreshTokenEnc), isNotNull(owners.accessTokenEnc))))
      .orderBy(asc(owners.id))
      .limit(BATCH);
    if (rows.length === 0) break;
    for (const row of rows) {
      // Column by column, compare-and-set: a value replaced meanwhile (LINKED, a refresh) is already
      // sealed under the current key and is left alone.
      for (const column of ['refreshTokenEnc', 'accessTokenEnc'] as const) {
        const old = row[column];
        const next = reseal(old);
        if (old === null || next === old) continue;
        await ctx.db.update(owners).set({ [column]: next }).where(and(eq(owners.id, row.id), eq(owners[column], old)));
      }
    }
    after = rows[rows.length - 1]!.id;
  }
  ctx.log.info(result, 'links: sealed values rotated to the current key');
  return result;
}
