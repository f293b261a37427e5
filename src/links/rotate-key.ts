// Re-sealing: every sealed value of links' tables under the current ENCRYPTION_KEY and in the
// current format (v2, bound to `owners.<column>:<id>`), while the previous key (ENCRYPTION_KEY_PREVIOUS)
// is still configured to read the old ones. `legacyOnly` (the boot's step) touches only v1 values
// and finds them with one query when none is left.
import { and, asc, eq, gt, isNotNull, like, or } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import { decrypt, encrypt, isCurrentSeal } from '../crypto/index.ts';
import { owners } from '../../schema/links.ts';

export interface RotateKeyResult {
  module: 'links';
  /** Sealed values re-sealed under the current key (and format). */
  reencrypted: number;
  /** Sealed values already under the current key and format. */
  current: number;
  /** Sealed values that do not open (unknown key, or not sealed for their row): left as they are. */
  unreadable: number;
}

const BATCH = 200;
const COLUMNS = [
  ['refreshTokenEnc', 'refresh_token_enc'],
  ['accessTokenEnc', 'access_token_enc'],
] as const;

export async function rotateKey(ctx: Ctx, opts: { legacyOnly?: boolean } = {}): Promise<RotateKeyResult> {
  const result: RotateKeyResult = { module: 'links', reencrypted: 0, current: 0, unreadable: 0 };
  const candidates = opts.legacyOnly
    ? or(like(owners.refreshTokenEnc, 'v1.%'), like(owners.accessTokenEnc, 'v1.%'))
    : or(isNotNull(owners.refreshTokenEnc), isNotNull(owners.accessTokenEnc));
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await ctx.db
      .select({ id: owners.id, refreshTokenEnc: owners.refreshTokenEnc, accessTokenEnc: owners.accessTokenEnc })
      .from(owners)
      .where(and(gt(owners.id, after), candidates))
      .orderBy(asc(owners.id))
      .limit(BATCH);
    if (rows.length === 0) break;
    for (const row of rows) {
      // Column by column, compare-and-set: a value replaced meanwhile (LINKED, a refresh, another
      // process re-sealing) is already current and is left alone.
      for (const [column, sqlName] of COLUMNS) {
        const old = row[column];
        if (old === null || (opts.legacyOnly && !old.startsWith('v1.'))) continue;
        if (isCurrentSeal(ctx.keyring, old)) {
          result.current++;
          continue;
        }
        const place = `owners.${sqlName}:${row.id}`;
        let next: string;
        try {
          next = encrypt(ctx.keyring, decrypt(ctx.keyring, old, place), place);
        } catch (err) {
          result.unreadable++;
          ctx.log.warn({ ownerId: row.id, column: sqlName, err: (err as Error).message }, 'links: sealed value does not open; left as it is');
          continue;
        }
        await ctx.db.update(owners).set({ [column]: next }).where(and(eq(owners.id, row.id), eq(owners[column], old)));
        result.reencrypted++;
      }
    }
    after = rows[rows.length - 1]!.id;
  }
  if (!opts.legacyOnly || result.reencrypted + result.unreadable > 0) ctx.log.info(result, 'links: sealed values re-sealed under the current key');
  return result;
}
