import type { MiddlewareHandler } from 'hono';
import { AuthError, type Authenticator } from '../auth/authenticator.js';
import { refuse } from './auth.js';

/**
 * Refuses requests whose Host this server does not answer to (DNS rebinding: see auth/hosts.ts),
 * on every route it guards: the API, the static pages and the sync endpoint's HTTP answers
 * (WebSocket upgrades are checked in sync.ts). /healthz and /metrics are not guarded: probes and
 * scrapers address instances by names the server cannot know, and neither reveals documents.
 */
export function hostGuard(auth: Authenticator): MiddlewareHandler {
  return async (c, next) => {
    try {
      auth.checkHost({ url: c.req.url, headers: { host: c.req.header('host') } });
    } catch (error) {
      if (error instanceof AuthError) return refuse(c, error.status, error.message);
      throw error;
    }
    await next();
  };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The media types a write to `path` may carry ('' for none, i.e. no body), when they are not
 * just application/json; null for the default. Routes that take other bodies (the content API)
 * say so here, so that the rule stays in one place.
 */
export type WriteTypes = (method: string, path: string) => readonly string[] | null;

const JSON_ONLY: readonly string[] = ['application/json'];

const mediaTypeOf = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** Why a write request's Content-Type is refused, or null. */
export function contentTypeProblem(method: string, contentType: string | undefined, allowed: readonly string[] = JSON_ONLY): string | null {
  if (!WRITE_METHODS.has(method.toUpperCase())) return null;
  if (allowed.includes(mediaTypeOf(contentType))) return null;
  const types = allowed.filter(Boolean).join(' or ');
  return `${method.toUpperCase()} requests must have Content-Type: ${types}${contentType ? `, got ${JSON.stringify(contentType.slice(0, 100))}` : ''}`;
}

/**
 * Content types a page on any site may send cross-site without a CORS preflight ("simple"
 * requests). Writes carrying one are accepted only where the method itself forces a preflight
 * (PUT: never simple), and even then only if the request shows it is not a cross-site browser
 * request: it carries an Authorization header (which a page cannot add without a preflight), or
 * an Origin (which apiAuth has already found to be this server's own or an allowed one), or no
 * Sec-Fetch-Site saying it came from another site (curl and backends send none).
 */
const SIMPLE_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

export function simpleWriteProblem(method: string, contentType: string | undefined, header: (name: string) => string | undefined): string | null {
  const upper = method.toUpperCase();
  if (!WRITE_METHODS.has(upper) || !SIMPLE_TYPES.has(mediaTypeOf(contentType))) return null;
  if (upper === 'POST') return 'POST requests may not carry a form or text/plain body (other sites can send those without asking)';
  if (header('authorization') !== undefined || header('origin') !== undefined) return null;
  const site = header('sec-fetch-site');
  if (site === undefined || site === 'same-origin' || site === 'none') return null;
  return `a ${mediaTypeOf(contentType)} write from another site needs an Authorization header`;
}

/**
 * API writes must be JSON (415 otherwise), except where `writeTypes` allows other types. A page
 * on another site can send a form or a `text/plain` POST without a CORS preflight;
 * `application/json` (and every other type the content API takes, and every PUT or DELETE) needs
 * one, which the CORS policy refuses to origins it does not allow. So a cross-site write never
 * reaches a route (simpleWriteProblem: 403 for the one simple type a route takes).
 */
export function jsonWrites(writeTypes?: WriteTypes): MiddlewareHandler {
  return async (c, next) => {
    const contentType = c.req.header('content-type');
    const allowed = writeTypes?.(c.req.method.toUpperCase(), c.req.path) ?? JSON_ONLY;
    const problem = contentTypeProblem(c.req.method, contentType, allowed);
    if (problem) return c.json({ error: problem }, 415);
    const simple = simpleWriteProblem(c.req.method, contentType, (name) => c.req.header(name));
    if (simple) return c.json({ error: simple }, 403);
    await next();
  };
}
