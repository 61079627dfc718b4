import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { PER_MESSAGE_DEFLATE } from './ws-compression.js';

/** The parts of a `ws` WebSocket this module relies on that `ws` does not type. */
interface WebSocketInternals {
  _socket: Socket | null;
  /** ws's Sender: `_state` 0 (DEFAULT) when it is not compressing, `_queue` what waits for that. */
  _sender: { _state: number; _queue: unknown[] } | null;
}

/** Messages of at least this size are compressed on sockets that negotiated permessage-deflate. */
const COMPRESSION_THRESHOLD = PER_MESSAGE_DEFLATE.threshold ?? 1024;
/** A binary message from `ws` (a Buffer with the default binaryType) as bytes, without copying. */
export function binaryMessage(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** An unmasked, uncompressed binary WebSocket frame (RFC 6455 §5.2) holding `payload`. */
export function binaryFrame(payload: Uint8Array): Buffer {
  const length = payload.byteLength;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x82; // FIN, opcode 2 (binary)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.set(payload, headerLength);
  return frame;
}

/**
 * Sends binary messages, framing each payload once however many sockets it goes to: a room
 * broadcasts one payload object to all of its connections, so the frame bytes are built for the
 * first socket and written as they are to the others (server frames are never masked).
 *
 * Writing to the TCP socket directly is only safe while `ws` itself is not holding frames back,
 * which it does while it compresses one (permessage-deflate queues the frames after it). On a
 * socket that negotiated compression, a message below the threshold (an edit, a cursor) is still
 * written directly, uncompressed (RSV1 clear: RFC 7692 lets every message choose), when `ws` is
 * idle; larger ones, and all while `ws` compresses, go through `ws.send`, as do sockets no longer
 * open. So a relayed edit is still framed once for all its receivers with compression on, instead
 * of once per receiver by `ws.send`.
 */
export function createFrameSender(): (ws: WebSocket, payload: Uint8Array) => void {
  const frames = new WeakMap<Uint8Array, Buffer>();
  return (ws, payload) => {
    const { _socket: socket, _sender: sender } = ws as unknown as WebSocketInternals;
    // Extensions are settled in the handshake, before the socket is handed to us.
    const direct = ws.extensions === '' || (payload.byteLength < COMPRESSION_THRESHOLD && sender !== null && sender._state === 0 && sender._queue.length === 0);
    if (!direct || !socket || ws.readyState !== WebSocket.OPEN) {
      ws.send(payload);
      return;
    }
    let frame = frames.get(payload);
    if (!frame) {
      frame = binaryFrame(payload);
      frames.set(payload, frame);
    }
    socket.write(frame);
  };
}
