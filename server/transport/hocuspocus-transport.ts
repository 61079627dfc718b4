import type { RoomAttachment } from '../sync/room-attachment.js';
import type { SyncTransport } from '../sync/transport.js';

/** What a document's transport needs from the socket that multiplexes it (HocuspocusSocket). */
export interface HocuspocusCarrier {
  /** Sends a y-websocket message under `key`. */
  sendKeyed(key: string, message: Uint8Array): void;
  sendSyncStatus(key: string, applied: boolean): void;
  /** Ends this document (or the whole socket, when reconnecting is what the client must do). */
  closeDocument(transport: HocuspocusTransport, code: number, reason: string): void;
  readonly bufferedAmount: number;
  pauseReading(): void;
  resumeReading(): void;
}

function noop(): void {}

/**
 * One document of a Hocuspocus socket, as a SyncTransport: attached to its room by a
 * RoomAttachment like a WebSocket connection, so that validation, commit-before-relay, rate limits,
 * metrics and the admin listing treat it as one. It carries y-websocket messages; the socket adds
 * and removes the Hocuspocus key (hocuspocus-codec.ts). Pausing it pauses the socket, which is
 * what backpressure over one TCP connection can do: the socket's other documents wait too.
 * A class rather than closures: an idle socket with many documents keeps one per document.
 */
export class HocuspocusTransport implements SyncTransport {
  readonly kind = 'hocuspocus';
  /** Set right after construction; the room's side of this document. */
  attachment: RoomAttachment | null = null;
  /** Stops watching the token's expiry and revocation. */
  untrack: () => void = noop;
  private paused = false;
  private ended = false;

  constructor(
    private readonly socket: HocuspocusCarrier,
    /** The key the client addresses this document by (the name, or `name\0session`). */
    readonly key: string,
    readonly documentName: string,
  ) {}

  send(message: Uint8Array): void {
    if (!this.ended) this.socket.sendKeyed(this.key, message);
  }

  /** Hocuspocus' SyncStatus, sent by the room once the update is committed. */
  acknowledgeUpdate(applied: boolean): void {
    if (!this.ended) this.socket.sendSyncStatus(this.key, applied);
  }

  close(code: number, reason: string): void {
    if (!this.ended) this.socket.closeDocument(this, code, reason);
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  pause(): void {
    if (this.paused || this.ended) return;
    this.paused = true;
    this.socket.pauseReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resumeReading();
  }

  /** The document is detached or its socket closed: tells its room, once. */
  end(): void {
    if (this.ended) return;
    this.resume();
    this.ended = true;
    this.untrack();
    this.attachment?.transportClosed();
  }
}
