import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { waitFor } from './wait.js';

export interface HocuspocusClient {
  doc: Y.Doc;
  provider: HocuspocusProvider;
  /** Reasons of the provider's `authenticationFailed` events. */
  denials: string[];
  /** Close messages the server sent for this document (`close` events with their reason). */
  closes: string[];
  destroy(): void;
}

/** A socket for several providers (`HocuspocusProviderWebsocket`), on Node. */
export function hocuspocusSocket(syncUrl: string): HocuspocusProviderWebsocket {
  // The provider takes the URL as it is: `ws://host:port/sync`, no document name.
  return new HocuspocusProviderWebsocket({ url: syncUrl, WebSocketPolyfill: WebSocket, maxAttempts: 0, delay: 100, minDelay: 100, maxDelay: 1000 });
}

/**
 * A stock @hocuspocus/provider client, as a Tiptap app creates it: on its own socket, or on a
 * shared one (`websocket`), with an optional token.
 */
export function connectHocuspocus(
  syncUrl: string,
  name: string,
  options: { token?: string; websocket?: HocuspocusProviderWebsocket; doc?: Y.Doc; sessionAwareness?: boolean; forceSyncInterval?: number } = {},
): HocuspocusClient {
  const doc = options.doc ?? new Y.Doc();
  const websocket = options.websocket ?? hocuspocusSocket(syncUrl);
  const denials: string[] = [];
  const closes: string[] = [];
  const provider = new HocuspocusProvider({
    websocketProvider: websocket,
    name,
    document: doc,
    token: options.token ?? null,
    sessionAwareness: options.sessionAwareness ?? false,
    forceSyncInterval: options.forceSyncInterval ?? false,
    onAuthenticationFailed: ({ reason }) => denials.push(reason),
    onClose: ({ event }) => closes.push(event.reason),
  });
  provider.attach();
  return {
    doc,
    provider,
    denials,
    closes,
    destroy() {
      provider.destroy();
      if (!options.websocket) websocket.destroy();
      doc.destroy();
    },
  };
}

/** Resolves once the provider finished its first sync handshake. */
export function hocuspocusSynced(client: HocuspocusClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced, `the Hocuspocus provider of ${client.provider.configuration.name} to sync`, timeoutMs);
}

/** Resolves once the server confirmed every change the provider sent (SyncStatus: committed). */
export function hocuspocusSaved(client: HocuspocusClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced && client.provider.unsyncedChanges === 0, `the server to confirm every change of ${client.provider.configuration.name}`, timeoutMs);
}
