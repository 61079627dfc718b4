import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { AccessFlags, CloseCode, MessageType } from '../../shared/protocol.js';

/** How the editor is connected to the server. */
export type Connection = 'connecting' | 'connected' | 'offline' | 'denied';

export interface EditorStatus {
  connection: Connection;
  /** The first sync with the server completed on the current connection. */
  synced: boolean;
  /** The server has committed every change this browser knows of ("all changes saved"). */
  saved: boolean;
  /** This browser has changes the server has not confirmed (kept in IndexedDB meanwhile). */
  unsavedChanges: boolean;
  /** The server accepts no changes from this connection (a read-only token). */
  readOnly: boolean;
  /** When `connection` is 'denied': the server's reason. */
  reason?: string;
}

export function statusLabel(status: EditorStatus): string {
  switch (status.connection) {
    case 'denied':
      return 'Access denied';
    case 'offline':
      return status.unsavedChanges ? 'Offline · changes kept on this device' : 'Offline';
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      if (!status.synced) return 'Syncing…';
      if (status.readOnly) return 'Read-only';
      return status.saved ? 'All changes saved' : 'Saving…';
  }
}

/** The status indicator: a coloured dot and a label (`data-connection`, `data-saved` for styling and tests). */
export function statusElement(): HTMLElement {
  const element = document.createElement('div');
  element.className = 'ce-status';
  element.setAttribute('role', 'status');
  element.setAttribute('aria-live', 'polite');
  const dot = document.createElement('span');
  dot.className = 'ce-status-dot';
  const text = document.createElement('span');
  text.className = 'ce-status-text';
  element.append(dot, text);
  return element;
}

export function renderStatus(element: HTMLElement, status: EditorStatus): void {
  element.dataset.connection = status.connection;
  element.dataset.saved = String(status.saved);
  element.querySelector('.ce-status-text')!.textContent = statusLabel(status);
  element.title =
    status.connection === 'offline'
      ? 'Not connected to the server. Your edits are kept in this browser and merge when the connection returns.'
      : status.connection === 'denied'
        ? `The server refused access: ${status.reason ?? ''}`
        : statusLabel(status);
}

/** True when the server's state vector covers every clock in the local one. */
export function covers(server: Map<number, number>, local: Map<number, number>): boolean {
  for (const [client, clock] of local) {
    if ((server.get(client) ?? 0) < clock) return false;
  }
  return true;
}

/**
 * Tracks the connection and the "saved" state of one provider. The server's SavedState extension
 * (message type 100) answers a subscription with the state vector of what it has committed, and
 * sends it again after each commit; comparing it with the local state vector tells whether the
 * server has everything.
 */
export class StatusTracker {
  private serverVector: Map<number, number> | null = null;
  private readOnly = false;
  private current: EditorStatus;
  private denied: { reason: string } | null = null;
  private everFailed = false;
  private readonly disposers: Array<() => void> = [];

  constructor(
    private readonly provider: WebsocketProvider,
    private readonly doc: Y.Doc,
    private readonly onChange: (status: EditorStatus) => void,
  ) {
    this.current = this.compute();
    provider.messageHandlers[MessageType.SavedState] = (_encoder, decoder) => {
      this.serverVector = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
      this.update();
    };
    provider.messageHandlers[MessageType.Access] = (_encoder, decoder) => {
      this.readOnly = (decoding.readVarUint(decoder) & AccessFlags.CanWrite) === 0;
      this.update();
    };
    const onStatus = ({ status }: { status: string }) => {
      if (status === 'connected') {
        this.denied = null;
        this.subscribe();
      }
      if (status === 'disconnected') this.everFailed = true;
      this.update();
    };
    const onClose = (event: CloseEvent | null) => {
      // A socket that closes before it ever opened (server unreachable, browser offline) does not
      // emit a 'disconnected' status; it counts as offline from then on.
      if (event !== null && !provider.wsconnected) this.everFailed = true;
      this.update();
    };
    const onClosed = (event: { code: number; reason: string }) => {
      if (event.code === CloseCode.Unauthorized || event.code === CloseCode.Forbidden) {
        this.denied = { reason: event.reason || (event.code === CloseCode.Unauthorized ? 'an access token is required' : 'access to this document is not allowed') };
      }
      this.update();
    };
    const onSync = () => this.update();
    const onDocUpdate = () => this.update();
    const onNetwork = () => this.update();
    provider.on('status', onStatus);
    provider.on('connection-close', onClose);
    provider.on('closed', onClosed);
    provider.on('sync', onSync);
    doc.on('update', onDocUpdate);
    window.addEventListener('online', onNetwork);
    window.addEventListener('offline', onNetwork);
    this.disposers.push(
      () => provider.off('status', onStatus),
      () => provider.off('connection-close', onClose),
      () => provider.off('closed', onClosed),
      () => provider.off('sync', onSync),
      () => doc.off('update', onDocUpdate),
      () => window.removeEventListener('online', onNetwork),
      () => window.removeEventListener('offline', onNetwork),
    );
    if (provider.wsconnected) this.subscribe();
  }

  get status(): EditorStatus {
    return this.current;
  }

  /** Marks access as refused (found out another way than a 44xx close, e.g. by asking the API). */
  deny(reason: string): void {
    this.denied = { reason };
    this.update();
  }

  /** Forget an access problem (e.g. after a new token was supplied). */
  clearDenied(): void {
    this.denied = null;
    this.update();
  }

  destroy(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }

  private subscribe(): void {
    const ws = this.provider.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MessageType.SavedState);
    ws.send(encoding.toUint8Array(encoder));
  }

  private compute(): EditorStatus {
    const local = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    const serverHasAll = this.serverVector !== null && covers(this.serverVector, local);
    let connection: Connection;
    if (this.denied) connection = 'denied';
    else if (this.provider.wsconnected) connection = 'connected';
    else if (this.everFailed || navigator.onLine === false) connection = 'offline';
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
    return status;
  }

  private update(): void {
    const next = this.compute();
    const prev = this.current;
    if (
      next.connection === prev.connection &&
      next.synced === prev.synced &&
      next.saved === prev.saved &&
      next.unsavedChanges === prev.unsavedChanges &&
      next.readOnly === prev.readOnly &&
      next.reason === prev.reason
    ) {
      return;
    }
    this.current = next;
    this.onChange(next);
  }
}
