import * as encoding from 'lib0/encoding';
import type { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { CloseCode, MessageType } from '../../shared/protocol.js';
import { readAccess, readSavedState, writeSubscribeSaved } from '../../shared/saved-state.js';
import { FallbackWebSocket, type FallbackCloseEvent } from '../transport/fallback-websocket.js';
import { sameStatus, type ConnectionState, type EditorStatus } from './status.js';

/** Where the store learns about the network: the window's online/offline events and navigator.onLine. */
export interface NetworkSource {
  events: EventTarget;
  online(): boolean;
}

export interface StatusStoreOptions {
  provider: WebsocketProvider;
  doc: Y.Doc;
  /**
   * Asks the server, another way than the WebSocket, whether access is the problem; resolves to
   * its reason for refusing, or null when it did not refuse or could not be asked (access-probe.ts).
   */
  probeAccess?: () => Promise<string | null>;
  /** Defaults to the browser's window and navigator. */
  network?: NetworkSource;
}

/** Told the new status and the one before (so an observer can react to one field changing without keeping a copy). */
export type StatusListener = (status: EditorStatus, previous: EditorStatus) => void;

/** True when the server's state vector covers every clock in the local one. */
export function covers(server: Map<number, number>, local: Map<number, number>): boolean {
  for (const [client, clock] of local) {
    if ((server.get(client) ?? 0) < clock) return false;
  }
  return true;
}

function browserNetwork(): NetworkSource {
  return { events: window, online: () => navigator.onLine !== false };
}

/**
 * The one owner of an editor's connection, access and saved state. It alone listens to the
 * provider, the document and the network for them; the views (the status indicator, the editor's
 * notice and `editable`, the host page's `status` events, the workspace's token panel) subscribe
 * and render what it says, and change it only through its methods. destroy() removes every
 * listener and message handler it added.
 *
 * Saved: the server's SavedState extension (shared/saved-state.ts) answers a subscription with the
 * connection's access flags and the state vector of what it has committed, and sends that vector
 * again after each commit; the local state vector compared with it says whether the server has
 * everything. That is one state vector per local or remote update: O(clients that ever edited the
 * document), not O(document); about 7 µs with 10 such clients, 30 µs with 100 (Node 20, one core).
 *
 * Because it is the one listener for these events it also acts on two of them: the browser knows
 * about the network before the socket does, so going offline or online restarts the socket; and a
 * handshake that keeps failing without a close code (a browser reports a refused WebSocket upgrade,
 * 401/403, only as 1006) makes it ask `probeAccess` whether access, not the network, is the problem.
 */
export class StatusStore {
  private readonly provider: WebsocketProvider;
  private readonly doc: Y.Doc;
  private readonly network: NetworkSource;
  private readonly probeAccess: (() => Promise<string | null>) | undefined;
  private readonly listeners = new Set<StatusListener>();
  private readonly disposers: Array<() => void> = [];
  private serverVector: Map<number, number> | null = null;
  private readOnly = false;
  private denied: { reason: string } | null = null;
  /** The server closed for good for another reason than access (a 44xx close: bad name, deleted document...). */
  private refused: { code: number; reason: string } | null = null;
  /** A connection attempt failed or a connection was lost: from then on, not connected reads as offline. */
  private everFailed = false;
  /** The socket closed to reconnect over WebSocket (FallbackWebSocket), until the next one opens. */
  private switchingTransport = false;
  private destroyed = false;
  private current: EditorStatus;

  constructor(options: StatusStoreOptions) {
    const { provider, doc } = options;
    this.provider = provider;
    this.doc = doc;
    this.network = options.network ?? browserNetwork();
    this.probeAccess = options.probeAccess;
    this.current = this.compute();

    const handlers = provider.messageHandlers;
    const previousSaved = handlers[MessageType.SavedState];
    const previousAccess = handlers[MessageType.Access];
    handlers[MessageType.SavedState] = (_encoder, decoder) => {
      this.serverVector = Y.decodeStateVector(readSavedState(decoder));
      this.update();
    };
    handlers[MessageType.Access] = (_encoder, decoder) => {
      this.readOnly = !readAccess(decoder).canWrite;
      this.update();
    };
    this.disposers.push(() => {
      // y-websocket has no handlers of its own for these types: put back whatever was there.
      if (previousSaved) handlers[MessageType.SavedState] = previousSaved;
      else delete handlers[MessageType.SavedState];
      if (previousAccess) handlers[MessageType.Access] = previousAccess;
      else delete handlers[MessageType.Access];
    });

    const onStatus = ({ status }: { status: string }) => {
      if (status === 'connected') {
        this.denied = null;
        this.refused = null;
        this.askForSavedState();
      }
      // Moving from the HTTP fallback back to WebSocket is a reconnect, not a lost connection.
      if (status === 'disconnected' && !this.switchingTransport) this.everFailed = true;
      if (status === 'connected') this.switchingTransport = false;
      this.update();
    };
    const onConnectionClose = (event: CloseEvent | FallbackCloseEvent | null) => {
      this.switchingTransport = event !== null && 'switchingToWebSocket' in event && event.switchingToWebSocket === true;
      // `wsconnected` is still true here if this socket had opened. One that closes before it ever
      // opened (server unreachable, browser offline, upgrade refused) emits no 'disconnected'.
      const neverOpened = event !== null && !provider.wsconnected;
      if (neverOpened) this.everFailed = true;
      this.update();
      if (neverOpened && event.code === 1006) void this.checkAccess();
    };
    const onClosed = (event: { code: number; reason: string }) => {
      if (event.code === CloseCode.Unauthorized || event.code === CloseCode.Forbidden) {
        this.denied = { reason: event.reason || (event.code === CloseCode.Unauthorized ? 'an access token is required' : 'access to this document is not allowed') };
      } else {
        // y-websocket emits 'closed' only for closes it will not retry (4400–4499).
        this.refused = { code: event.code, reason: event.reason };
      }
      this.update();
    };
    const onChange = () => this.update();
    const onOffline = () => {
      this.update();
      // A socket over a link that just went down can look open for a long time; start over.
      if (provider.ws) this.reconnect();
    };
    const onOnline = () => {
      this.update();
      if (!provider.wsconnected) this.reconnect();
    };
    provider.on('status', onStatus);
    provider.on('connection-close', onConnectionClose);
    provider.on('closed', onClosed);
    provider.on('sync', onChange);
    doc.on('update', onChange);
    this.network.events.addEventListener('offline', onOffline);
    this.network.events.addEventListener('online', onOnline);
    this.disposers.push(
      () => provider.off('status', onStatus),
      () => provider.off('connection-close', onConnectionClose),
      () => provider.off('closed', onClosed),
      () => provider.off('sync', onChange),
      () => doc.off('update', onChange),
      () => this.network.events.removeEventListener('offline', onOffline),
      () => this.network.events.removeEventListener('online', onOnline),
    );
    if (provider.wsconnected) this.askForSavedState();
  }

  get status(): EditorStatus {
    return this.current;
  }

  /** Calls `listener` after every change (not now: read `status` for the current one). Returns the unsubscribe function. */
  subscribe(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets a refusal and connects again, e.g. with a new token in `provider.protocols`, or once a deleted document was created again. */
  retry(): void {
    this.denied = null;
    this.refused = null;
    this.update();
    this.provider.disconnect();
    this.provider.connect();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const dispose of this.disposers.splice(0)) dispose();
    this.listeners.clear();
  }

  private reconnect(): void {
    if (!this.provider.shouldConnect) return; // stopped (destroyed, or access denied)
    this.provider.disconnect();
    this.provider.connect();
  }

  private async checkAccess(): Promise<void> {
    if (!this.probeAccess || !this.network.online()) return;
    const reason = await this.probeAccess();
    if (reason === null || this.destroyed || this.provider.wsconnected) return;
    this.provider.disconnect(); // stop retrying until retry()
    this.denied = { reason };
    this.update();
  }

  /** Asks the server for SavedState frames on the connection that just opened. */
  private askForSavedState(): void {
    const ws = this.provider.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    const encoder = encoding.createEncoder();
    writeSubscribeSaved(encoder);
    ws.send(encoding.toUint8Array(encoder));
  }

  private compute(): EditorStatus {
    const local = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    const serverHasAll = this.serverVector !== null && covers(this.serverVector, local);
    let connection: ConnectionState;
    if (this.denied) connection = 'denied';
    else if (this.refused) connection = 'refused';
    else if (this.provider.wsconnected) connection = 'connected';
    else if (this.everFailed || !this.network.online()) connection = 'offline';
    else connection = 'connecting';
    const synced = connection === 'connected' && this.provider.synced;
    const status: EditorStatus = {
      connection,
      synced,
      saved: synced && serverHasAll,
      // Before the server ever answered, an empty document has nothing unsaved.
      unsavedChanges: !this.readOnly && !serverHasAll && (this.serverVector !== null || local.size > 0),
      readOnly: this.readOnly,
    };
    if (this.denied) status.reason = this.denied.reason;
    else if (this.refused) {
      if (this.refused.reason) status.reason = this.refused.reason;
      status.closeCode = this.refused.code;
    }
    // The socket's transport is fixed once it is open; a switch is a reconnect (status events).
    if (connection === 'connected') status.transport = this.provider.ws instanceof FallbackWebSocket && this.provider.ws.transport === 'http' ? 'http' : 'websocket';
    return status;
  }

  private update(): void {
    if (this.destroyed) return;
    const next = this.compute();
    const previous = this.current;
    if (sameStatus(next, previous)) return;
    this.current = next;
    for (const listener of [...this.listeners]) listener(next, previous);
  }
}
