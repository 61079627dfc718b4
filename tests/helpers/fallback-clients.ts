import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { FallbackWebSocket, type TransportKind, type TransportMemory } from '../../client/transport/fallback-websocket.js';
import { memoryTransportMemory } from '../../client/transport/transport-memory.js';
import type { TestClient } from './clients.js';

/** A stock provider whose socket is the fallback class (with `ws` as the WebSocket to try: Node 20 has none built in). */
export function connectFallbackClient(syncUrl: string, name: string, options: { memory?: TransportMemory; handshakeTimeoutMs?: number; probeDelayMs?: number } = {}): TestClient {
  const doc = new Y.Doc();
  const Polyfill = FallbackWebSocket.with({
    WebSocket: WebSocket as never,
    memory: options.memory ?? memoryTransportMemory(),
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 2_000,
    ...(options.probeDelayMs !== undefined && { probeDelayMs: options.probeDelayMs, maxProbeDelayMs: options.probeDelayMs }),
  });
  const provider = new WebsocketProvider(syncUrl, name, doc, { WebSocketPolyfill: Polyfill as never, disableBc: true });
  return {
    doc,
    provider,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

export function transportOf(client: TestClient): TransportKind | null {
  const ws = client.provider.ws as unknown;
  return ws instanceof FallbackWebSocket ? ws.transport : null;
}

