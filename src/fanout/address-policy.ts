// Where fan-out may send: public unicast addresses only, unless configuration allows private ones
// (development does). Checked against the address actually connected to, not only the URL, so a
// DNS name that points (or later re-points) at 127.0.0.1 or 169.254.169.254 is refused.
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { AppError } from '../errors/index.ts';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** An IPv4 address carried inside an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96), if any. */
function embeddedIpv4(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  const dotted = lower.match(/^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) return dotted[1];
  const hex = lower.match(/^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return undefined;
}

/** True for loopback, private, link-local, CGNAT, multicast, reserved and documentation ranges. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return blocked.check(v4, 'ipv4');
    // 6to4 (2002::/16) embeds an IPv4 address too: refuse rather than decode what relays do.
    if (/^2002:/i.test(ip)) return true;
    return blocked.check(ip, 'ipv6');
  }
  return true; // not an address at all: never "public"
}

export interface ResolvedTarget {
  url: URL;
  /** The address to connect to (checked). */
  address: string;
  family: 4 | 6;
}

const DNS_TIMEOUT_MS = 5000;

/** Only http(s), no credentials in the URL. Throws VALIDATION with the reason. */
export function parseSubscriberUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('VALIDATION', 'url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('VALIDATION', 'url must be http or https');
  if (url.username || url.password) throw new AppError('VALIDATION', 'url must not carry credentials');
  if (!url.hostname) throw new AppError('VALIDATION', 'url has no host');
  return url;
}

const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host ONCE and checks the address; the caller connects to that address (so a
 * second, different answer from DNS, the rebinding trick, is never used). Every address of the name
 * must pass: a name that also points inside is refused.
 */
export async function resolveTarget(raw: string, opts: { allowPrivate: boolean }): Promise<ResolvedTarget> {
  const url = parseSubscriberUrl(raw);
  const host = bareHost(url);
  const literal = isIP(host);
  let addresses: Array<{ address: string; family: number }>;
  if (literal) {
    addresses = [{ address: host, family: literal }];
  } else {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      addresses = await Promise.race([
        lookup(host, { all: true, verbatim: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('DNS lookup timed out')), DNS_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      throw new AppError('UPSTREAM_ERROR', `cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(timer);
    }
    if (addresses.length === 0) throw new AppError('UPSTREAM_ERROR', `cannot resolve ${host}: no address`);
  }
  if (!opts.allowPrivate) {
    const inside = addresses.find((a) => isPrivateAddress(a.address));
    if (inside) throw new AppError('FORBIDDEN', `${host} resolves to ${inside.address}, a private, loopback or link-local address`);
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
