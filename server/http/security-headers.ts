import type { MiddlewareHandler } from 'hono';

export interface SecurityHeaderOptions {
  /** CSP `frame-ancestors` sources (FRAME_ANCESTORS), `'self'` by default. */
  frameAncestors: string;
}

/** Set by a route that serves a page with inline scripts: their CSP hashes (`'sha256-…'`). */
export interface SecurityHeaderVariables {
  scriptHashes?: string[];
}

/** The request's Host if it is a plain `name[:port]` (it is interpolated into the policy). */
function cspHost(host: string | undefined): string | null {
  return host && /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(:\d{1,5})?$/i.test(host) ? host : null;
}

/**
 * The Content-Security-Policy of the built editor: its own scripts only (plus the hashes of a
 * page's own inline scripts, e.g. /examples/embed.html), inline styles (remote cursors and avatars
 * carry their colour in a style attribute; the library injects its stylesheet), images from
 * itself, data: URLs, blob: URLs (the editor's images fetched with a token) and https: sites (images
 * a document links to), connections to itself over HTTP and WebSocket, no plugins, no <base>,
 * forms to itself only, framing as FRAME_ANCESTORS says.
 */
export function contentSecurityPolicy(host: string | undefined, frameAncestors: string, scriptHashes: readonly string[] = []): string {
  const self = cspHost(host);
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...scriptHashes].join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    `connect-src 'self'${self ? ` ws://${self} wss://${self}` : ''}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** X-Frame-Options for browsers without CSP frame-ancestors; none when it cannot say the same. */
export function frameOptions(frameAncestors: string): string | null {
  if (frameAncestors === "'self'") return 'SAMEORIGIN';
  if (frameAncestors === "'none'") return 'DENY';
  return null;
}

/** Security headers on every response (pages, assets, API), unless a route set its own. */
export function securityHeaders({ frameAncestors }: SecurityHeaderOptions): MiddlewareHandler<{ Variables: SecurityHeaderVariables }> {
  const xfo = frameOptions(frameAncestors);
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    const set = (name: string, value: string) => {
      if (!headers.has(name)) headers.set(name, value);
    };
    set('Content-Security-Policy', contentSecurityPolicy(c.req.header('host'), frameAncestors, c.get('scriptHashes')));
    if (xfo) set('X-Frame-Options', xfo);
    set('X-Content-Type-Options', 'nosniff');
    set('Referrer-Policy', 'no-referrer');
  };
}
