// Where fan-out may send: global unicast addresses only, unless configuration allows every address
// (FANOUT_ALLOW_PRIVATE, on in development). An allow-list, not a list of known-bad ranges: IPv4 is
// allowed outside the blocks IANA's IPv4 Special-Purpose Address Registry marks not globally
// reachable (and multicast, reserved); IPv6 only inside 2000::/3, IANA's global unicast space,
// outside its special-purpose blocks. Anything else (IPv4-compatible ::a.b.c.d, IPv4-mapped
// ::ffff:0:0/96, local-use NAT64 64:ff9b:1::/48, 6to4, Teredo, ULA, link-local, site-local,
// multicast, discard, SRv6, ...) is refused, whatever spelling it comes in. The one IPv6 form that
// carries an IPv4 address and is let through is the well-known NAT64 prefix 64:ff9b::/96 (what
// DNS64 synthesises on IPv6-only hosts): it is judged by the IPv4 address inside.
// Checked against the address actually connected to, not only the URL, so a DNS name that points
// (or later re-points) at 127.0.0.1 or 169.254.169.254 is refused.
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { AppError } from '../errors/index.ts';

/** A block as [network, prefix length, why it is not a receiver's address]. */
type Block = readonly [string, number, string];

/**
 * IPv4 blocks that are not global unicast: IANA's special-purpose registry (every entry not
 * globally reachable, and 192.88.99.0/24, deprecated), multicast and the reserved 240/4. The
 * registry's few globally reachable entries inside 192.0.0.0/24 (PCP and TURN anycast) are refused
 * with the block: no webhook receiver lives there.
 */
export const IPV4_NOT_GLOBAL: readonly Block[] = [
  ['0.0.0.0', 8, '"this network" (RFC 791)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space, carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback (RFC 1122)'],
  ['169.254.0.0', 16, 'link-local, cloud metadata (RFC 3927)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0', 24, 'documentation (RFC 5737)'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation (RFC 5737)'],
  ['203.0.113.0', 24, 'documentation (RFC 5737)'],
  ['224.0.0.0', 4, 'multicast (RFC 5771)'],
  ['240.0.0.0', 4, 'reserved, limited broadcast (RFC 1112, RFC 919)'],
];

/** IANA's global unicast space (IPv6 Address Space registry); nothing outside it is allowed. */
export const IPV6_GLOBAL_UNICAST: Block = ['2000::', 3, 'global unicast'];

/**
 * Special-purpose blocks inside 2000::/3 that are not receivers' addresses. 2001::/23 goes whole:
 * Teredo (embeds an IPv4 address), benchmarking, ORCHID, and the anycast services (AMT, AS112, PCP,
 * TURN) the registry marks reachable, none of them a web server.
 */
export const IPV6_NOT_GLOBAL: readonly Block[] = [
  ['2001::', 23, 'IETF protocol assignments: Teredo, benchmarking, ORCHID (RFC 2928)'],
  ['2001:db8::', 32, 'documentation (RFC 3849)'],
  ['2002::', 16, '6to4, embeds an IPv4 address (RFC 3056)'],
  ['3fff::', 20, 'documentation (RFC 9637)'],
];

/** The well-known NAT64 prefix (RFC 6052): judged by the IPv4 address in its last 32 bits. */
const NAT64_WELL_KNOWN: Block = ['64:ff9b::', 96, 'NAT64'];

/** Names of the common IPv6 ranges outside 2000::/3, for the refusal's message only. */
const IPV6_OUTSIDE_NAMES: readonly Block[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'IPv4-mapped (RFC 4291)'],
  ['::ffff:0:0:0', 96, 'IPv4-translated (RFC 2765)'],
  ['::', 96, 'IPv4-compatible, deprecated (RFC 4291)'],
  ['64:ff9b:1::', 48, 'local-use NAT64 (RFC 8215)'],
  ['100::', 64, 'discard-only (RFC 6666)'],
  ['5f00::', 16, 'SRv6 SIDs (RFC 9602)'],
  ['fc00::', 7, 'unique local (RFC 4193)'],
  ['fe80::', 10, 'link-local (RFC 4291)'],
  ['fec0::', 10, 'site-local, deprecated (RFC 3879)'],
  ['ff00::', 8, 'multicast (RFC 4291)'],
];

/** The 32 bits of a dotted-quad IPv4 address; undefined unless it is one, in its canonical spelling. */
function ipv4Bits(ip: string): bigint | undefined {
  if (isIP(ip) !== 4) return undefined;
  const parts = ip.split('.');
  // isIP already refuses octal-looking parts ("0177"), which another parser would read as octal.
  let n = 0n;
  for (const p of parts) n = (n << 8n) | BigInt(Number(p));
  return n;
}

/** The 128 bits of an IPv6 address, any spelling (compressed, full, trailing dotted quad); no zone. */
function ipv6Bits(ip: string): bigint | undefined {
  if (isIP(ip) !== 6 || ip.includes('%')) return undefined;
  let text = ip.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // A trailing dotted quad ("::ffff:1.2.3.4") is the last two groups.
    const v4 = ipv4Bits(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const all = [...head, ...Array.from({ length: 8 - explicit }, () => '0'), ...rest];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

interface Compiled {
  base: bigint;
  shift: bigint;
  /** "loopback (RFC 1122), 127.0.0.0/8" */
  label: string;
}

function compile(blocks: readonly Block[], width: 32 | 128): Compiled[] {
  return blocks.map(([net, prefix, why]) => {
    const bits = width === 32 ? ipv4Bits(net) : ipv6Bits(net);
    if (bits === undefined || prefix < 0 || prefix > width) throw new Error(`bad block ${net}/${prefix}`);
    const shift = BigInt(width - prefix);
    return { base: bits >> shift, shift, label: `${why}, ${net}/${prefix}` };
  });
}

const V4_NOT_GLOBAL = compile(IPV4_NOT_GLOBAL, 32);
const [V6_GLOBAL_UNICAST] = compile([IPV6_GLOBAL_UNICAST], 128) as [Compiled];
const V6_NOT_GLOBAL = compile(IPV6_NOT_GLOBAL, 128);
const [V6_NAT64] = compile([NAT64_WELL_KNOWN], 128) as [Compiled];
const V6_OUTSIDE_NAMES = compile(IPV6_OUTSIDE_NAMES, 128);

const within = (bits: bigint) => (b: Compiled) => bits >> b.shift === b.base;

const v4FromBits = (b: bigint) => [24n, 16n, 8n, 0n].map((s) => Number((b >> s) & 0xffn)).join('.');

/**
 * Why `ip` is not a global unicast address (the block it falls in), or undefined when it is one.
 * Anything that is not an IP address at all gets a reason too: it is never "global".
 */
export function notGlobalReason(ip: string): string | undefined {
  const v4 = ipv4Bits(ip);
  if (v4 !== undefined) return V4_NOT_GLOBAL.find(within(v4))?.label;
  if (isIP(ip) === 6 && ip.includes('%')) return 'scoped address (zone index)';
  const v6 = ipv6Bits(ip);
  if (v6 === undefined) return 'not an IP address';
  if (within(v6)(V6_NAT64)) {
    const inner = v4FromBits(v6 & 0xffffffffn);
    const why = notGlobalReason(inner);
    return why ? `NAT64 64:ff9b::/96 of ${inner}: ${why}` : undefined;
  }
  if (!within(v6)(V6_GLOBAL_UNICAST)) return V6_OUTSIDE_NAMES.find(within(v6))?.label ?? 'outside the global unicast space 2000::/3';
  return V6_NOT_GLOBAL.find(within(v6))?.label;
}

/** True for global unicast addresses only: the ones a subscriber's receiver may have. */
export const isGlobalUnicast = (ip: string): boolean => notGlobalReason(ip) === undefined;

/** The opposite of isGlobalUnicast: loopback, private, link-local, special-purpose, not an address. */
export const isPrivateAddress = (ip: string): boolean => !isGlobalUnicast(ip);

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
    for (const a of addresses) {
      const why = notGlobalReason(a.address);
      if (why) throw new AppError('FORBIDDEN', `${host} resolves to ${a.address}, not a global unicast address (${why})`);
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
