import type { WebSocket } from 'ws';
import type { Slot } from '../limits/connection-limiter.js';
import type { RoomAttachment } from '../sync/room-attachment.js';
import type { SyncTransport } from '../sync/transport.js';

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  return bytes.length <= 123 ? reason : new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, '') + '...';
}

function noop(): void {}

/**
 * The SyncTransport of one upgraded `ws` WebSocket, plus what the sync endpoint keeps for the
 * socket until it closes. A class rather than closures: every open connection keeps one.
 */
export class WebSocketTransport implements SyncTransport {
  readonly kind = 'websocket';
  /** Set as soon as the socket is attached to its room; stays null for a socket closed at once. */
  attachment: RoomAttachment | null = null;
  /** Stops watching the token's expiry and revocation. */
  untrack: () => void = noop;

  constructor(
    private readonly ws: WebSocket,
    private readonly sendFrame: (ws: WebSocket, frame: Uint8Array) => void,
    /** The connection limiter's place, freed when the socket closes. */
    readonly slot: Slot,
  ) {}

  send(message: Uint8Array): void {
    this.sendFrame(this.ws, message);
  }

  close(code: number, reason: string): void {
    // A paused socket could not read the client's answering close frame (ws would cut it off
    // only after its close timeout): read again; what arrives before that frame is not handled.
    if (this.ws.isPaused) this.ws.resume();
    this.ws.close(code, closeReason(reason));
  }

  get remoteAddress(): string {
    return this.slot.address;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Stops reading the TCP socket: `ws` still delivers the messages of data it has read already. */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }
}
