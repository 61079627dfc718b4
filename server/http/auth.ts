import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { AuthError, type Access, type Authenticator, type RequestHead } from '../auth/authenticator.js';
import { originProblem } from '../auth/origin.js';
import { readJsonObject } from './json-body.js';

export interface AuthVariables {
  access: Access;
}

export type RefusalStatus = 401 | 403 | 429 | 503;

/**
 * Headers that say why a request was refused: `X-Refusal-Reason` (and `WWW-Authenticate` for a
 * 401). WebSocket clients report a refused upgrade's status and headers, rarely its body.
 */
export function refusalHeaders(status: number, reason: string): Record<string, string> {
  const printable = reason.replace(/[^\x20-\x7e]/g, '?');
  const headers: Record<string, string> = { 'X-Refusal-Reason': printable };
  if (status === 401) headers['WWW-Authenticate'] = `Bearer error="invalid_token", error_description="${printable.replace(/["\\]/g, '')}"`;
  return headers;
}

/** A JSON refusal (`{ "error": reason }`) with the refusal headers. */
export function refuse(c: Context, status: RefusalStatus, reason: string): Response {
  for (const [name, value] of Object.entries(refusalHeaders(status, reason))) c.header(name, value);
  return c.json({ error: reason }, status);
}

/** What the auth checks need of a Hono request. */
export function requestHead(c: Context): RequestHead {
  return { url: c.req.url, headers: c.req.header() };
}

/**
 * CORS for the HTTP API: origins the allow-list admits may call it from the browser with a Bearer
 * token (an embedded editor asks `GET /api/documents/<name>` why it was refused). No credentials
 * mode: the cookie is for same-origin use.
 */
export function apiCors(auth: Authenticator): MiddlewareHandler {
  return cors({
    origin: (origin, c) => (originProblem(origin, c.req.header('host'), auth.origins) === null ? origin : null),
    allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match'],
    exposeHeaders: ['ETag'],
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  });
}

/**
 * Guards the HTTP API (`/api/*`): the Origin must be allowed (a cookie must not let another site
 * act for the user), and with AUTH_SECRET a valid token must come as `Authorization: Bearer` or
 * the `collab_token` cookie. Sets `access` for the routes.
 */
export function apiAuth(auth: Authenticator): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    try {
      const request = requestHead(c);
      auth.checkOrigin(request);
      c.set('access', await auth.authenticateRequest(request, ['authorization', 'cookie']));
    } catch (error) {
      if (error instanceof AuthError) return refuse(c, error.status, error.message);
      throw error;
    }
    await next();
  };
}

/** The API's view of a token; what `GET /api/auth/me` returns. */
export function describeAccess(access: Access, open: boolean) {
  return {
    open,
    subject: access.subject,
    documents: access.documents,
    canWrite: access.canWrite,
    admin: access.admin,
    expiresAt: access.expiresAt === null ? null : new Date(access.expiresAt * 1000).toISOString(),
  };
}

/**
 * `/api/auth`: `GET /me` tells a client who its token says it is (or `{ "open": true }`);
 * `POST /revoke` (admin tokens only) revokes one token by id or every token of a subject.
 */
export function createAuthRoutes(auth: Authenticator) {
  const app = new Hono<{ Variables: AuthVariables }>();

  app.get('/me', (c) => c.json(describeAccess(c.get('access'), auth.open)));

  app.post('/revoke', async (c) => {
    if (!auth.revocations) return c.json({ error: 'the server runs open (no AUTH_SECRET): there are no tokens to revoke' }, 400);
    if (!c.get('access').admin) return refuse(c, 403, 'revoking needs an admin token');
    const body = await readJsonObject(c.req.raw);
    if (!body) return c.json({ error: 'expected a JSON object { "tokenId"?, "expiresAt"?, "subject"? }' }, 400);
    const { tokenId, expiresAt, subject } = body;
    if (tokenId !== undefined && (typeof tokenId !== 'string' || tokenId === '' || tokenId.length > 200)) return c.json({ error: 'tokenId must be a non-empty string' }, 400);
    if (subject !== undefined && (typeof subject !== 'string' || subject === '' || subject.length > 200)) return c.json({ error: 'subject must be a non-empty string' }, 400);
    if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) return c.json({ error: 'expiresAt must be Unix seconds' }, 400);
    if (tokenId === undefined && subject === undefined) return c.json({ error: 'name a tokenId or a subject to revoke' }, 400);
    auth.revocations.revoke({
      ...(tokenId !== undefined && { tokenId: tokenId as string }),
      ...(expiresAt !== undefined && { expiresAt: expiresAt as number }),
      ...(subject !== undefined && { subject: subject as string }),
    });
    return c.json({ revoked: { tokenId: tokenId ?? null, subject: subject ?? null }, liveConnections: auth.sessions.size });
  });

  return app;
}
