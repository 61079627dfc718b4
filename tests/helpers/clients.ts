import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { once } from './wait.js';

export interface TestClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  destroy(): void;
}

/** A stock y-websocket client, as an application would create it on Node. */
export function connectClient(syncUrl: string, documentName: string, options: { params?: Record<string, string>; doc?: Y.Doc } = {}): TestClient {
  const doc = options.doc ?? new Y.Doc();
  const provider = new WebsocketProvider(syncUrl, documentName, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params: options.params ?? {},
  });
  return {
    doc,
    provider,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Resolves once the provider has completed the sync handshake. */
export async function synced(client: TestClient, timeoutMs = 10_000): Promise<void> {
  if (client.provider.synced) return;
  await once(client.provider as never, 'sync', 'the client to sync', timeoutMs);
  if (!client.provider.synced) await synced(client, timeoutMs);
}
