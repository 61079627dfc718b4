import { encodeStreamRecord } from '../../shared/http-frames.js';
import type { Slot } from '../limits/connection-limiter.js';
import type { RoomAttachment } from '../sync/room-attachment.js';
import type { SyncTransport } from '../sync/transport.js';

function noop(): void {}

/** The response stream a session writes to, while the client holds it open. */
interface StreamState {
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  /** The response asked for more (pull) and has not been given any yet. */
  wanted: boolean;
  openedAt: number;
  lastWriteAt: number;
  /** Close after writing what is queued. */
  ending: boolean;
}

/**
 * One HTTP fallback client's session on this instance: the SyncTransport its room talks to.
 *
 * Server → client, messages go into the response stream the client holds open (op=stream); while
 * it holds none here (between streams, or streaming from another instance) they are dropped:
 * the client's next stream, wherever it lands, starts from its cursor with everything it lacks
 * (see http-sync.ts), so nothing is kept for a client that may never come back to this instance.
 * Client → server, numbered messages (op=send) are handed to the RoomAttachment in order, each
 * once (`nextSeq`); a paused session (over its rate) holds the request until resumed.
 *
 * A class rather than closures: thousands of idle sessions each keep one.
 */
export class HttpSession implements SyncTransport {
  readonly kind = 'http';
  attachment: RoomAttachment | null = null;
  /** Stops watching the token's expiry and revocation. */
  untrack: () => void = noop;
  /** performance.now() of the client's last request to this instance. */
  lastSeen = performance.now();
  /** Sequence number of the first message this instance has not handled yet. */
  nextSeq = 0;
  /** Message batches are handled one at a time: a retry that overlaps its original waits for it. */
  inbound: Promise<unknown> = Promise.resolve();
  /** Set once closed, by either side. */
  closed: { code: number; reason: string } | null = null;
  private stream: StreamState | null = null;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  /** While a new stream's catch-up is prepared: what is sent meanwhile waits behind it. */
  private holding = false;
  private paused = false;
  private resumeWaiters: Array<() => void> = [];

  constructor(
    readonly id: string,
    readonly document: string,
    readonly subject: string,
    /** The connection limiter's place, freed when the session closes. */
    readonly slot: Slot,
    private readonly onClosed: (session: HttpSession) => void,
  ) {}

  send(message: Uint8Array): void {
    if (this.closed || !this.stream) return;
    this.enqueue(encodeStreamRecord({ kind: 'message', message }));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    if (this.stream) {
      this.holding = false;
      this.enqueue(encodeStreamRecord({ kind: 'close', code, reason }));
      this.stream.ending = true;
      this.wake();
    }
    this.releaseWaiters();
    // As a WebSocket's `close` event: after the caller (often the room, iterating) is done.
    queueMicrotask(() => this.onClosed(this));
  }

  /** Bytes queued for the current stream and not yet taken by the HTTP response. */
  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.releaseWaiters();
  }

  /** Resolves when the session may be read again (at once unless paused for its rate). */
  readable(): Promise<void> | null {
    if (!this.paused || this.closed) return null;
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  get streaming(): boolean {
    return this.stream !== null;
  }

  /**
   * Starts a new stream, ending the one before (its client gave up on it), and holds what is sent
   * until release() puts the stream's catch-up in front. Returns the response body.
   */
  openStream(): ReadableStream<Uint8Array> {
    this.endStream();
    this.queue = [];
    this.queuedBytes = 0;
    this.holding = true;
    const now = performance.now();
    const state: StreamState = { controller: null, wanted: false, openedAt: now, lastWriteAt: now, ending: false };
    this.stream = state;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          state.controller = controller;
        },
        pull: () => {
          state.wanted = true;
          this.write(state);
        },
        cancel: () => this.detach(state),
      },
      // Nothing is pulled ahead: queued bytes stay countable (bufferedAmount) until the socket takes them.
      { highWaterMark: 0 },
    );
  }

  /** The catch-up is ready: `records` go first, then whatever was sent meanwhile. */
  release(records: Uint8Array[]): void {
    if (!this.stream || this.closed) return;
    this.holding = false;
    this.queue.unshift(...records);
    for (const record of records) this.queuedBytes += record.byteLength;
    this.wake();
  }

  /** Ends the current stream once what is queued is written (the client opens the next one). */
  endStream(): void {
    const state = this.stream;
    if (!state) return;
    state.ending = true;
    this.stream = null;
    this.write(state);
  }

  /**
   * Upkeep, called every few seconds for every session: a heartbeat into a stream that has been
   * quiet for `heartbeatMs`, the end of a stream older than `maxStreamMs`. Returns whether the
   * session is idle: no stream and no request for `idleMs`.
   */
  tick(now: number, limits: { heartbeatMs: number; maxStreamMs: number; idleMs: number }): boolean {
    const state = this.stream;
    if (!state) return now - this.lastSeen > limits.idleMs;
    this.lastSeen = now;
    if (now - state.openedAt > limits.maxStreamMs) this.endStream();
    else if (!this.holding && this.queue.length === 0 && now - state.lastWriteAt > limits.heartbeatMs) this.enqueue(encodeStreamRecord({ kind: 'heartbeat' }));
    return false;
  }

  private enqueue(record: Uint8Array): void {
    this.queue.push(record);
    this.queuedBytes += record.byteLength;
    if (!this.holding) this.wake();
  }

  private wake(): void {
    if (this.stream) this.write(this.stream);
  }

  /**
   * Hands what is queued to the response if it asked for more (a pull-based stream: what the
   * socket has not taken stays in the queue, counted by bufferedAmount); ends a stream that is
   * ending once its queue is written.
   */
  private write(state: StreamState): void {
    if (!state.wanted || !state.controller) return;
    const current = state === this.stream || (state.ending && this.stream === null);
    if (current && !this.holding && this.queue.length > 0) {
      const chunk = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
      this.queue = [];
      this.queuedBytes = 0;
      state.lastWriteAt = performance.now();
      state.wanted = false;
      state.controller.enqueue(chunk);
      if (state.ending) this.finish(state);
      return;
    }
    if (state.ending || !current) this.finish(state);
  }

  private finish(state: StreamState): void {
    closeQuietly(state.controller!);
    this.detach(state);
  }

  /** The client went away from this stream (or it ended). */
  private detach(state: StreamState): void {
    if (this.stream !== state) return;
    this.stream = null;
    this.queue = [];
    this.queuedBytes = 0;
    this.lastSeen = performance.now();
  }

  private releaseWaiters(): void {
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // already closed or errored (the client went away)
  }
}
