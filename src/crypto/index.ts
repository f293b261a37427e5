// Secrets at rest: AES-256-GCM under ENCRYPTION_KEY. A sealed value names the key that sealed it, so
// the key can be rotated (values under ENCRYPTION_KEY_PREVIOUS stay readable until re-sealed), and
// is bound to where it lives:
//
//   v2.<kid>.<iv>.<tag>.<ciphertext>   base64url parts; 12-byte IV, 16-byte tag; associated data
//                                      `table.column:rowId` (not stored: the reader supplies it)
//   v1.<kid>.<iv>.<tag>.<ciphertext>   legacy, no associated data: still opens, never written; the
//                                      boot re-seals every v1 value as v2 (rotate-key does too)
//
// A v2 value copied to another row or column does not open there, nor does one whose version was
// changed to v1 (the tag covers the associated data). A tag shorter than 16 bytes is refused
// whatever the runtime would accept (Node's GCM takes 4..16-byte tags unless told otherwise).
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Keyring {
  current: { id: string; key: Buffer };
  previous?: { id: string; key: Buffer };
}

export const keyId = (key: Buffer) => createHash('sha256').update(key).digest('base64url').slice(0, 8);

export function createKeyring(current: Buffer, previous?: Buffer): Keyring {
  if (current.length !== 32) throw new Error('encryption key must be 32 bytes');
  if (previous && previous.length !== 32) throw new Error('previous encryption key must be 32 bytes');
  return {
    current: { id: keyId(current), key: current },
    ...(previous ? { previous: { id: keyId(previous), key: previous } } : {}),
  };
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** `table.column:rowId`: where a sealed value lives. */
const PLACE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*:[^\s]+$/;

/** The associated data of a sealed column: `table.column:rowId` (SQL names). */
export const sealedAt = (table: string, column: string, rowId: string) => `${table}.${column}:${rowId}`;

function checkPlace(aad: string): Buffer {
  if (!PLACE.test(aad)) throw new Error(`sealed values are bound to 'table.column:rowId', not ${JSON.stringify(aad.slice(0, 80))}`);
  return Buffer.from(aad, 'utf8');
}

/** Seals `plaintext` under the current key for the place `aad` (`table.column:rowId`). */
export function encrypt(keyring: Keyring, plaintext: string, aad: string): string {
  const ad = checkPlace(aad);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(ad);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v2', keyring.current.id, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
}

export function sealedKeyId(sealed: string): string | undefined {
  return sealed.split('.')[1];
}

export function sealedVersion(sealed: string): 'v1' | 'v2' | undefined {
  const v = sealed.split('.', 1)[0];
  return v === 'v1' || v === 'v2' ? v : undefined;
}

/** Nothing to re-seal: the current format under the current key. */
export const isCurrentSeal = (keyring: Keyring, sealed: string) => sealedVersion(sealed) === 'v2' && sealedKeyId(sealed) === keyring.current.id;

/** Strict base64url: a part that does not re-encode to itself (padding, stray characters) is refused. */
function part(s: string, bytes?: number): Buffer | undefined {
  const b = Buffer.from(s, 'base64url');
  if (b.toString('base64url') !== s) return undefined;
  if (bytes !== undefined && b.length !== bytes) return undefined;
  return b;
}

/**
 * Opens a value sealed for the place `aad` (`table.column:rowId`). A v1 value (legacy) opens
 * without it. Throws on a malformed value, an unknown key, another place or any alteration.
 */
export function decrypt(keyring: Keyring, sealed: string, aad: string): string {
  const ad = checkPlace(aad);
  const parts = sealed.split('.');
  const [version, kid, ivText, tagText, ctText] = parts;
  if (parts.length !== 5 || (version !== 'v1' && version !== 'v2') || !kid) throw new Error('not a sealed value');
  const iv = part(ivText!, IV_BYTES);
  const tag = part(tagText!, TAG_BYTES);
  const ct = part(ctText!);
  if (!iv) throw new Error(`not a sealed value: the IV must be ${IV_BYTES} bytes`);
  if (!tag) throw new Error(`not a sealed value: the authentication tag must be ${TAG_BYTES} bytes`);
  if (!ct) throw new Error('not a sealed value');
  const key = [keyring.current, keyring.previous].find((k) => k?.id === kid)?.key;
  if (!key) throw new Error(`sealed under unknown key ${kid}: configure it as ENCRYPTION_KEY_PREVIOUS`);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  if (version === 'v2') decipher.setAAD(ad);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`sealed value does not open as ${aad.slice(0, aad.indexOf(':'))} of this row: sealed for another place, or altered`);
  }
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
