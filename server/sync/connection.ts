import { CloseCode } from '../../shared/protocol.js';

/** The little a room needs from a transport; WebSocket, tests and other transports implement it. */
export interface SyncSocket {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued for sending but not yet handed to the OS. */
  readonly bufferedAmount: number;
}

export interface ConnectionAccess {
  /** Who is connected, for logs; never a token. */
  subject: string;
  canWrite: boolean;
}

let nextConnectionId = 1;

/** One client's connection to one room: the socket plus what the room tracks about it. */
export class Connection {
  readonly id = nextConnectionId++;
  /** Awareness client ids this connection created; it may change or remove only these. */
  readonly awarenessClients = new Set<number>();
  /** Whether it asked for SavedState frames (our editor does; stock clients don't). */
  wantsSavedState = false;
  /** performance.now() of the last frame sent; rooms skip pure echoes to a connection that hears from us anyway. */
  lastSentAt = 0;
  private isClosed = false;

  constructor(
    private readonly socket: SyncSocket,
    readonly access: ConnectionAccess,
    private readonly maxBufferedBytes: number,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends a frame; a consumer too slow to keep its queue under the limit is closed instead. */
  send(frame: Uint8Array): void {
    if (this.isClosed) return;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(CloseCode.TryAgainLater, 'slow consumer: too many unsent bytes');
      return;
    }
    this.lastSentAt = performance.now();
    this.socket.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.close(code, reason);
  }

  /** Called by the transport when the socket is gone, however it went. */
  markClosed(): void {
    this.isClosed = true;
  }
}
