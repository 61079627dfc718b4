import { isIP } from 'node:net';

/**
 * Host header checks against DNS rebinding: a page on `evil.example` whose name the attacker
 * re-points at 127.0.0.1 (or at the server's LAN address) becomes "same origin" with this server
 * in the browser, and could read and write documents of an open server. The browser still sends
 * `Host: evil.example[:port]`, so the server refuses Host names it does not know.
 *
 * Always accepted, whatever the settings: IP literals (rebinding needs a name the attacker's DNS
 * answers for) and `localhost`. Also accepted: PUBLIC_URL's host name and ALLOWED_HOSTS.
 * Any Host is accepted with `ALLOWED_HOSTS=*`, and by default when the server listens on a
 * non-loopback address without PUBLIC_URL or ALLOWED_HOSTS (it cannot know its names; main.ts
 * warns at start). A request without Host (HTTP/1.0 tools) is let through: browsers always send one.
 */
export interface HostPolicy {
  any: boolean;
  /** Lower-case host names (no port). */
  names: ReadonlySet<string>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase();
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export interface HostPolicyOptions {
  /** HOST, the address the server listens on. */
  listenHost: string;
  publicUrl: string | null;
  allowedHosts: readonly string[] | null;
}

export function hostPolicy({ listenHost, publicUrl, allowedHosts }: HostPolicyOptions): HostPolicy {
  if (allowedHosts?.includes('*')) return { any: true, names: new Set() };
  const names = new Set<string>(['localhost', ...(allowedHosts ?? [])]);
  if (publicUrl) names.add(new URL(publicUrl).hostname.toLowerCase());
  const listensOnLoopback = isLoopbackHost(listenHost);
  // Listening on all interfaces with no name configured: the names clients use are unknown.
  const any = !listensOnLoopback && !publicUrl && !allowedHosts;
  return { any, names };
}

/** The host name of a Host header (`name:port`, `[v6]:port`), lower-cased; null if malformed. */
export function hostName(header: string): string | null {
  const value = header.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/.exec(value);
  if (!match) return null;
  return match[1]!.replace(/\.$/, '');
}

/** Why a request with this Host header is refused, or null. */
export function hostProblem(header: string | undefined, policy: HostPolicy): string | null {
  if (header === undefined) return null;
  const name = hostName(header);
  if (name === null) return `Host header ${JSON.stringify(header.slice(0, 100))} is malformed`;
  if (policy.any) return null;
  const bare = name.startsWith('[') ? name.slice(1, -1) : name;
  if (isIP(bare) !== 0 || policy.names.has(name) || name.endsWith('.localhost')) return null;
  return `host ${JSON.stringify(name.slice(0, 100))} is not served here (DNS rebinding protection); set PUBLIC_URL or ALLOWED_HOSTS to accept it`;
}
