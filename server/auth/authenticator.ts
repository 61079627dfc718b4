import { parse as parseCookies } from 'hono/utils/cookie';
import { TOKEN_COOKIE, TOKEN_QUERY_PARAM, TOKEN_SUBPROTOCOL_PREFIX } from '../../shared/auth.js';
import { hostProblem, type HostPolicy } from './hosts.js';
import { originPolicy, originProblem, type OriginPolicy } from './origin.js';
import { grants } from './patterns.js';
import { RevocationList } from './revocation.js';
import { SessionTracker } from './sessions.js';
import { AuthError, OPEN_ACCESS, accessFromClaims, importSecret, verifyToken, type Access, type SecretKey } from './tokens.js';

export interface AuthOptions {
  /** AUTH_SECRET; null runs the server open. */
  secret: string | null;
  /** ALLOWED_ORIGINS; null for the default (see originPolicy). */
  allowedOrigins: readonly string[] | null;
  /** PUBLIC_URL's origin: also the server's own origin. */
  publicUrl?: string | null;
  /** Host names accepted (DNS rebinding protection); any Host when absent. */
  hosts?: HostPolicy;
  /** Where revocations are kept; ignored when open. */
  revocationFile: string;
  onRevocationReloadError?: (error: unknown) => void;
}

export type TokenSource = 'authorization' | 'subprotocol' | 'query' | 'cookie';

/**
 * What the auth checks read from an HTTP request, whatever parsed it: Node's IncomingMessage
 * (the WebSocket upgrade) fits as it is, and the Hono routes adapt their Context to it.
 */
export interface RequestHead {
  /** The request target: a path with its query (`/sync/doc?token=...`) or an absolute URL. */
  url: string;
  /** Headers by lower-case name, as Node's IncomingMessage has them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A header's value (the first one if repeated). */
export function headerValue(request: RequestHead, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A query parameter of the request target, percent-decoded. */
export function queryValue(url: string, name: string): string | undefined {
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  const end = url.indexOf('#', start);
  return new URLSearchParams(url.slice(start + 1, end === -1 ? undefined : end)).get(name) ?? undefined;
}

/** Where a request's token came from (first match wins, in this order). */
export function tokenFromRequest(request: RequestHead, sources: readonly TokenSource[]): { token: string; source: TokenSource } | null {
  for (const source of sources) {
    let token: string | undefined;
    if (source === 'authorization') {
      const header = headerValue(request, 'authorization');
      if (header !== undefined) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!match) throw new AuthError(401, 'Authorization header must be "Bearer <token>"');
        token = match[1];
      }
    } else if (source === 'subprotocol') {
      const offered = (headerValue(request, 'sec-websocket-protocol') ?? '').split(',').map((entry) => entry.trim());
      token = offered.find((entry) => entry.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
    } else if (source === 'query') {
      token = queryValue(request.url, TOKEN_QUERY_PARAM);
    } else {
      const cookies = headerValue(request, 'cookie');
      token = cookies === undefined ? undefined : parseCookies(cookies, TOKEN_COOKIE)[TOKEN_COOKIE];
    }
    if (token !== undefined && token !== '') return { token, source };
  }
  return null;
}

/**
 * Decides who a request is and what it may do: verifies tokens (when AUTH_SECRET is set),
 * consults the revocation list, checks origins, and tracks live connections so that expired or
 * revoked tokens end them.
 */
export class Authenticator {
  readonly open: boolean;
  readonly origins: OriginPolicy;
  readonly hosts: HostPolicy;
  readonly revocations: RevocationList | null;
  readonly sessions: SessionTracker;
  private readonly key: Promise<SecretKey> | null;

  constructor(options: AuthOptions) {
    this.open = options.secret === null;
    this.origins = originPolicy(options.allowedOrigins, options.publicUrl ?? null);
    this.hosts = options.hosts ?? { any: true, names: new Set() };
    this.key = options.secret === null ? null : importSecret(options.secret);
    // Keep a rejected import from being reported as unhandled before the first request awaits it.
    this.key?.catch(() => {});
    if (this.open) {
      this.revocations = null;
    } else {
      this.revocations = new RevocationList(options.revocationFile, options.onRevocationReloadError);
      this.revocations.load();
      this.revocations.watch();
    }
    this.sessions = new SessionTracker(this.revocations);
  }

  /** The access a token grants; throws AuthError(401) when it is missing, invalid, expired or revoked. */
  async authenticate(token: string | null): Promise<Access> {
    if (!this.key) return OPEN_ACCESS;
    if (token === null) throw new AuthError(401, 'a token is required');
    const access = accessFromClaims(await verifyToken(await this.key, token));
    const revoked = this.revocations?.reasonFor(access);
    if (revoked) throw new AuthError(401, revoked);
    return access;
  }

  /** Authenticates the token a request carries in any of `sources`. */
  async authenticateRequest(request: RequestHead, sources: readonly TokenSource[]): Promise<Access> {
    if (this.open) return OPEN_ACCESS;
    return this.authenticate(tokenFromRequest(request, sources)?.token ?? null);
  }

  /** Throws AuthError(403) unless the request's Host is one this server answers to (DNS rebinding). */
  checkHost(request: RequestHead): void {
    const problem = hostProblem(headerValue(request, 'host'), this.hosts);
    if (problem) throw new AuthError(403, problem);
  }

  /** Throws AuthError(403) unless the request's Host and Origin are allowed. */
  checkOrigin(request: RequestHead): void {
    this.checkHost(request);
    const problem = originProblem(headerValue(request, 'origin'), headerValue(request, 'host'), this.origins);
    if (problem) throw new AuthError(403, problem);
  }

  stop(): void {
    this.sessions.stop();
    this.revocations?.stop();
  }
}

/** Why `access` does not cover document `name` (or writing it, when asked), or null. */
export function documentProblem(access: Access, name: string, write = false): string | null {
  if (!grants(access.documents, name)) return `the token does not grant document ${JSON.stringify(name)}`;
  if (write && !access.canWrite) return 'the token is read-only';
  return null;
}

/** Throws AuthError(403) unless `access` covers document `name` (and writing, when asked). */
export function requireDocument(access: Access, name: string, write = false): void {
  const problem = documentProblem(access, name, write);
  if (problem) throw new AuthError(403, problem);
}

export { AuthError, OPEN_ACCESS, type Access } from './tokens.js';
