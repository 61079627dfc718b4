import { upgradeWebSocket, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../shared/auth.js';
import { CloseCode, documentNameProblem } from '../../shared/protocol.js';
import { AuthError, requireDocument, type Access, type Authenticator } from '../auth/authenticator.js';
import { clientAddress, type ConnectionLimiter } from '../limits/connection-limiter.js';
import { acceptConnection, type AcceptOptions, type ConnectionHandle } from '../sync/accept.js';
import { refuse } from './auth.js';
import { createFrameSender } from './ws-frames.js';

export interface SyncRouteOptions extends AcceptOptions {
  pingIntervalMs: number;
  auth: Authenticator;
  /** Connections in total and per client address. */
  limiter: ConnectionLimiter;
  /** Client address from X-Forwarded-For (behind a reverse proxy). */
  trustProxy: boolean;
}

/**
 * `handleProtocols` of the WebSocketServer: a browser that offered subprotocols fails the
 * handshake unless one is echoed. A token travels as `collab.token.<jwt>` next to `collab`;
 * `collab` is echoed (never the token), else the first other offer, else the token entry itself.
 */
export function selectSubprotocol(offered: Set<string>): string | false {
  if (offered.has(SYNC_SUBPROTOCOL)) return SYNC_SUBPROTOCOL;
  let first: string | false = false;
  for (const protocol of offered) {
    if (!protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return protocol;
    first ||= protocol;
  }
  return first;
}

/** A binary message from `ws` (a Buffer with the default binaryType) as bytes, without copying. */
function binaryMessage(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  return bytes.length <= 123 ? reason : new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, '') + '...';
}

/** Takes the document name from `/sync/<name>` (percent-decoded) or says what is wrong with it. */
export function documentNameFromPath(pathname: string, prefix: string): { name: string } | { problem: string } {
  const raw = pathname.startsWith(prefix + '/') ? pathname.slice(prefix.length + 1) : '';
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return { problem: 'document name is not valid percent-encoding' };
  }
  const problem = documentNameProblem(name);
  return problem ? { problem } : { name };
}

/**
 * Pings every socket at an interval and terminates those that did not answer the previous ping:
 * half-open connections would otherwise hold their room and memory forever.
 */
export function startHeartbeat(wss: WebSocketServer, intervalMs: number): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  const onConnection = (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', () => alive.set(ws, true));
  };
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}

export interface SyncVariables {
  access: Access;
}

/**
 * `GET /sync/<document>`: the y-websocket endpoint. Requests are answered by upgrading; problems
 * found after that (a bad name) close the socket with a 44xx code and a reason a browser can read.
 */
export function createSyncRoutes(prefix: string, options: SyncRouteOptions) {
  const app = new Hono<{ Variables: SyncVariables }>();
  const frameSender = createFrameSender();
  // Everything that can be decided before the upgrade is answered with an HTTP status there:
  // origin (403), token (401), document not granted (403), connection limits (429/503).
  app.get('/*', async (c, next) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      return c.json({ error: 'this endpoint speaks the y-websocket protocol; open it with a WebSocket' }, 426);
    }
    const parsed = documentNameFromPath(new URL(c.req.url).pathname, prefix);
    try {
      options.auth.checkOrigin(c);
      const access = await options.auth.authenticateRequest(c, ['authorization', 'subprotocol', 'query', 'cookie']);
      if ('name' in parsed) requireDocument(access, parsed.name);
      c.set('access', access);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      options.metrics.refused.inc({ reason: error.status === 401 ? 'unauthenticated' : 'forbidden' });
      return refuse(c, error.status, error.message);
    }
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
    const address = clientAddress(incoming?.socket.remoteAddress, c.req.header('x-forwarded-for'), options.trustProxy);
    const admission = options.limiter.admit(address);
    if (!admission.ok) {
      options.metrics.refused.inc({ reason: admission.status === 429 ? 'connections per address' : 'connections' });
      return refuse(c, admission.status, admission.reason);
    }
    // The TCP socket closes however the upgrade or the WebSocket ends: that frees the slot.
    if (incoming) incoming.socket.once('close', admission.release);
    try {
      await next();
    } finally {
      if (!incoming) admission.release();
    }
  });
  app.get(
    '/*',
    upgradeWebSocket((c) => {
      const parsed = documentNameFromPath(new URL(c.req.url).pathname, prefix);
      const access = c.get('access');
      let handle: ConnectionHandle | null = null;
      let untrack = () => {};
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as WebSocket;
          if ('problem' in parsed) {
            options.metrics.refused.inc({ reason: 'bad document name' });
            raw.close(CloseCode.BadRequest, closeReason(parsed.problem));
            return;
          }
          // Ends the connection when its token expires or is revoked.
          untrack = options.auth.sessions.track(access, (code, reason) => {
            options.metrics.refused.inc({ reason });
            if (handle) handle.connection.close(code, reason);
            else raw.close(code, reason);
          });
          const send = frameSender(raw);
          const accepted = acceptConnection(
            parsed.name,
            {
              send,
              close: (code, reason) => raw.close(code, closeReason(reason)),
              get bufferedAmount() {
                return raw.bufferedAmount;
              },
            },
            access,
            options,
          );
          handle = accepted;
          // Messages are taken from the ws socket itself: Hono's onMessage would wrap each one in a
          // MessageEvent and copy it. onOpen runs synchronously after Hono starts listening, so no
          // message can have been buffered by Hono before this listener exists.
          raw.on('message', (data, isBinary) => {
            if (!isBinary) {
              accepted.connection.close(CloseCode.BadRequest, 'text frames are not part of the protocol');
              return;
            }
            accepted.receive(binaryMessage(data));
          });
        },
        onClose() {
          untrack();
          handle?.closed();
        },
        onError() {
          untrack();
          handle?.closed();
        },
      };
    }),
  );
  return app;
}
