// Sync and page tokens. Both are opaque to clients (Google's look like "CPDAlvWDx70CEPDAlvWDx70CGAU=").
//
// A sync token names a point in a collection's change sequence: (scope, sequence, epoch, generation) and
// when it was issued. The epoch changes when the emulator is told to invalidate the scope's tokens and the
// generation changes on reset, so older tokens answer 410 fullSyncRequired as Google's do when they expire;
// so does a token older than the sync-token lifetime (the sync guide names "token expiration").
//
// A page token carries the cursor of a running list: the snapshot's upper sequence, the last sequence
// returned (plus the last instance start inside it when recurring events are expanded), and for
// orderBy=startTime an offset; also when the listing's first page was served (`t0`) and a fingerprint of
// its query (`qh`), so that a page token too old or used with another query is refused (400). Paging by
// sequence keeps pages consistent while events change: anything changed after the first page has a higher
// sequence and is reported by the next incremental sync instead.

export interface SyncPoint {
  gen: string;
  scope: string;
  epoch: number;
  seq: number;
  /** Issued at (token-clock milliseconds). */
  iat: number;
}

export interface PageCursor {
  gen: string;
  scope: string;
  upper: number;
  afterSeq: number;
  afterSub?: number;
  offset?: number;
  /** When the listing's first page was served (token-clock ms); every later page token keeps it. */
  t0: number;
  /** Fingerprint of the query's parameters (all but pageToken and maxResults). */
  qh: string;
}

const SYNC_PREFIX = 'CWs';
const PAGE_PREFIX = 'CWp';

function encode(prefix: string, payload: unknown): string {
  return Buffer.from(`${prefix}${JSON.stringify(payload)}`).toString('base64');
}

function decode(prefix: string, token: string): unknown {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (!text.startsWith(prefix)) return undefined;
  try {
    return JSON.parse(text.slice(prefix.length));
  } catch {
    return undefined;
  }
}

export function encodeSyncToken(p: SyncPoint): string {
  return encode(SYNC_PREFIX, [p.gen, p.scope, p.epoch, p.seq, p.iat]);
}

/** The decoded token, or undefined when it is not one of ours at all (Google: 400 "Invalid Value"). */
export function decodeSyncToken(token: string): SyncPoint | undefined {
  const v = decode(SYNC_PREFIX, token);
  if (!Array.isArray(v) || v.length !== 5) return undefined;
  const [gen, scope, epoch, seq, iat] = v as unknown[];
  if (typeof gen !== 'string' || typeof scope !== 'string' || typeof epoch !== 'number' || typeof seq !== 'number' || typeof iat !== 'number') return undefined;
  return { gen, scope, epoch, seq, iat };
}

export function encodePageToken(c: PageCursor): string {
  return encode(PAGE_PREFIX, c);
}

export function decodePageToken(token: string): PageCursor | undefined {
  const v = decode(PAGE_PREFIX, token);
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Record<string, unknown>;
  if (typeof c.gen !== 'string' || typeof c.scope !== 'string' || typeof c.upper !== 'number' || typeof c.afterSeq !== 'number') return undefined;
  if (typeof c.t0 !== 'number' || typeof c.qh !== 'string') return undefined;
  const out: PageCursor = { gen: c.gen, scope: c.scope, upper: c.upper, afterSeq: c.afterSeq, t0: c.t0, qh: c.qh };
  if (typeof c.afterSub === 'number') out.afterSub = c.afterSub;
  if (typeof c.offset === 'number') out.offset = c.offset;
  return out;
}

/**
 * A fingerprint of a list query: every parameter but pageToken and maxResults (and the auth and format
 * parameters googleapis adds), sorted. A page token answers only the query that issued it.
 */
export function queryFingerprint(url: URL): string {
  const skip = new Set(['pageToken', 'maxResults', 'access_token', 'alt', 'prettyPrint', 'key', 'fields', 'quotaUser']);
  const pairs = [...url.searchParams.entries()].filter(([k]) => !skip.has(k)).sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y));
  return new Bun.CryptoHasher('sha256').update(JSON.stringify(pairs)).digest('base64url').slice(0, 16);
}
