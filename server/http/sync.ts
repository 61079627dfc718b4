import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hono } from 'hono';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../shared/auth.js';
import { CloseCode, documentNameProblem } from '../../shared/protocol.js';
import { AuthError, headerValue, requireDocument, type Access, type Authenticator, type RequestHead, type TokenSource } from '../auth/authenticator.js';
import { clientAddress, type ConnectionLimiter, type Slot } from '../limits/connection-limiter.js';
import { startHeartbeat } from '../limits/heartbeat.js';
import type { UntrustedProxyCheck } from '../limits/untrusted-proxy.js';
import { RoomAttachment, type AttachOptions } from '../sync/room-attachment.js';
import { createHocuspocusSockets } from '../transport/hocuspocus-endpoint.js';
import { refusalHeaders } from './auth.js';
import { binaryMessage, createFrameSender } from './ws-frames.js';
import { WebSocketTransport, closeReason } from './ws-transport.js';

export interface SyncEndpointOptions extends AttachOptions {
  /** The WebSocketServer (`noServer`, `clientTracking: false`) that completes the handshakes. */
  wss: WebSocketServer;
  pingIntervalMs: number;
  auth: Authenticator;
  /** Connections in total and per client address. */
  limiter: ConnectionLimiter;
  /** Client address from X-Forwarded-For (behind a reverse proxy). */
  trustProxy: boolean;
  /** Notices X-Forwarded-For without TRUST_PROXY, and says so in per-address refusals. */
  untrustedProxy: UntrustedProxyCheck;
  /** An upgrade not completed this long after its request arrived is cut off (default 10 s). */
  handshakeTimeoutMs?: number;
}

/**
 * The sync endpoint: y-websocket at `/sync/<name>`, Hocuspocus at `/sync`. A Node `upgrade`
 * listener, and Hono routes for plain HTTP requests.
 */
export interface SyncEndpoint {
  /** Answers plain HTTP requests under the prefix with 426; mount it at the prefix. */
  routes: Hono;
  /** The HTTP server's `upgrade` listener; this is the server's only WebSocket endpoint. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Every open socket of the endpoint. */
  sockets(): IterableIterator<WebSocket>;
  /** Stops the heartbeat. */
  stop(): void;
}

const TOKEN_SOURCES: readonly TokenSource[] = ['authorization', 'subprotocol', 'query', 'cookie'];
const NOT_A_WEBSOCKET = 'this endpoint speaks the y-websocket protocol; open it with a WebSocket';

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

/** The path of a request target (`/path?query` or an absolute URL), or null if it is none. */
export function targetPathname(target: string): string | null {
  try {
    // Prefixing the origin keeps `//x/y` a path instead of a host.
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target).pathname;
  } catch {
    return null;
  }
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

type DocumentTarget = ReturnType<typeof documentNameFromPath>;

/**
 * What an upgrade request asks for: its document (a bad name is told after the upgrade, where a
 * browser can read the reason), the Hocuspocus protocol (the prefix itself: its frames name their
 * documents), or the HTTP answer it gets before its credentials are looked at.
 */
export function upgradeTarget(
  method: string | undefined,
  target: string,
  upgrade: string | undefined,
  prefix: string,
): { document: DocumentTarget } | { hocuspocus: true } | { status: 404 | 426; message: string } {
  const pathname = targetPathname(target);
  if (method !== 'GET' || pathname === null || (pathname !== prefix && !pathname.startsWith(prefix + '/'))) {
    return { status: 404, message: `nothing at ${pathname ?? target}` };
  }
  if (upgrade?.toLowerCase() !== 'websocket') return { status: 426, message: NOT_A_WEBSOCKET };
  if (pathname === prefix) return { hocuspocus: true };
  return { document: documentNameFromPath(pathname, prefix) };
}

/** Checks the Origin, the token and (for a valid name) the document grant; throws AuthError. */
async function authorize(auth: Authenticator, request: RequestHead, document: DocumentTarget): Promise<Access> {
  auth.checkOrigin(request);
  const access = await auth.authenticateRequest(request, TOKEN_SOURCES);
  if ('name' in document) requireDocument(access, document.name);
  return access;
}

/** The HTTP response, JSON `{ "error": message }`, that answers an upgrade request instead of a 101. */
export function upgradeRefusal(status: number, message: string, headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ error: message });
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function refuseUpgrade(socket: Duplex, status: number, message: string, headers?: Record<string, string>): void {
  if (socket.destroyed) return;
  socket.once('finish', socket.destroy);
  socket.end(upgradeRefusal(status, message, headers));
}

/**
 * Shared by every socket, so that a connection costs no closures: a reset during the handshake
 * must not crash the process, and `ws` follows every error with `close`, where cleanup happens.
 */
function ignoreError(): void {}

/**
 * `GET /sync/<document>`: everything that can be decided before the upgrade is answered with an
 * HTTP status there (origin 403, token 401, document not granted 403, connection limits 429/503);
 * problems found after it (a bad name) close the socket with a 44xx code and a reason a browser
 * can read. The handshake goes straight to `ws`, so no framework request object outlives it.
 */
export function createSyncEndpoint(prefix: string, options: SyncEndpointOptions): SyncEndpoint {
  const { wss, auth, limiter, metrics } = options;
  const sendFrame = createFrameSender();
  // Also the registry of open sockets: ws's own (`clientTracking`) costs a closure per socket.
  const transports = new Map<WebSocket, WebSocketTransport>();
  function* sockets(): IterableIterator<WebSocket> {
    yield* transports.keys();
    yield* hocuspocus.sockets();
  }
  const heartbeat = startHeartbeat(sockets, options.pingIntervalMs);
  // `/sync` itself: the Hocuspocus protocol, each document authorised by its own Auth message.
  const hocuspocus = createHocuspocusSockets({ ...options, sendFrame, heard: heartbeat.heard, authTimeoutMs: options.handshakeTimeoutMs ?? 10_000 });

  // Listeners take their socket as `this`: one function serves every connection.
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    heartbeat.heard(this);
    const attachment = transports.get(this)?.attachment;
    if (!attachment) return;
    if (!isBinary) attachment.connection.close(CloseCode.BadRequest, 'text frames are not part of the protocol');
    else attachment.receive(binaryMessage(data));
  }
  function onClose(this: WebSocket): void {
    const transport = transports.get(this);
    if (!transport) return;
    transports.delete(this);
    transport.slot.release();
    transport.untrack();
    transport.attachment?.transportClosed();
  }

  function open(ws: WebSocket, target: DocumentTarget, access: Access, slot: Slot): void {
    const transport = new WebSocketTransport(ws, sendFrame, slot);
    transports.set(ws, transport);
    ws.on('error', ignoreError);
    ws.on('close', onClose);
    heartbeat.watch(ws);
    if ('problem' in target) {
      metrics.refused.inc({ reason: 'bad document name' });
      ws.close(CloseCode.BadRequest, closeReason(target.problem));
      return;
    }
    const attachment = new RoomAttachment(target.name, transport, access, options);
    transport.attachment = attachment;
    ws.on('message', onMessage);
    if (!access.authenticated) return;
    // Ends the connection when its token expires or is revoked.
    transport.untrack = auth.sessions.track(access, (code, reason) => {
      metrics.refused.inc({ reason });
      attachment.connection.close(code, reason);
    });
  }

  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = request.url ?? '/';
    const target = upgradeTarget(request.method, url, request.headers.upgrade, prefix);
    if ('status' in target) return refuseUpgrade(socket, target.status, target.message);
    const requestHead: RequestHead = { url, headers: request.headers };
    // Counted from the moment the request arrives, not once upgraded: handshakes in progress
    // hold sockets too, and would otherwise escape the per-address limit.
    const forwardedFor = headerValue(requestHead, 'x-forwarded-for');
    const proxyProblem = options.untrustedProxy.forwardedForProblem(forwardedFor);
    const admission = limiter.admit(clientAddress(request.socket.remoteAddress, forwardedFor, options.trustProxy));
    if (!admission.ok) {
      const perAddress = admission.status === 429;
      metrics.refused.inc({ reason: perAddress ? 'connections per address' : 'connections' });
      const reason = perAddress && proxyProblem ? `${admission.reason}; ${proxyProblem}` : admission.reason;
      return refuseUpgrade(socket, admission.status, reason, refusalHeaders(admission.status, reason));
    }
    // Until the upgrade, the slot goes with the TCP socket (a client gone while its token was
    // checked, a handshake ws refuses); an upgraded socket frees it on `close` (onClose), and
    // keeps no listener or timer of its own here (memory per idle connection).
    if (socket.destroyed) return admission.release();
    const release = () => {
      clearTimeout(deadline);
      admission.release();
    };
    const deadline = setTimeout(() => {
      metrics.refused.inc({ reason: 'handshake timeout' });
      socket.destroy();
    }, handshakeTimeoutMs);
    socket.once('close', release);
    let access: Access | null = null;
    try {
      // A Hocuspocus socket carries its tokens inside (an Auth message per document).
      if ('hocuspocus' in target) auth.checkOrigin(requestHead);
      else access = await authorize(auth, requestHead, target.document);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      metrics.refused.inc({ reason: error.status === 401 ? 'unauthenticated' : 'forbidden' });
      return refuseUpgrade(socket, error.status, error.message, refusalHeaders(error.status, error.message));
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      clearTimeout(deadline);
      socket.off('close', release);
      socket.off('error', ignoreError);
      if ('document' in target && access) {
        open(ws, target.document, access, admission);
      } else {
        heartbeat.watch(ws);
        hocuspocus.open(ws, admission);
      }
    });
  }

  const routes = new Hono();
  routes.get('/*', (c) => c.json({ error: NOT_A_WEBSOCKET }, 426));

  return {
    routes,
    handleUpgrade(request, socket, head) {
      socket.on('error', ignoreError);
      upgrade(request, socket, head).catch((error: unknown) => {
        options.logger.error({ err: error }, 'WebSocket upgrade failed');
        refuseUpgrade(socket, 500, 'internal server error');
      });
    },
    sockets,
    stop: () => {
      heartbeat.stop();
      hocuspocus.stop();
    },
  };
}
