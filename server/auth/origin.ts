/**
 * Origin checks against cross-site WebSocket hijacking (and cross-site API calls riding on the
 * cookie). Browsers always send `Origin` on WebSocket handshakes and cross-origin requests; other
 * clients usually send none, and are let through (they cannot carry a victim's cookie).
 */
export interface OriginPolicy {
  /** Any origin may connect. */
  any: boolean;
  /** Origins (`scheme://host[:port]`, normalized) allowed besides the server's own. */
  allowed: ReadonlySet<string>;
}

/** Normalizes `https://Example.com:443` to `https://example.com`; null if it is not an http(s) origin. */
export function normalizeOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return null;
  if (!/^[a-z]+:\/\/[^/]+\/?$/i.test(value.trim())) return null;
  return url.origin;
}

/**
 * The policy from ALLOWED_ORIGINS (`*`, or a comma-separated list of origins). Unset: only the
 * server's own origin (the Host it was reached at, and PUBLIC_URL's), whether or not it requires
 * tokens: an open server that admitted any origin could be read and written by every web page
 * its user visits.
 */
export function originPolicy(allowedOrigins: readonly string[] | null, publicUrl: string | null = null): OriginPolicy {
  if (allowedOrigins?.includes('*')) return { any: true, allowed: new Set() };
  const allowed = new Set((allowedOrigins ?? []).map((origin) => normalizeOrigin(origin) ?? origin));
  if (publicUrl) allowed.add(new URL(publicUrl).origin);
  return { any: false, allowed };
}

function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  const requestHost = host.trim().toLowerCase().replace(/:(80|443)$/, '');
  return originHost.toLowerCase() === requestHost;
}

/** Why a request with this `Origin` is refused, or null. `host` is the request's Host header. */
export function originProblem(origin: string | undefined, host: string | undefined, policy: OriginPolicy): string | null {
  if (origin === undefined || policy.any) return null;
  const normalized = normalizeOrigin(origin);
  if (normalized && (policy.allowed.has(normalized) || sameHost(normalized, host))) return null;
  return `origin ${JSON.stringify(origin.slice(0, 100))} is not allowed`;
}
