import dns from 'node:dns';
import net from 'node:net';

/**
 * SSRF guard for webhook deliveries. An endpoint URL is supplied by an admin, but the server is
 * often the only thing that can reach its private network (cloud metadata at 169.254.169.254,
 * databases, admin consoles): unless WEBHOOK_ALLOW_PRIVATE is set, deliveries go to public
 * addresses only. The check runs at delivery time on every address the name resolves to, and the
 * connection is made to the address that was checked (the lookup below is the socket's own), so a
 * name that resolves publicly once and privately the next time (DNS rebinding) gains nothing.
 */

const blocked = new net.BlockList();
const RANGES: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'an IETF protocol address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fc00::', 7, 'ipv6', 'a unique-local (private) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];
for (const [address, prefix, family] of RANGES) blocked.addSubnet(address, prefix, family);

/** IPv4 addresses hidden in IPv6 forms that reach the IPv4 host: ::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d (NAT64). */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** What kind of non-public address `address` (an IP literal) is, or null if it is public. */
export function privateAddressKind(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return privateAddressKind(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (!blocked.check(address, type)) return null;
  for (const [range, prefix, rangeFamily, kind] of RANGES) {
    if (rangeFamily !== type) continue;
    const one = new net.BlockList();
    one.addSubnet(range, prefix, rangeFamily);
    if (one.check(address, type)) return kind;
  }
  return 'a non-public address';
}

const ALLOW_HINT = 'set WEBHOOK_ALLOW_PRIVATE=1 to allow private addresses';

/** For a URL's host: a refusal if it is an IP literal (or `localhost`) that is not public, else null. */
export function literalAddressProblem(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return `${hostname} is a loopback address (${ALLOW_HINT})`;
  if (net.isIP(host) === 0) return null;
  const kind = privateAddressKind(host);
  return kind ? `${hostname} is ${kind} (${ALLOW_HINT})` : null;
}

export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  readonly code = 'EPRIVATEADDRESS';
}

type LookupAddress = { address: string; family: number };
type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request/net.connect that resolves the name and refuses the connection if
 * any of its addresses is not public: one private address among public ones is enough for an
 * attacker who controls the name's DNS.
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    for (const { address } of addresses) {
      const kind = privateAddressKind(address);
      if (kind) return callback(new PrivateAddressError(`${hostname} resolves to ${address}, ${kind} (${ALLOW_HINT})`), []);
    }
    if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}
