// Secrets at rest: AES-256-GCM under ENCRYPTION_KEY. Each value carries the id of the key that
// sealed it ("v1.<kid>.<iv>.<tag>.<ciphertext>", base64url parts) so the key can be rotated: values
// under ENCRYPTION_KEY_PREVIOUS stay readable until re-encrypted under the current key.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Keyring {
  current: { id: string; key: Buffer };
  previous?: { id: string; key: Buffer };
}

export const keyId = (key: Buffer) => createHash('sha256').update(key).digest('base64url').slice(0, 8);

export function createKeyring(current: Buffer, previous?: Buffer): Keyring {
  if (current.length !== 32) throw new Error('encryption key must be 32 bytes');
  return {
    current: { id: keyId(current), key: current },
    ...(previous ? { previous: { id: keyId(previous), key: previous } } : {}),
  };
}

export function encrypt(keyring: Keyring, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', keyring.current.id, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
}

export function sealedKeyId(sealed: string): string | undefined {
  return sealed.split('.')[1];
}

export function decrypt(keyring: Keyring, sealed: string): string {
  const [version, kid, iv, tag, ct] = sealed.split('.');
  if (version !== 'v1' || !kid || iv === undefined || tag === undefined || ct === undefined) {
    throw new Error('not a sealed value');
  }
  const key = [keyring.current, keyring.previous].find((k) => k?.id === kid)?.key;
  if (!key) throw new Error(`sealed under unknown key ${kid}: configure it as ENCRYPTION_KEY_PREVIOUS`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}

/** SHA-256 hex of a secret, for values only ever compared (channel tokens, OAuth state). */
export const hashSecret = (value: string) => createHash('sha256').update(value).digest('hex');

/** Constant-time equality of two strings (compares their hashes, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Constant-time check of a presented secret against a stored SHA-256 hex hash. */
export function matchesHash(presented: string, storedHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const actual = createHash('sha256').update(presented).digest();
  return stored.length === actual.length && timingSafeEqual(stored, actual);
}

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
