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

/** Why a write request's Content-Type is refused, or null. */
export function contentTypeProblem(method: string, contentType: string | undefined): string | null {
  if (!WRITE_METHODS.has(method.toUpperCase())) return null;
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return null;
  return `${method.toUpperCase()} requests must have Content-Type: application/json${contentType ? `, got ${JSON.stringify(contentType.slice(0, 100))}` : ''}`;
}

/**
 * API writes must be JSON (415 otherwise). A page on another site can send a form or a
 * `text/plain` POST without a CORS preflight; `application/json` needs one, which the CORS policy
 * refuses to origins it does not allow. So a cross-site write never reaches a route.
 */
export function jsonWrites(): MiddlewareHandler {
  return async (c, next) => {
    const problem = contentTypeProblem(c.req.method, c.req.header('content-type'));
    if (problem) return c.json({ error: problem }, 415);
    await next();
  };
}
