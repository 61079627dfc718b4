import type { PerMessageDeflateOptions } from 'ws';

/**
 * permessage-deflate (RFC 7692) as this server negotiates it when WS_COMPRESSION=on, with clients
 * that offer it (every browser does; Node clients using `ws` too).
 *
 * Memory is what bounds the settings. zlib keeps, per connection and direction, a window of
 * 2^windowBits bytes and (deflate only) a hash of 2^(memLevel+9) bytes; `ws` keeps a connection's
 * streams once it has used them (reset, not freed, even with no context takeover). At zlib's
 * defaults (15, 8) that is 256 KB to compress and 39 KB to inflate per connection; at (11, 4) it is
 * 16 and 9 KB, for a ratio of 2.03 on the automerge-paper document's state instead of 2.38 (the
 * table in bench/results/compression-*.md). No context takeover either way: nothing is carried from
 * one message to the next, so streams can be freed between messages (releaseIdleStreams).
 */
export const PER_MESSAGE_DEFLATE: PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 11,
  clientMaxWindowBits: 11,
  zlibDeflateOptions: { level: 6, memLevel: 4, chunkSize: 4096 },
  /** Node's default output chunk is 16 KB per stream; 4 KB costs a few more callbacks on a large message. */
  zlibInflateOptions: { chunkSize: 4096 },
  /**
   * Frames smaller than this go uncompressed: typing sends 20–100 byte updates, which deflate
   * cannot shrink by more than its own header and a flush, at a few microseconds each per receiver.
   */
  threshold: 1024,
  /** zlib jobs in flight per process (ws's default); more queue rather than fill the thread pool. */
  concurrencyLimit: 10,
};

/**
 * `WS_COMPRESSION` when unset: off, from `npm run bench:compression` (bench/results/compression-*.md,
 * on ÷ off in the same run). Compression halves the bytes of a large document's cold load (245 →
 * 119 KB for the automerge-paper document), which at 2 Mbit/s took 0.51–0.73× the time, and gains
 * little on a 20 Mbit/s link (0.73–1.07×). But every browser compresses every frame it sends, so
 * the server inflates each edit and cursor move: server CPU per edit was 1.6–1.8× (1 writer, 20
 * readers), and RSS grew 60–90 KB per connection against 20–40 KB (zlib's memory and what the
 * allocator keeps after freeing it). The costs are paid by every connection on every edit, the gain
 * only when a large document is loaded over a slow link: deployments whose users are there (large
 * documents, mobile or remote links) turn it on.
 */
export const WS_COMPRESSION_DEFAULT: 'on' | 'off' = 'off';

/** The `perMessageDeflate` option of the WebSocketServer for `WS_COMPRESSION`. */
export function perMessageDeflate(enabled: boolean): PerMessageDeflateOptions | false {
  return enabled ? PER_MESSAGE_DEFLATE : false;
}

/** What releasing a socket's zlib streams reads of `ws` internals (ws 8), none of which `ws` types. */
interface ZlibStream {
  bytesWritten: number;
  close(): void;
  _writableState: { length: number };
  [LAST_SWEEP]?: number;
}
interface DeflateInternals {
  _extensions?: Record<string, { _deflate: ZlibStream | null; _inflate: ZlibStream | null } | undefined>;
  /** ws's Sender: `_state` 0 when not compressing; `_queue` holds sends waiting for a compression. */
  _sender: { _state: number; _queue: unknown[] } | null;
  /** ws's Receiver: `_state` 5 while a message is being inflated; `_fragmented` inside a fragmented message. */
  _receiver: { _state: number; _fragmented: number; _compressed: boolean } | null;
}

const LAST_SWEEP = Symbol('bytesWritten at the last sweep');
const RECEIVER_INFLATING = 5;

/** Whether a stream took no bytes since the previous sweep (and remembers its count for the next). */
function unusedSinceLastSweep(stream: ZlibStream): boolean {
  const unused = stream[LAST_SWEEP] === stream.bytesWritten && stream._writableState.length === 0;
  stream[LAST_SWEEP] = stream.bytesWritten;
  return unused;
}

/**
 * Frees the zlib streams of a socket that did not use them since the previous sweep. `ws` keeps a
 * connection's deflate and inflate streams for its whole life once used (reset, not freed, even
 * with no context takeover), and Node gives each a 16 KB output buffer besides zlib's own state:
 * measured, about 100 KB per connection that had one compressed frame each way (every browser
 * compresses all it sends), against about 15 KB for the whole connection without compression.
 * With no context takeover nothing is carried from one message to the next, so a freed stream is
 * simply created again (about 20 µs) when the connection next needs it; `ws` does that lazily.
 * Streams in use (a compression or inflation in flight, a fragmented message half-read) are kept.
 */
export function releaseIdleStreams(ws: object): void {
  const { _extensions: extensions, _sender: sender, _receiver: receiver } = ws as DeflateInternals;
  const deflate = extensions?.['permessage-deflate'];
  if (!deflate) return;
  if (deflate._deflate && sender && sender._state === 0 && sender._queue.length === 0 && unusedSinceLastSweep(deflate._deflate)) {
    deflate._deflate.close();
    deflate._deflate = null;
  }
  const midMessage = receiver !== null && (receiver._state === RECEIVER_INFLATING || (receiver._fragmented !== 0 && receiver._compressed));
  if (deflate._inflate && receiver && !midMessage && unusedSinceLastSweep(deflate._inflate)) {
    deflate._inflate.close();
    deflate._inflate = null;
  }
}

/**
 * How often sockets are swept: a connection's zlib memory is freed 2–4 s after its last compressed
 * frame. Short, because y-websocket clients renew their awareness state every 15 s, a compressed
 * frame from every browser: a stream kept for a longer quiet period would never be freed. A sweep
 * reads a few fields per socket (about 0.5 ms for 10,000 sockets); making a stream again costs
 * about 50–90 µs of CPU, once per renewal at most.
 */
export const IDLE_STREAM_SWEEP_MS = 2_000;

/** Sweeps every open socket's zlib streams (releaseIdleStreams) every IDLE_STREAM_SWEEP_MS; returns the stop function. */
export function startIdleStreamRelease(sockets: () => Iterable<object>, intervalMs = IDLE_STREAM_SWEEP_MS): () => void {
  const timer = setInterval(() => {
    for (const ws of sockets()) releaseIdleStreams(ws);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
