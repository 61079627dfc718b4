/**
 * What the editor's status is and what it says. The state itself has one owner, StatusStore
 * (status-store.ts); everything that shows it (the indicator, the editor's notice, the host
 * page's `status` events, the workspace's token panel) only observes that store.
 */

import { CloseCode } from '../../shared/protocol.js';

/**
 * How the editor is connected to the server. 'denied': access was refused (4401/4403, or a
 * refused handshake); a new token may help. 'refused': the server closed for good for another
 * reason (4400 an invalid name, 4404 a deleted document, 4429 too many messages...): nothing typed
 * here would ever reach it.
 */
export type ConnectionState = 'connecting' | 'connected' | 'offline' | 'denied' | 'refused';

export interface EditorStatus {
  connection: ConnectionState;
  /** The first sync with the server completed on the current connection. */
  synced: boolean;
  /** The server has committed every change this browser knows of ("all changes saved"). */
  saved: boolean;
  /** This browser has changes the server has not confirmed (kept in IndexedDB meanwhile). */
  unsavedChanges: boolean;
  /** The server accepts no changes from this connection (a read-only token). */
  readOnly: boolean;
  /** When `connection` is 'denied' or 'refused': the server's reason. */
  reason?: string;
  /** When `connection` is 'refused': the close code (CloseCode). */
  closeCode?: number;
  /**
   * When connected: 'http' if WebSockets could not get through and the HTTP fallback carries the
   * connection (client/transport/fallback-websocket.ts); 'websocket' otherwise.
   */
  transport?: 'websocket' | 'http';
}

/**
 * False when changes made now could never be saved: a read-only connection, or one the server
 * refused (until a retry). Offline is not such a state: those edits are kept and merged later.
 */
export function canEdit(status: EditorStatus): boolean {
  return !status.readOnly && status.connection !== 'denied' && status.connection !== 'refused';
}

/** What a refusal means to a person: what happened, in a few words (the label), and what to do. */
export function refusalText(status: EditorStatus): { label: string; message: string } | null {
  // The server's reason in brackets, unless it only repeats what the sentence says ("document deleted").
  const repeats = status.reason !== undefined && status.closeCode === CloseCode.NotFound && status.reason.toLowerCase() === 'document deleted';
  const reason = status.reason && !repeats ? ` (${status.reason})` : '';
  if (status.connection === 'denied') {
    return {
      label: 'Access denied',
      message: `The server refused access to this document${reason}. Editing is off: nothing typed here could be saved. Use an access token that grants this document, or ask its owner for one.`,
    };
  }
  if (status.connection !== 'refused') return null;
  switch (status.closeCode) {
    case CloseCode.BadRequest:
      return {
        label: 'Not a valid document name',
        message: `The server does not accept this document's name${reason}. Editing is off: nothing typed here could be saved. Open the document under another name.`,
      };
    case CloseCode.NotFound:
      return {
        label: 'Document deleted',
        message: `This document was deleted${reason}. Editing is off: nothing typed here could be saved. Create it again under this name (from the copy this device kept), or open another document.`,
      };
    case CloseCode.TooManyRequests:
      return {
        label: 'Disconnected: too many changes',
        message: `The server closed the connection${reason}. Editing is off until you reconnect; what you typed so far is kept on this device. Reconnect in a moment.`,
      };
    default:
      return {
        label: 'Refused by the server',
        message: `The server closed the connection and asked not to reconnect${reason}. Editing is off: nothing typed here could be saved. Reload the page to try again.`,
      };
  }
}

export function statusLabel(status: EditorStatus): string {
  switch (status.connection) {
    case 'denied':
    case 'refused':
      return refusalText(status)!.label;
    case 'offline':
      return status.unsavedChanges ? 'Offline · changes kept on this device' : 'Offline';
    case 'connecting':
      return 'Connecting…';
    case 'connected': {
      const label = !status.synced ? 'Syncing…' : status.readOnly ? 'Read-only' : status.saved ? 'All changes saved' : 'Saving…';
      return status.transport === 'http' ? `${label} (HTTP)` : label;
    }
  }
}

/** True when the two would look and read the same: observers are told only about a change. */
export function sameStatus(a: EditorStatus, b: EditorStatus): boolean {
  return (
    a.connection === b.connection &&
    a.synced === b.synced &&
    a.saved === b.saved &&
    a.unsavedChanges === b.unsavedChanges &&
    a.readOnly === b.readOnly &&
    a.reason === b.reason &&
    a.closeCode === b.closeCode &&
    a.transport === b.transport
  );
}
