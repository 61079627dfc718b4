import { upgradeWebSocket } from '@hono/node-server';
import { Hono } from 'hono';
import type { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, documentNameProblem } from '../../shared/protocol.js';
import { acceptConnection, type AcceptOptions, type ConnectionHandle } from '../sync/accept.js';
import type { ConnectionAccess } from '../sync/connection.js';

export interface SyncRouteOptions extends AcceptOptions {
  pingIntervalMs: number;
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
  access: ConnectionAccess;
}

/**
 * `GET /sync/<document>`: the y-websocket endpoint. Requests are answered by upgrading; problems
 * found after that (a bad name) close the socket with a 44xx code and a reason a browser can read.
 */
export function createSyncRoutes(prefix: string, options: SyncRouteOptions) {
  const app = new Hono<{ Variables: SyncVariables }>();
  app.get('/*', async (c, next) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      return c.json({ error: 'this endpoint speaks the y-websocket protocol; open it with a WebSocket' }, 426);
    }
    if (!c.get('access')) c.set('access', { subject: 'anonymous', canWrite: true });
    await next();
  });
  app.get(
    '/*',
    upgradeWebSocket((c) => {
      const parsed = documentNameFromPath(new URL(c.req.url).pathname, prefix);
      const access = c.get('access');
      let handle: ConnectionHandle | null = null;
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as WebSocket;
          if ('problem' in parsed) {
            options.metrics.refused.inc({ reason: 'bad document name' });
            raw.close(CloseCode.BadRequest, closeReason(parsed.problem));
            return;
          }
          handle = acceptConnection(
            parsed.name,
            {
              send: (frame) => raw.send(frame),
              close: (code, reason) => raw.close(code, closeReason(reason)),
              get bufferedAmount() {
                return raw.bufferedAmount;
              },
            },
            access,
            options,
          );
        },
        onMessage(event) {
          if (!handle) return;
          if (typeof event.data === 'string') {
            handle.connection.close(CloseCode.BadRequest, 'text frames are not part of the protocol');
            return;
          }
          handle.receive(new Uint8Array(event.data as ArrayBuffer));
        },
        onClose() {
          handle?.closed();
        },
        onError() {
          handle?.closed();
        },
      };
    }),
  );
  return app;
}
