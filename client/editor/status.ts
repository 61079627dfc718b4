/**
 * What the editor's status is and what it says. The state itself has one owner, StatusStore
 * (status-store.ts); everything that shows it (the indicator, the editor's notice, the host
 * page's `status` events, the workspace's token panel) only observes that store.
 */

/** How the editor is connected to the server. */
export type ConnectionState = 'connecting' | 'connected' | 'offline' | 'denied';

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
  /** When `connection` is 'denied': the server's reason. */
  reason?: string;
  /**
   * When connected: 'http' if WebSockets could not get through and the HTTP fallback carries the
   * connection (client/transport/fallback-websocket.ts); 'websocket' otherwise.
   */
  transport?: 'websocket' | 'http';
}

export function statusLabel(status: EditorStatus): string {
  switch (status.connection) {
    case 'denied':
      return 'Access denied';
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
    a.transport === b.transport
  );
}
