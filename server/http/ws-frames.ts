import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';

/** The parts of a `ws` WebSocket this module relies on that `ws` does not type. */
interface WebSocketInternals {
  _socket: Socket | null;
}

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
 * Writing to the TCP socket directly is only safe while `ws` itself writes every frame whole and
 * synchronously, i.e. without permessage-deflate (which queues frames while it compresses): sockets
 * that negotiated an extension, or that are no longer open, go through `ws.send`.
 */
export function createFrameSender(): (ws: WebSocket, payload: Uint8Array) => void {
  const frames = new WeakMap<Uint8Array, Buffer>();
  return (ws, payload) => {
    const socket = (ws as unknown as WebSocketInternals)._socket;
    // Extensions are settled in the handshake, before the socket is handed to us.
    if (ws.extensions !== '' || !socket || ws.readyState !== WebSocket.OPEN) {
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
