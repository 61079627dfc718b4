import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { SESSION_HEADER, readStreamRecord, writeMessageBatch, writeStateVector, writeStreamRequest, type StreamRecord } from '../../shared/http-frames.js';
import { CloseCode, MessageType, SyncMessageType } from '../../shared/protocol.js';

export interface HttpConnectionOptions {
  /** `http(s)://host/sync/<document>[?params]`, without a token. */
  url: string;
  /** Sent as `Authorization: Bearer`; null to rely on the cookie (same origin) or an open server. */
  token: string | null;
  fetch: typeof fetch;
}

export interface HttpConnectionEvents {
  /** A y-websocket message from the server. */
  message(message: Uint8Array): void;
  /** The session ended for good (refused, closed by the server, or unreachable): as a WebSocket close. */
  close(code: number, reason: string): void;
}

/**
 * A stream that hears nothing this long is given up and reopened. Heartbeats come every 15 s, and
 * the server ends a stream after 50 s: longer than that, so that through a proxy that buffers
 * whole responses each one still arrives, whole, when it ends.
 */
const STREAM_SILENCE_MS = 65_000;
/** A request that gets no answer this long is retried (the server answers a send once it committed). */
const SEND_TIMEOUT_MS = 30_000;
/** Consecutive failures of streams or sends before the connection is reported closed (1006). */
const MAX_FAILURES = 4;
/**
 * Send requests at once. More would spare an edit made while the previous request is on its way
 * its wait for that answer, but measured with 5 writers at 20 edits/s each, 4 at once doubled the
 * median latency (each request carries everything unanswered, and they compete for the server).
 */
const MAX_IN_FLIGHT = 1;
/** Messages per request are bounded by bytes (the server takes MAX_MESSAGE_BYTES plus framing). */
const MAX_BATCH_BYTES = 1024 * 1024;
/** Closes that end this instance's session but not the client's: the next stream starts afresh, anywhere. */
const TRANSIENT_CLOSES: ReadonlySet<number> = new Set([CloseCode.GoingAway, CloseCode.ServiceRestart]);
/** An empty state vector: what a client without a sync step 1 of its own asks from. */
const EMPTY_STATE_VECTOR = new Uint8Array([0]);

function backoffMs(failures: number): number {
  return Math.min(250 * 2 ** failures, 5_000) * (0.8 + Math.random() * 0.4);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

type Refusal = { retry: true } | { retry: false; code: number; reason: string };

/** What an error answer means for the session: retry (a passing condition), or the close it amounts to. */
async function refusalOf(response: Response): Promise<Refusal> {
  let body: { error?: unknown; code?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON (a proxy's page)
  }
  const reason = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
  switch (response.status) {
    case 410: {
      const code = typeof body.code === 'number' ? body.code : CloseCode.Normal;
      return TRANSIENT_CLOSES.has(code) ? { retry: true } : { retry: false, code, reason };
    }
    case 401:
      return { retry: false, code: CloseCode.Unauthorized, reason };
    case 403:
      return { retry: false, code: CloseCode.Forbidden, reason };
    case 400:
    case 409:
    case 413:
      return { retry: false, code: CloseCode.BadRequest, reason };
    default:
      // 404 (no fallback there, or a proxy), 429, 5xx: may pass.
      return { retry: true };
  }
}

/**
 * One HTTP fallback session with the server (server/http/http-sync.ts), seen from the client: a
 * stream of the server's messages that is reopened whenever it ends or breaks, and numbered
 * client messages sent one request at a time, each retried until acknowledged.
 *
 * The provider's first sync step 1 is not sent: its state vector becomes the cursor the first
 * stream starts from (the server answers it there, with sync step 2). Each stream ends with a
 * new cursor, so the next one, on any instance, starts from what this client has.
 */
export class HttpConnection {
  readonly sessionId = randomSessionId();
  private cursor: Uint8Array | null = null;
  private savedState = false;
  private started = false;
  private ended = false;
  private readonly outbox: Array<{ seq: number; message: Uint8Array }> = [];
  private nextSeq = 0;
  /** Messages below this number are in a request already (in flight or answered). */
  private sentUpTo = 0;
  private inFlight = 0;
  /** Consecutive failed sends; waiting out a backoff before sending again. */
  private failures = 0;
  private retrying = false;
  private stream: AbortController | null = null;
  /**
   * Clocks by client id of the edits this client's messages may build on: those it received, and
   * its own once acknowledged. Sent with each request (`after`): the instance it reaches waits
   * until it has them (server/http/http-sync.ts).
   */
  private readonly known = new Map<number, number>();

  constructor(
    private readonly options: HttpConnectionOptions,
    private readonly events: HttpConnectionEvents,
  ) {}

  /**
   * Asks the server whether this session may start (an empty send: Origin, token, document grant
   * and connection limits are checked as for a WebSocket upgrade). Resolves true if it may; false
   * once it reported the close (a refusal says why, with the WebSocket close code it amounts to).
   */
  async open(): Promise<boolean> {
    let refusal: Refusal;
    try {
      const response = await this.post('send', this.batchBody([]), false, AbortSignal.timeout(SEND_TIMEOUT_MS));
      if (response.ok) return !this.ended;
      refusal = await refusalOf(response);
    } catch {
      refusal = { retry: true };
    }
    if (refusal.retry) this.fail(1006, 'the server cannot be reached over HTTP');
    else this.fail(refusal.code, refusal.reason);
    return false;
  }

  /** Opens the first stream (after the provider's `onopen` sent its sync step 1 and awareness). */
  start(): void {
    if (this.started || this.ended) return;
    this.started = true;
    void this.streamLoop();
    this.flush();
  }

  send(message: Uint8Array): void {
    if (this.ended) return;
    const kind = messageKind(message);
    if (this.cursor === null && kind.stepOne) {
      this.cursor = kind.stepOne;
      return;
    }
    if (kind.type === MessageType.SavedState) {
      this.savedState = true;
      // Every new stream asks for it; one already open gets it from this message.
      if (!this.started) return;
    }
    this.outbox.push({ seq: this.nextSeq++, message });
    if (this.started) this.flush();
  }

  /** Unsent bytes (what the provider would read as `bufferedAmount`). */
  get bufferedAmount(): number {
    let bytes = 0;
    for (const { message } of this.outbox) bytes += message.byteLength;
    return bytes;
  }

  /** The client closes: what is unsent goes out once more, then the server is told (both best effort). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.abort();
    const pending = this.outbox.splice(0);
    const last = pending.length > 0 ? this.post('send', this.batchBody(pending), true).catch(() => null) : Promise.resolve(null);
    void last.then(() => this.post('close', new Uint8Array(0), true)).catch(() => {});
  }

  private fail(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.abort();
    this.events.close(code, reason);
  }

  private post(op: 'stream' | 'send' | 'close', body: Uint8Array, keepalive = false, signal?: AbortSignal): Promise<Response> {
    const url = new URL(this.options.url);
    url.searchParams.set('op', op);
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', [SESSION_HEADER]: this.sessionId };
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    const init: RequestInit & { cache?: 'no-store' } = {
      method: 'POST',
      headers,
      body: body as unknown as RequestInit['body'],
      cache: 'no-store',
      credentials: 'same-origin',
      // A browser sends a keepalive request even while the page unloads (up to 64 KiB).
      keepalive: keepalive && body.byteLength < 60_000,
      ...(signal && { signal }),
    };
    return this.options.fetch(url, init);
  }

  private batchBody(messages: ReadonlyArray<{ seq: number; message: Uint8Array }>): Uint8Array {
    const after = encoding.createEncoder();
    writeStateVector(after, this.known);
    const encoder = encoding.createEncoder();
    writeMessageBatch(encoder, { firstSeq: messages[0]?.seq ?? this.nextSeq, after: encoding.toUint8Array(after), messages: messages.map((entry) => entry.message) });
    return encoding.toUint8Array(encoder);
  }

  /** Counts the edits of a sync message in `known` (each client's highest clock). */
  private learn(message: Uint8Array): void {
    const update = syncUpdateOf(message);
    if (!update) return;
    let clocks: Map<number, number>;
    try {
      // The clock after each client's last item (encodeStateVectorFromUpdate counts only from 0).
      clocks = Y.parseUpdateMeta(update).to;
    } catch {
      return; // not readable: the server refuses it, or it was never a valid update
    }
    for (const [client, clock] of clocks) if ((this.known.get(client) ?? 0) < clock) this.known.set(client, clock);
  }

  /**
   * Sends what is new in the outbox, MAX_IN_FLIGHT requests at a time. Every request carries all
   * messages not yet acknowledged, from the oldest: whichever instance it reaches has everything
   * before its new messages (the server skips the numbers it handled), and a delayed or retried
   * request can arrive in any order. A failed request is retried, with everything unacknowledged.
   */
  private flush(): void {
    while (!this.ended && !this.retrying && this.inFlight < MAX_IN_FLIGHT) {
      const first = this.outbox[0];
      const newest = this.outbox[this.outbox.length - 1];
      if (!first || !newest || newest.seq < this.sentUpTo) return;
      let bytes = 0;
      let count = 0;
      while (count < this.outbox.length && (count === 0 || bytes + this.outbox[count]!.message.byteLength <= MAX_BATCH_BYTES)) bytes += this.outbox[count++]!.message.byteLength;
      const batch = this.outbox.slice(0, count);
      // What is unacknowledged already fills a request: wait for answers first.
      if (batch[batch.length - 1]!.seq < this.sentUpTo) return;
      this.sentUpTo = batch[batch.length - 1]!.seq + 1;
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async sendBatch(batch: ReadonlyArray<{ seq: number; message: Uint8Array }>): Promise<void> {
    let refusal: Refusal;
    try {
      const response = await this.post('send', this.batchBody(batch), false, AbortSignal.timeout(SEND_TIMEOUT_MS));
      if (response.ok) {
        const { next } = (await response.json()) as { next: number };
        while (this.outbox.length > 0 && this.outbox[0]!.seq < next) this.learn(this.outbox.shift()!.message);
        this.failures = 0;
        return;
      }
      refusal = await refusalOf(response);
    } catch {
      refusal = { retry: true };
    }
    if (this.ended) return;
    if (!refusal.retry) return this.fail(refusal.code, refusal.reason);
    if (++this.failures >= MAX_FAILURES) return this.fail(1006, 'the server cannot be reached over HTTP');
    if (this.retrying) return;
    this.retrying = true;
    await delay(backoffMs(this.failures));
    this.retrying = false;
    // Everything unacknowledged goes again.
    this.sentUpTo = this.outbox[0]?.seq ?? this.nextSeq;
  }

  private async streamLoop(): Promise<void> {
    let failures = 0;
    while (!this.ended) {
      const outcome = await this.runStream();
      if (this.ended) return;
      if (outcome === 'ended') {
        failures = 0;
        continue;
      }
      if (++failures >= MAX_FAILURES) return this.fail(1006, 'the server cannot be reached over HTTP');
      await delay(backoffMs(failures));
    }
  }

  /** One stream, from request to end: 'ended' when the server ended it after delivering, 'failed' otherwise. */
  private async runStream(): Promise<'ended' | 'failed'> {
    const abort = new AbortController();
    this.stream = abort;
    let silence = setTimeout(() => abort.abort(), STREAM_SILENCE_MS);
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), STREAM_SILENCE_MS);
    };
    let delivered = false;
    try {
      const encoder = encoding.createEncoder();
      writeStreamRequest(encoder, { cursor: this.cursor ?? EMPTY_STATE_VECTOR, savedState: this.savedState });
      const response = await this.post('stream', encoding.toUint8Array(encoder), false, abort.signal);
      if (!response.ok || !response.body) {
        const refusal = await refusalOf(response);
        if (!refusal.retry) this.fail(refusal.code, refusal.reason);
        return 'failed';
      }
      const reader = response.body.getReader();
      let pending = new Uint8Array(0);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        heard();
        const bytes = pending.length === 0 ? value : concat(pending, value);
        const decoder = decoding.createDecoder(bytes);
        for (let record = readStreamRecord(decoder); record; record = readStreamRecord(decoder)) {
          delivered = true;
          if (!this.handle(record)) {
            abort.abort();
            return 'ended';
          }
        }
        pending = bytes.slice(decoder.pos);
      }
      return delivered ? 'ended' : 'failed';
    } catch {
      return 'failed';
    } finally {
      clearTimeout(silence);
      if (this.stream === abort) this.stream = null;
    }
  }

  /** Acts on one record; false when the stream is over (a close). */
  private handle(record: StreamRecord): boolean {
    switch (record.kind) {
      case 'message':
        this.learn(record.message);
        if (!this.ended) this.events.message(record.message);
        return true;
      case 'cursor':
        this.cursor = record.cursor;
        return true;
      case 'heartbeat':
        return true;
      case 'close':
        // An instance going away (restart, idle): the next stream continues elsewhere or afresh.
        if (!TRANSIENT_CLOSES.has(record.code)) this.fail(record.code, record.reason);
        return false;
    }
  }
}

/** A message's type, and the state vector if it is a sync step 1; what cannot be read goes to the server as it is (which refuses it). */
function messageKind(message: Uint8Array): { type: number; stepOne: Uint8Array | null } {
  try {
    const decoder = decoding.createDecoder(message);
    const type = decoding.readVarUint(decoder);
    if (type !== MessageType.Sync || decoding.readVarUint(decoder) !== SyncMessageType.Step1) return { type, stepOne: null };
    return { type, stepOne: decoding.readVarUint8Array(decoder) };
  } catch {
    return { type: -1, stepOne: null };
  }
}

/** The update of a sync step 2 or update message, or null for other messages. */
function syncUpdateOf(message: Uint8Array): Uint8Array | null {
  try {
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== MessageType.Sync) return null;
    const syncType = decoding.readVarUint(decoder);
    return syncType === SyncMessageType.Step2 || syncType === SyncMessageType.Update ? decoding.readVarUint8Array(decoder) : null;
  } catch {
    return null;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}
