import type { RawData, WebSocket } from 'ws';
import { CloseCode } from '../../shared/protocol.js';
import { binaryMessage } from '../http/ws-frames.js';
import type { Slot } from '../limits/connection-limiter.js';
import { HocuspocusSocket, type HocuspocusSocketOptions } from './hocuspocus-socket.js';

/**
 * A 4.x provider reconnects after 30 s without any message (messageReconnectTimeout): a socket
 * sent nothing for this long gets a Ping (sooner with a short PING_INTERVAL_MS: a third of it). One
 * timer for all sockets; a check costs well under a microsecond per socket, 10 ms a second at
 * 100,000 sockets.
 */
const MAX_KEEPALIVE_IDLE_MS = 10_000;

export interface HocuspocusSocketsOptions extends HocuspocusSocketOptions {
  /** The WebSocket heartbeat's interval (PING_INTERVAL_MS). */
  pingIntervalMs: number;
  /** Told of every message a socket receives (the heartbeat counts it as an answer to its ping). */
  heard(ws: WebSocket): void;
}

/** The Hocuspocus sockets of the sync endpoint (`/sync`, without a document name). */
export interface HocuspocusSockets {
  /** Takes over a socket just upgraded on `/sync`; its connection limiter `slot` is freed when it closes. */
  open(ws: WebSocket, slot: Slot): void;
  sockets(): IterableIterator<WebSocket>;
  stop(): void;
}

/** Errors are followed by `close`, where cleanup happens; a reset must not crash the process. */
function ignoreError(): void {}

export function createHocuspocusSockets(options: HocuspocusSocketsOptions): HocuspocusSockets {
  const sockets = new Map<WebSocket, HocuspocusSocket>();

  // Listeners take their socket as `this`: one function serves every connection.
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    options.heard(this);
    const socket = sockets.get(this);
    if (!socket) return;
    if (!isBinary) socket.close(CloseCode.BadRequest, 'text frames are not part of the protocol');
    else socket.receive(binaryMessage(data));
  }
  function onClose(this: WebSocket): void {
    const socket = sockets.get(this);
    if (!socket) return;
    sockets.delete(this);
    socket.slot.release();
    socket.socketClosed();
  }

  const idleMs = Math.min(MAX_KEEPALIVE_IDLE_MS, options.pingIntervalMs / 3);
  const keepAlive = setInterval(() => {
    const now = performance.now();
    for (const socket of sockets.values()) socket.keepAlive(idleMs, now);
  }, idleMs / 2);
  keepAlive.unref();

  return {
    open(ws, slot) {
      sockets.set(ws, new HocuspocusSocket(ws, slot, options));
      ws.on('error', ignoreError);
      ws.on('close', onClose);
      ws.on('message', onMessage);
    },
    sockets: () => sockets.keys(),
    stop: () => clearInterval(keepAlive),
  };
}
