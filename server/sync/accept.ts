import { CloseCode } from '../../shared/protocol.js';
import { createFrameLimiter, type RateLimits } from '../limits/rate-limiter.js';
import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import { Connection, type ConnectionAccess, type SyncSocket } from './connection.js';
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
 * are queued and handled in order once it is ready.
 */
export function acceptConnection(documentName: string, socket: SyncSocket, access: ConnectionAccess, options: AcceptOptions): ConnectionHandle {
  const { registry, metrics, logger } = options;
  const connection = new Connection(socket, access, options.maxBufferedBytes);
  const overLimit = options.rateLimits ? createFrameLimiter(options.rateLimits) : null;
  metrics.connections.inc();
  let room: Room | null = null;
  let queue: Uint8Array[] | null = [];
  let gone = false;

  registry.acquire(documentName).then(
    (loaded) => {
      if (gone) {
        registry.release(loaded);
        return;
      }
      room = loaded;
      loaded.join(connection);
      const queued = queue ?? [];
      queue = null;
      for (const frame of queued) loaded.receive(connection, frame);
    },
    (error: unknown) => {
      if (error instanceof RoomLimitError) {
        metrics.refused.inc({ reason: 'documents loaded' });
        connection.close(CloseCode.TryAgainLater, error.message);
        return;
      }
      logger.error({ err: error, document: documentName }, 'could not load document');
      connection.close(CloseCode.StorageUnavailable, 'could not load the document; try again');
    },
  );

  return {
    connection,
    receive(frame) {
      // Frames still arriving after the server closed the connection are not handled.
      if (connection.closed) return;
      const refusal = overLimit?.(frame.byteLength);
      if (refusal) {
        metrics.refused.inc({ reason: 'rate limit' });
        connection.close(CloseCode.TooManyRequests, refusal);
        return;
      }
      if (room) room.receive(connection, frame);
      else if (queue && queue.length < MAX_QUEUED_FRAMES) queue.push(frame);
      else if (queue) connection.close(CloseCode.TryAgainLater, 'too many frames before the document was ready');
    },
    closed() {
      if (gone) return;
      gone = true;
      connection.markClosed();
      metrics.connections.dec();
      if (room) {
        room.leave(connection);
        registry.release(room);
      }
    },
  };
}
