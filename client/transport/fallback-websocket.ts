import { TOKEN_QUERY_PARAM, TOKEN_SUBPROTOCOL_PREFIX } from '../../shared/auth.js';
import { HttpConnection } from './http-connection.js';
import { defaultTransportMemory, type TransportKind, type TransportMemory } from './transport-memory.js';

export type { TransportKind, TransportMemory } from './transport-memory.js';

/** The part of a WebSocket this class drives (the browser's, or the `ws` package's in Node). */
interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed (as every WebSocket). */
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface FallbackOptions {
  /** The WebSocket to try first: the browser's by default; in Node 20, pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** For the HTTP transport; the global fetch by default. */
  fetch?: typeof fetch;
  /** A WebSocket that does not open in this time is given up (default 10 s: a proxy that holds the handshake). */
  openTimeoutMs?: number;
  /** A WebSocket that opened but has not delivered the server's first message in this time is given up (default 5 s). */
  handshakeTimeoutMs?: number;
  /** While on HTTP, WebSocket is tried again after this long, doubling each time up to maxProbeDelayMs (default 5 s → 5 min). */
  probeDelayMs?: number;
  maxProbeDelayMs?: number;
  /** Where the transport that worked is remembered (default: localStorage in browsers, the process in Node). */
  memory?: TransportMemory;
}

/** What a close looks like to the provider (it reads `code` and `reason`). */
export interface FallbackCloseEvent {
  type: 'close';
  code: number;
  reason: string;
  wasClean: boolean;
  /** Closed because WebSockets get through again: the provider reconnects, over WebSocket. */
  switchingToWebSocket?: boolean;
}

const sharedMemory = defaultTransportMemory();

/** The token is moved out of the URL into a header: URLs end up in proxy logs. */
function tokenFrom(url: URL, protocols: string[]): string | null {
  const offered = protocols.find((protocol) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (offered) return offered.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  return url.searchParams.get(TOKEN_QUERY_PARAM);
}

function httpUrlOf(url: URL): string {
  const http = new URL(url);
  http.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  http.searchParams.delete(TOKEN_QUERY_PARAM);
  return http.toString();
}

function asArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function asBytes(data: ArrayBufferLike | ArrayBufferView | string): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * A WebSocket for y-websocket's `WebsocketProvider` (its `WebSocketPolyfill` option) that reaches
 * the server even where WebSockets are blocked: it tries a real WebSocket first, and if that
 * cannot open, or opens but does not deliver the server's first message within a few seconds (a
 * proxy that strips `Upgrade`, or holds the connection), it speaks the same messages over plain
 * HTTP requests (HttpConnection). The provider sees one socket either way.
 *
 * While on HTTP it tries WebSocket again in the background, with backoff; when one gets through,
 * it closes with 1012 so that the provider reconnects, over WebSocket, with a full sync handshake:
 * nothing is lost (the provider's document has everything) and nothing is applied twice (Yjs
 * updates and awareness states are idempotent). The transport that worked is remembered per
 * server (localStorage in browsers), and the next socket starts with it.
 *
 *   new WebsocketProvider(url, name, doc, { WebSocketPolyfill: FallbackWebSocket })
 *   // Node 20: FallbackWebSocket.with({ WebSocket: (await import('ws')).WebSocket })
 *
 * `transport` says which one carries the socket once it is open.
 */
export class FallbackWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  /** Options of this class; `with()` makes a subclass with others. */
  static options: FallbackOptions = {};

  /** A FallbackWebSocket class with these options (for `WebSocketPolyfill`, which takes a class). */
  static with(options: FallbackOptions): typeof FallbackWebSocket {
    const base = this;
    return class extends base {
      static override options: FallbackOptions = { ...base.options, ...options };
    };
  }

  readonly url: string;
  binaryType = 'arraybuffer';
  readyState: number = FallbackWebSocket.CONNECTING;
  protocol = '';
  /** Which transport carries this socket: null until it is open. */
  transport: TransportKind | null = null;
  onopen: ((event: { type: 'open' }) => void) | null = null;
  onmessage: ((event: { type: 'message'; data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: FallbackCloseEvent) => void) | null = null;
  onerror: ((event: { type: 'error' }) => void) | null = null;

  private readonly options: Required<Omit<FallbackOptions, 'WebSocket'>> & { WebSocket: WebSocketConstructor | null };
  private readonly protocols: string[];
  private readonly target: URL;
  private readonly server: string;
  private socket: WebSocketLike | null = null;
  private http: HttpConnection | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private probe: WebSocketLike | null = null;
  private probes = 0;

  constructor(url: string | URL, protocols: string | string[] = []) {
    const given = (this.constructor as typeof FallbackWebSocket).options;
    const WebSocketClass = given.WebSocket ?? ((globalThis as { WebSocket?: WebSocketConstructor }).WebSocket || null);
    this.options = {
      WebSocket: WebSocketClass,
      fetch: given.fetch ?? globalThis.fetch.bind(globalThis),
      openTimeoutMs: given.openTimeoutMs ?? 10_000,
      handshakeTimeoutMs: given.handshakeTimeoutMs ?? 5_000,
      probeDelayMs: given.probeDelayMs ?? 5_000,
      maxProbeDelayMs: given.maxProbeDelayMs ?? 300_000,
      memory: given.memory ?? sharedMemory,
    };
    this.target = new URL(url);
    this.url = this.target.toString();
    this.protocols = typeof protocols === 'string' ? [protocols] : [...protocols];
    this.server = this.target.host;
    if (this.options.memory.get(this.server) === 'http' || !this.options.WebSocket) {
      void this.useHttp();
      this.scheduleProbe();
    } else {
      this.tryWebSocket();
    }
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? this.http?.bufferedAmount ?? 0;
  }

  send(data: ArrayBufferLike | ArrayBufferView | string): void {
    if (this.readyState !== FallbackWebSocket.OPEN) throw new Error('FallbackWebSocket: send() before open or after close');
    if (this.transport === 'websocket') {
      // The server may have started closing the socket (its close frame arrived, the close event
      // has not fired yet): a WebSocket drops what is sent then, and browsers log an error for it.
      if (this.socket!.readyState !== FallbackWebSocket.OPEN) return;
      this.socket!.send(typeof data === 'string' ? asBytes(data) : data);
    } else this.http!.send(asBytes(data));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === FallbackWebSocket.CLOSED || this.readyState === FallbackWebSocket.CLOSING) return;
    this.readyState = FallbackWebSocket.CLOSING;
    this.stopTrying();
    this.socket?.close(code, reason);
    this.http?.close();
    this.finish(code, reason, true);
  }

  /** The real WebSocket: it counts as open once the server's first message arrived through it. */
  private tryWebSocket(): void {
    const ws = new this.options.WebSocket!(this.url, this.protocols);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    this.timer = setTimeout(() => this.fallBack(), this.options.openTimeoutMs);
    ws.onerror = () => {}; // a close follows
    ws.onopen = () => {
      if (this.socket !== ws || this.readyState !== FallbackWebSocket.CONNECTING) return;
      // Open is not enough: a middlebox may answer the handshake itself and then pass nothing.
      this.clearTimer();
      this.timer = setTimeout(() => this.fallBack(), this.options.handshakeTimeoutMs);
    };
    ws.onmessage = (event) => {
      if (this.socket !== ws) return;
      if (this.readyState === FallbackWebSocket.CONNECTING) {
        this.clearTimer();
        this.options.memory.set(this.server, 'websocket');
        this.transport = 'websocket';
        this.protocol = ws.protocol;
        this.opened();
      }
      if (this.readyState === FallbackWebSocket.OPEN) this.onmessage?.({ type: 'message', data: event.data as ArrayBuffer });
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      // A close code of the server's (4xxx) is its decision, not a blocked path: tell the provider.
      if (this.readyState === FallbackWebSocket.CONNECTING && !(event.code >= 4000 && event.code < 5000)) {
        this.fallBack();
        return;
      }
      this.socket = null;
      this.ended(event.code, event.reason);
    };
  }

  private fallBack(): void {
    if (this.readyState !== FallbackWebSocket.CONNECTING) return;
    this.clearTimer();
    const ws = this.socket;
    this.socket = null;
    if (ws) discard(ws);
    this.options.memory.set(this.server, 'http');
    void this.useHttp();
    this.scheduleProbe();
  }

  private async useHttp(): Promise<void> {
    const http = new HttpConnection(
      { url: httpUrlOf(this.target), token: tokenFrom(this.target, this.protocols), fetch: this.options.fetch },
      {
        message: (message) => {
          if (this.readyState === FallbackWebSocket.OPEN) this.onmessage?.({ type: 'message', data: asArrayBuffer(message) });
        },
        close: (code, reason) => this.ended(code, reason),
      },
    );
    this.http = http;
    if (!(await http.open()) || this.http !== http || this.readyState !== FallbackWebSocket.CONNECTING) return;
    this.transport = 'http';
    this.opened();
    http.start();
  }

  /** While on HTTP: tries WebSocket again after a growing delay; once it works, reconnects over it. */
  private scheduleProbe(): void {
    if (!this.options.WebSocket) return;
    const wait = Math.min(this.options.probeDelayMs * 2 ** this.probes++, this.options.maxProbeDelayMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.readyState === FallbackWebSocket.CLOSED) return;
      const probe = new this.options.WebSocket!(this.url, this.protocols);
      probe.binaryType = 'arraybuffer';
      this.probe = probe;
      const deadline = setTimeout(() => failed(), this.options.openTimeoutMs + this.options.handshakeTimeoutMs);
      const failed = () => {
        clearTimeout(deadline);
        if (this.probe !== probe) return;
        this.probe = null;
        discard(probe);
        if (this.readyState !== FallbackWebSocket.CLOSED) this.scheduleProbe();
      };
      probe.onerror = () => {};
      probe.onclose = failed;
      probe.onmessage = () => {
        clearTimeout(deadline);
        if (this.probe !== probe) return;
        this.probe = null;
        discard(probe);
        this.options.memory.set(this.server, 'websocket');
        // The provider reconnects (not a 44xx code), and the next socket starts with WebSocket.
        this.http?.close();
        this.ended(1012, 'WebSockets get through again: reconnecting over WebSocket', true);
      };
    }, wait);
  }

  private opened(): void {
    this.readyState = FallbackWebSocket.OPEN;
    this.onopen?.({ type: 'open' });
  }

  /** The transport ended (server, network, or switching back to WebSocket). */
  private ended(code: number, reason: string, switchingToWebSocket = false): void {
    if (this.readyState === FallbackWebSocket.CLOSED) return;
    this.stopTrying();
    this.finish(code, reason, code !== 1006, switchingToWebSocket);
  }

  private finish(code: number, reason: string, wasClean: boolean, switchingToWebSocket = false): void {
    this.readyState = FallbackWebSocket.CLOSED;
    this.onclose?.({ type: 'close', code, reason, wasClean, ...(switchingToWebSocket && { switchingToWebSocket }) });
  }

  private stopTrying(): void {
    this.clearTimer();
    if (this.probe) discard(this.probe);
    this.probe = null;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Closes a WebSocket whose events no longer matter. */
function discard(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {};
  try {
    ws.close();
  } catch {
    // a browser refuses close() of a socket that is still connecting in some versions
  }
}
