import { CloseCode } from '../../shared/protocol.js';
import { createFrameLimiter, type RateLimits } from '../limits/rate-limiter.js';
import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import { Connection, type ConnectionAccess, type SyncSocket } from './connection.js';
import { classifyEarlyFrame, type StoredStateAnswer } from './loading-stage.js';
import type { Room } from './room.js';
import { RoomLimitError, type RoomRegistry } from './room-registry.js';

export interface AcceptOptions {
  registry: RoomRegistry;
  metrics: SyncMetrics;
  logger: Logger;
  maxBufferedBytes: number;
  /** Frames and bytes per second per connection; a connection over them is closed with 4429. */
  rateLimits?: RateLimits;
}

/** What a transport calls for the life of one socket. */
export interface ConnectionHandle {
  readonly connection: Connection;
  receive(frame: Uint8Array): void;
  /** The socket is gone (closed by either side, or broken). */
  closed(): void;
}

/** Frames a client may send while its document is still loading; more is a flood. */
const MAX_QUEUED_FRAMES = 1_000;

/**
 * Binds a new socket to the room of `documentName`. Frames that arrive while the document loads
 * are queued and handled in order once it is ready; the exception is a sync step 1 of a client
 * that has nothing, answered from the stored bytes as soon as they are read (unless a frame
 * before it may change the document).
 */
export function acceptConnection(documentName: string, socket: SyncSocket, access: ConnectionAccess, options: AcceptOptions): ConnectionHandle {
  return new AcceptedConnection(documentName, socket, access, options);
}

/** A class rather than closures: thousands of idle connections each keep one of these. */
class AcceptedConnection implements ConnectionHandle {
  readonly connection: Connection;
  private readonly overLimit: ((bytes: number) => string | null) | null;
  private room: Room | null = null;
  private queue: Uint8Array[] | null = [];
  private gone = false;
  /** The stored state while the room loads, until a queued frame must reach the room first. */
  private storedState: StoredStateAnswer | null = null;
  /** Queued frames already looked at for an early answer (the ones passed over stay queued). */
  private scanned = 0;
  /** Until the client's sync step 1 is answered or can't be early, the decode may wait for it. */
  private mayAskEarly = true;

  constructor(
    documentName: string,
    private readonly socket: SyncSocket,
    access: ConnectionAccess,
    private readonly options: AcceptOptions,
  ) {
    this.connection = new Connection(socket, access, options.maxBufferedBytes);
    this.overLimit = options.rateLimits ? createFrameLimiter(options.rateLimits) : null;
    options.metrics.connections.inc();
    options.registry.acquire(documentName, (answer) => this.onStoredState(answer)).then(
      (loaded) => this.joinRoom(loaded),
      (error: unknown) => this.loadFailed(documentName, error),
    );
  }

  receive(frame: Uint8Array): void {
    const { connection } = this;
    const { metrics } = this.options;
    // Frames still arriving after the server closed the connection are not handled.
    if (connection.closed) return;
    const refusal = this.overLimit?.(frame.byteLength);
    if (refusal) {
      metrics.refused.inc({ reason: 'rate limit' });
      connection.close(CloseCode.TooManyRequests, refusal);
      return;
    }
    if (this.room) {
      this.room.receive(connection, frame);
    } else if (this.queue && this.queue.length < MAX_QUEUED_FRAMES) {
      this.queue.push(frame);
      this.answerFromStoredState();
    } else if (this.queue) {
      connection.close(CloseCode.TryAgainLater, 'too many frames before the document was ready');
    }
  }

  closed(): void {
    if (this.gone) return;
    this.gone = true;
    this.connection.markClosed();
    this.options.metrics.connections.dec();
    if (this.room) {
      this.room.leave(this.connection);
      this.options.registry.release(this.room);
    }
  }

  private joinRoom(loaded: Room): void {
    this.storedState = null;
    if (this.gone) {
      this.options.registry.release(loaded);
      return;
    }
    this.room = loaded;
    loaded.join(this.connection);
    const queued = this.queue ?? [];
    this.queue = null;
    for (const frame of queued) loaded.receive(this.connection, frame);
  }

  private loadFailed(documentName: string, error: unknown): void {
    if (error instanceof RoomLimitError) {
      this.options.metrics.refused.inc({ reason: 'documents loaded' });
      this.connection.close(CloseCode.TryAgainLater, error.message);
      return;
    }
    this.options.logger.error({ err: error, document: documentName }, 'could not load document');
    this.connection.close(CloseCode.StorageUnavailable, 'could not load the document; try again');
  }

  private onStoredState(answer: StoredStateAnswer): void {
    if (this.gone) return;
    this.storedState = answer;
    // The decode blocks the event loop: it waits until the answer is handed to the OS.
    answer.holdDecodeUntil(() => this.connection.closed || (!this.mayAskEarly && this.socket.bufferedAmount === 0));
    this.answerFromStoredState();
  }

  /** Answers queued requests for the full state from the stored bytes, as far as the frames before them allow. */
  private answerFromStoredState(): void {
    const { metrics } = this.options;
    while (this.storedState && this.queue && this.scanned < this.queue.length) {
      const frame = this.queue[this.scanned]!;
      const kind = classifyEarlyFrame(frame);
      if (kind === 'inert') {
        this.scanned++;
        continue;
      }
      // This client's sync step 1 is answered now, or has to wait for the room.
      this.mayAskEarly = false;
      const reply = kind === 'full-state-request' ? this.storedState.fullStateFrame() : null;
      if (!reply) {
        this.storedState = null;
        return;
      }
      this.queue.splice(this.scanned, 1);
      metrics.bytesIn.inc(frame.byteLength);
      metrics.messagesIn.inc({ type: 'sync-step1' });
      this.connection.send(reply);
    }
  }
}
