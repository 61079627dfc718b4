/**
 * The seam between one client's connection and the sync code: what a transport must provide.
 * The WebSocket endpoint (server/http/ws-transport.ts, WebSocketTransport) is one implementation;
 * an HTTP fallback session is meant to be the next, and tests use plain objects.
 *
 * A transport carries whole y-websocket messages both ways. It hands each message it receives, in
 * order, to the connection's RoomAttachment (`receive`), and says once that the client is gone,
 * however it went (`transportClosed`); everything else it is asked through this interface.
 */
/**
 * How a client reaches the server; shown in the admin listing and metrics. `internal` is the
 * server's own writes (content API, restores), which have no client behind them.
 */
export type TransportKind = 'websocket' | 'http' | 'hocuspocus' | 'internal';

export interface SyncTransport {
  /** Which kind of transport this is (several implementations share the one interface). */
  readonly kind: TransportKind;
  /** Queues one message for the client. Never throws; a transport already closed drops it. */
  send(message: Uint8Array): void;
  /**
   * Ends the connection with a close code (shared/protocol.ts CloseCode) and a reason the client
   * can read (at most 123 bytes on a WebSocket; longer ones are cut). Messages still arriving
   * after it are not handled.
   */
  close(code: number, reason: string): void;
  /**
   * The client's address as the connection limits count it (the last X-Forwarded-For entry with
   * TRUST_PROXY), for the admin listing; absent where there is no client (internal writes).
   */
  readonly remoteAddress?: string;
  /** Bytes queued for sending but not yet handed to the OS: a client too slow to read is closed on it. */
  readonly bufferedAmount: number;
  /**
   * Stops taking messages from the client until resume(): backpressure for a client over its
   * rate, which should leave its bytes waiting in the network (TCP slows the sender down) rather
   * than in this process. Messages read before the pause may still be delivered.
   */
  pause(): void;
  resume(): void;
  /**
   * Only transports whose protocol confirms each update have it (Hocuspocus' SyncStatus): called
   * once per update the client sent, in order, after that update is committed to storage
   * (`applied`), or at once when it is refused (read-only; `applied` then says whether it held
   * nothing new).
   */
  acknowledgeUpdate?(applied: boolean): void;
}
