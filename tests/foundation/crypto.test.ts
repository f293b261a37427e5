// Sealed values (src/crypto): v2 binds each value to `table.column:rowId`, so a value copied to
// another row, column or table does not open; the tag is exactly 16 bytes whatever the runtime
// accepts; legacy v1 values (no associated data) still open.
import { describe, expect, test } from 'bun:test';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring, decrypt, encrypt, isCurrentSeal, keyId, sealedAt, sealedKeyId, sealedVersion } from '../../src/crypto/index.ts';

const A = Buffer.alloc(32, 1);
const B = Buffer.alloc(32, 2);
const ring = createKeyring(A);
const here = 'owners.refresh_token_enc:11111111-1111-4111-8111-111111111111';
const otherRow = 'owners.refresh_token_enc:22222222-2222-4222-8222-222222222222';

/** The format written before v2 (what databases hold today): no associated data. */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', keyId(key), iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** `sealed` with its tag part replaced by `f(tag)`. */
function withTag(sealed: string, f: (tag: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[3] = f(Buffer.from(parts[3]!, 'base64url')).toString('base64url');
  return parts.join('.');
}

describe('v2: bound to where the value lives', () => {
  test('seals as v2 under the current key and opens at its own place only', () => {
    const sealed = encrypt(ring, '1//refresh-token', here);
    expect(sealedVersion(sealed)).toBe('v2');
    expect(sealedKeyId(sealed)).toBe(keyId(A));
    expect(isCurrentSeal(ring, sealed)).toBe(true);
    expect(sealed).not.toContain('refresh-token');
    expect(decrypt(ring, sealed, here)).toBe('1//refresh-token');
    expect(sealedAt('owners', 'refresh_token_enc', '11111111-1111-4111-8111-111111111111')).toBe(here);
  });

  test('attack: the same value copied to another row, column or table does not open there', () => {
    const sealed = encrypt(ring, '1//refresh-token', here);
    for (const place of [otherRow, 'owners.access_token_enc:11111111-1111-4111-8111-111111111111', 'subscriptions.secret_enc:11111111-1111-4111-8111-111111111111']) {
      expect(() => decrypt(ring, sealed, place)).toThrow(/does not open/);
    }
  });

  test('attack: a v2 value relabelled v1 (to skip the associated data) does not open', () => {
    const sealed = encrypt(ring, 'secret', here);
    const downgraded = `v1${sealed.slice(2)}`;
    expect(() => decrypt(ring, downgraded, here)).toThrow(/does not open/);
    expect(() => decrypt(ring, downgraded, otherRow)).toThrow(/does not open/);
  });

  test('a place must be table.column:rowId: nothing sealed or opened without one', () => {
    for (const place of ['', 'owners', 'owners.refresh_token_enc', 'owners.refresh_token_enc:', 'Owners.x:1']) {
      expect(() => encrypt(ring, 'x', place)).toThrow(/table\.column:rowId/);
      expect(() => decrypt(ring, encrypt(ring, 'x', here), place)).toThrow(/table\.column:rowId/);
    }
  });

  test('rotation: values under the previous key open; an unknown key is named with what to configure', () => {
    const old = encrypt(createKeyring(A), 'x', here);
    const rotated = createKeyring(B, A);
    expect(decrypt(rotated, old, here)).toBe('x');
    expect(isCurrentSeal(rotated, old)).toBe(false);
    expect(() => decrypt(createKeyring(B), old, here)).toThrow(/unknown key .*ENCRYPTION_KEY_PREVIOUS/);
  });
});

describe('legacy v1', () => {
  test('values sealed before v2 still open (they carry no place), and are not current', () => {
    const legacy = sealV1(A, 'ya29.legacy');
    expect(decrypt(ring, legacy, here)).toBe('ya29.legacy');
    expect(decrypt(createKeyring(B, A), legacy, otherRow)).toBe('ya29.legacy');
    expect(isCurrentSeal(ring, legacy)).toBe(false);
  });
});

describe('the tag is exactly 16 bytes; the value is exactly five canonical parts', () => {
  test('attack: truncated tags are refused (v2 and v1)', () => {
    for (const sealed of [encrypt(ring, 'secret', here), sealV1(A, 'secret')]) {
      for (const n of [0, 4, 8, 12, 13, 15]) {
        expect(() => decrypt(ring, withTag(sealed, (t) => t.subarray(0, n)), here)).toThrow(/authentication tag must be 16 bytes/);
      }
      expect(() => decrypt(ring, withTag(sealed, (t) => Buffer.concat([t, Buffer.from([0])])), here)).toThrow(/authentication tag must be 16 bytes/);
    }
  });

  test('a flipped tag bit, a flipped ciphertext bit, extra parts, a short IV or non-canonical base64 are refused', () => {
    const sealed = encrypt(ring, 'secret', here);
    const parts = sealed.split('.');
    expect(() => decrypt(ring, withTag(sealed, (t) => Buffer.from(t.map((b, i) => (i === 0 ? b ^ 1 : b)))), here)).toThrow(/does not open/);
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0]! ^= 1;
    expect(() => decrypt(ring, [...parts.slice(0, 4), ct.toString('base64url')].join('.'), here)).toThrow(/does not open/);
    expect(() => decrypt(ring, `${sealed}.extra`, here)).toThrow(/not a sealed value/);
    expect(() => decrypt(ring, [parts[0], parts[1], Buffer.from(parts[2]!, 'base64url').subarray(0, 8).toString('base64url'), parts[3], parts[4]].join('.'), here)).toThrow(/IV must be 12 bytes/);
    expect(() => decrypt(ring, [...parts.slice(0, 3), `${parts[3]}==`, parts[4]].join('.'), here)).toThrow(/authentication tag must be 16 bytes/);
    expect(() => decrypt(ring, 'v3.x.y.z.w', here)).toThrow(/not a sealed value/);
    expect(() => decrypt(ring, 'plain text', here)).toThrow(/not a sealed value/);
  });

  // Bun's GCM happens to refuse short tags on its own; Node's accepts 4, 8 and 12..16-byte tags
  // unless authTagLength is given. The module must not depend on which runtime runs it.
  const node = Bun.which('node');
  test.skipIf(!node)('attack, under Node: a value whose tag was cut to 4 bytes is refused by the module itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-crypto-node-'));
    const source = await Bun.file(join(import.meta.dir, '..', '..', 'src', 'crypto', 'index.ts')).text();
    writeFileSync(join(dir, 'crypto.mjs'), new Bun.Transpiler({ loader: 'ts' }).transformSync(source));
    writeFileSync(
      join(dir, 'check.mjs'),
      `import { createKeyring, encrypt, decrypt } from './crypto.mjs';
       const ring = createKeyring(Buffer.alloc(32, 1));
       const place = ${JSON.stringify(here)};
       const parts = encrypt(ring, 'secret', place).split('.');
       parts[3] = Buffer.from(parts[3], 'base64url').subarray(0, 4).toString('base64url');
       try { console.log('opened:' + decrypt(ring, parts.join('.'), place)); } catch (e) { console.log('refused: ' + e.message); }`,
    );
    const proc = Bun.spawn([node!, join(dir, 'check.mjs')], { stdout: 'pipe', stderr: 'pipe' });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(err).toBe('');
    expect(out.trim()).toBe('refused: not a sealed value: the authentication tag must be 16 bytes');
  });
});
