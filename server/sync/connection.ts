import { CloseCode } from '../../shared/protocol.js';
import type { FrameLog } from './protocol-log.js';
import type { SyncTransport, TransportKind } from './transport.js';

export interface ConnectionAccess {
  /** Who is connected, for logs; never a token. */
  subject: string;
  canWrite: boolean;
}

let nextConnectionId = 1;

/** What a connection that announced no awareness state holds (most idle ones): shared, never changed. */
const NO_AWARENESS_CLIENTS: ReadonlySet<number> = new Set();

/**
 * One client's connection to one room, as the room sees it: who it is, what the room tracks
 * about it, and sending to it. Its transport carries the bytes (SyncTransport); its
 * RoomAttachment (room-attachment.ts) brings the client's messages to the room.
 */
export class Connection {
  readonly id = nextConnectionId++;
  /**
   * Awareness client ids this connection created; it may change or remove only these. Made on its
   * first id: an empty Set costs 152 bytes, which a connection that never shows presence (a
   * viewer, a script) would keep for its whole life.
   */
  private ownedAwarenessClients: Set<number> | null = null;
  /** Whether it asked for SavedState frames (our editor does; stock clients don't). */
  wantsSavedState = false;
  /** performance.now() of the last frame sent; rooms skip pure echoes to a connection that hears from us anyway. */
  lastSentAt = 0;
  /** When it connected (ms since the epoch), and what it sent and was sent: the admin listing's figures. */
  readonly connectedAt = Date.now();
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  /** Set when LOG_PROTOCOL matches its document: every frame both ways is summarised in the log. */
  frameLog: FrameLog | null = null;
  private isClosed = false;

  constructor(
    private readonly transport: SyncTransport,
    readonly access: ConnectionAccess,
    private readonly maxBufferedBytes: number,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** The awareness client ids this connection owns (AwarenessRelay decides which). */
  get awarenessClients(): ReadonlySet<number> {
    return this.ownedAwarenessClients ?? NO_AWARENESS_CLIENTS;
  }

  ownAwarenessClient(clientId: number): void {
    (this.ownedAwarenessClients ??= new Set()).add(clientId);
  }

  disownAwarenessClient(clientId: number): void {
    const owned = this.ownedAwarenessClients;
    if (owned?.delete(clientId) && owned.size === 0) this.ownedAwarenessClients = null;
  }

  disownAllAwarenessClients(): void {
    this.ownedAwarenessClients = null;
  }

  get transportKind(): TransportKind {
    return this.transport.kind;
  }

  /** The client's address as the connection limits count it (X-Forwarded-For with TRUST_PROXY), if the transport knows it. */
  get remoteAddress(): string | null {
    return this.transport.remoteAddress ?? null;
  }

  /** Bytes queued for this client and not yet handed to the OS. */
  get queuedBytes(): number {
    return this.transport.bufferedAmount;
  }

  /**
   * Counts a frame the client sent (told by its RoomAttachment for every frame it accepts,
   * whatever the transport): two additions, no allocation.
   */
  received(frame: Uint8Array): void {
    this.messagesIn++;
    this.bytesIn += frame.byteLength;
    this.frameLog?.frame(this.id, 'in', frame);
  }

  /** Sends a frame; a consumer too slow to keep its queue under the limit is closed instead. */
  send(frame: Uint8Array): void {
    if (this.isClosed) return;
    if (this.transport.bufferedAmount > this.maxBufferedBytes) {
      this.close(CloseCode.TryAgainLater, 'slow consumer: too many unsent bytes');
      return;
    }
    this.lastSentAt = performance.now();
    this.messagesOut++;
    this.bytesOut += frame.byteLength;
    this.frameLog?.frame(this.id, 'out', frame);
    this.transport.send(frame);
  }

  /** Whether its protocol confirms each update (SyncTransport.acknowledgeUpdate). */
  get acknowledgesUpdates(): boolean {
    return this.transport.acknowledgeUpdate !== undefined;
  }

  /** Confirms (or refuses) one update to the client; see SyncTransport.acknowledgeUpdate. */
  acknowledgeUpdate(applied: boolean): void {
    if (!this.isClosed) this.transport.acknowledgeUpdate?.(applied);
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.transport.close(code, reason);
  }

  /** The transport is gone, however it went (told by the RoomAttachment). */
  markClosed(): void {
    this.isClosed = true;
  }
}
