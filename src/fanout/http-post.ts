// One outgoing POST to a subscriber, defensively: connect to the address already resolved and
// checked (Host header and TLS server name keep the URL's name), never follow a redirect, give up
// after the timeout, and read at most a few kilobytes of whatever the receiver answers.
import { AppError } from '../errors/index.ts';
import { resolveTarget } from './address-policy.ts';

export const RESPONSE_BODY_LIMIT = 64 * 1024;

export type PostOutcome =
  | { kind: 'response'; status: number; retryAfter: string | null; location: string | null; body: string }
  /** Never reached the receiver, or the receiver stopped answering: worth retrying. */
  | { kind: 'network'; error: string }
  | { kind: 'timeout'; error: string }
  /** Refused by our own policy (private address): retrying changes nothing. */
  | { kind: 'refused'; error: string };

export async function postWebhook(input: {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}): Promise<PostOutcome> {
  const started = Date.now();
  let target;
  try {
    target = await resolveTarget(input.url, { allowPrivate: input.allowPrivate });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof AppError && (err.code === 'FORBIDDEN' || err.code === 'VALIDATION')) return { kind: 'refused', error: message };
    return { kind: 'network', error: message };
  }
  const { url, address, family } = target;
  const pinned = new URL(url);
  pinned.hostname = family === 6 ? `[${address}]` : address;
  const remaining = Math.max(1, input.timeoutMs - (Date.now() - started));
  // A timer cleared when the attempt ends: AbortSignal.timeout would keep its signal and timer
  // alive for the whole timeout after the answer (10 s by default), and at a thousand deliveries
  // a second that is ten thousand of them held at once.
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(() => controller.abort(), remaining);
  try {
    const res = await fetch(pinned, {
      method: 'POST',
      headers: { ...input.headers, host: url.host },
      body: input.body,
      redirect: 'manual',
      signal,
      // Certificates are checked against the subscriber's name, not the address we dialled.
      ...(url.protocol === 'https:' ? { tls: { serverName: url.hostname.replace(/^\[(.*)\]$/, '$1') } } : {}),
    } as RequestInit);
    const body = await readLimited(res, RESPONSE_BODY_LIMIT);
    return {
      kind: 'response',
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      location: res.headers.get('location'),
      body,
    };
  } catch (err) {
    if (signal.aborted) return { kind: 'timeout', error: `no answer within ${input.timeoutMs} ms` };
    return { kind: 'network', error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads up to `limit` bytes, then drops the rest (and the connection's remaining body). */
async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The status already answers; a body cut short (timeout, reset) changes nothing.
    size = limit;
  } finally {
    if (size >= limit) await reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
