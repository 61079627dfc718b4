import { CloseCode } from '../../shared/protocol.js';
import { RateLimiter, type RateLimits } from '../limits/rate-limiter.js';
import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import { Connection, type ConnectionAccess } from './connection.js';
import { classifyEarlyFrame, type StoredStateAnswer } from './loading-stage.js';
import type { ProtocolLog } from './protocol-log.js';
import type { Room } from './room.js';
import { DocumentDeletedError } from '../storage/types.js';
import { RoomLimitError, type RoomRegistry } from './room-registry.js';
import type { SyncTransport } from './transport.js';

export interface AttachOptions {
  registry: RoomRegistry;
  metrics: SyncMetrics;
  logger: Logger;
  maxBufferedBytes: number;
  /**
   * Frames and bytes per second per connection. A connection over them is no longer read until
   * it is back within them (see RateLimiter); one that stays over is closed with 4429.
   */
  rateLimits?: RateLimits;
  /** LOG_PROTOCOL: frames of matching documents are summarised in the log. */
  protocolLog?: ProtocolLog | null;
}

/** Frames a client may send while its document is still loading; more is a flood. */
const MAX_QUEUED_FRAMES = 1_000;

/**
 * Attaches one transport to the room of its document, for the life of the transport: the
 * transport hands it every message (`receive`) and says when it is gone (`transportClosed`).
 * Messages are paced by the rate limits (the transport is paused while the client is over them).
 * Those that arrive while the document loads are queued and handled in order once it is ready;
 * the exception is a sync step 1 of a client that has nothing, answered from the stored bytes as
 * soon as they are read (unless a frame before it may change the document).
 *
 * A class rather than closures: thousands of idle connections each keep one of these.
 */
export class RoomAttachment {
  readonly connection: Connection;
  private readonly rate: RateLimiter | null;
  /** Set while the transport is paused for being over the rate limits. */
  private resumeTimer: NodeJS.Timeout | null = null;
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
    private readonly transport: SyncTransport,
    access: ConnectionAccess,
    private readonly options: AttachOptions,
  ) {
    this.connection = new Connection(transport, access, options.maxBufferedBytes);
    this.connection.frameLog = options.protocolLog?.forDocument(documentName) ?? null;
    this.rate = options.rateLimits ? RateLimiter.create(options.rateLimits) : null;
    options.metrics.connections.inc();
    void this.attach(documentName);
  }

  /** The room once the connection joined it; null while the document loads (or if it failed to). */
  get joinedRoom(): Room | null {
    return this.room;
  }

  receive(frame: Uint8Array): void {
    const { connection } = this;
    // Frames still arriving after the server closed the connection are not handled.
    if (connection.closed) return;
    if (this.rate && !this.paced(frame)) return;
    connection.received(frame);
    if (this.room) {
      this.room.receive(connection, frame);
    } else if (this.queue && this.queue.length < MAX_QUEUED_FRAMES) {
      this.queue.push(frame);
      this.answerFromStoredState();
    } else if (this.queue) {
      connection.close(CloseCode.TryAgainLater, 'too many frames before the document was ready');
    }
  }

  /** The transport is gone (closed by either side, or broken). */
  transportClosed(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
    this.connection.markClosed();
    this.options.metrics.connections.dec();
    if (this.room) {
      this.room.leave(this.connection);
      this.options.registry.release(this.room);
    }
  }

  /** Waits for the room, answering from its stored state meanwhile if it can, then joins it. */
  private async attach(documentName: string): Promise<void> {
    const load = this.options.registry.acquire(documentName);
    const answer = await load.storedState;
    if (answer && !this.gone) this.answerEarly(answer);
    let room: Room;
    try {
      room = await load.room;
    } catch (error) {
      this.loadFailed(documentName, error);
      return;
    }
    this.joinRoom(room);
  }

  /**
   * Counts a frame against the rate limits: false if the connection is closed for it; a
   * connection over them stops being read until its buckets have refilled (the frame, read
   * already, is still handled).
   */
  private paced(frame: Uint8Array): boolean {
    const verdict = this.rate!.account(frame.byteLength);
    if (!verdict) return true;
    if ('refusal' in verdict) {
      this.options.metrics.refused.inc({ reason: 'rate limit' });
      this.connection.close(CloseCode.TooManyRequests, verdict.refusal);
      return false;
    }
    if (!this.resumeTimer) {
      this.options.metrics.readsPaused.inc();
      this.transport.pause();
      this.resumeTimer = setTimeout(() => this.resumeReading(), verdict.pauseMs);
    }
    return true;
  }

  /** Reads the transport again once the buckets allow (frames read after the pause may have added to them). */
  private resumeReading(): void {
    const wait = this.rate!.resumeDelay();
    if (wait > 0 && !this.connection.closed) {
      this.resumeTimer = setTimeout(() => this.resumeReading(), wait);
      return;
    }
    this.resumeTimer = null;
    this.rate!.resumed();
    this.transport.resume();
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
    if (error instanceof DocumentDeletedError) {
      // A client still holding a deleted document (a stock client reconnects by itself): it must
      // not bring the document back, and is told why.
      this.options.metrics.refused.inc({ reason: 'deleted document' });
      this.connection.close(CloseCode.NotFound, 'document deleted');
      return;
    }
    if (error instanceof RoomLimitError) {
      this.options.metrics.refused.inc({ reason: 'documents loaded' });
      this.connection.close(CloseCode.TryAgainLater, error.message);
      return;
    }
    this.options.logger.error({ err: error, document: documentName }, 'could not load document');
    this.connection.close(CloseCode.StorageUnavailable, 'could not load the document; try again');
  }

  private answerEarly(answer: StoredStateAnswer): void {
    this.storedState = answer;
    // The decode blocks the event loop: it waits until the answer is handed to the OS.
    answer.holdDecodeUntil(() => this.connection.closed || (!this.mayAskEarly && this.transport.bufferedAmount === 0));
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
