import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/**
 * Messages between server instances. Each is one binary Redis pub/sub message:
 * varuint type, varstring sender instance id, then the type's fields.
 */
export const ClusterMessageType = {
  /** A committed update: float64 publish time (ms since epoch), varuint seq, bytes update. */
  Update: 0,
  /** Awareness states of the sender's connections: bytes (y-protocols awareness update). */
  Awareness: 1,
  /** "Send me your connections' awareness states" (from an instance that just opened the document). */
  AwarenessQuery: 2,
  /** The sender is alive (on the cluster channel, every heartbeat interval). */
  Heartbeat: 3,
  /** The sender is shutting down: drop its awareness states now (on the cluster channel). */
  Bye: 4,
  /** The document of the channel was deleted (committed to storage): close and unload its room. */
  Deleted: 5,
} as const;

export type ClusterMessage =
  | { type: typeof ClusterMessageType.Update; from: string; sentAt: number; seq: number; update: Uint8Array }
  | { type: typeof ClusterMessageType.Awareness; from: string; update: Uint8Array }
  | {
      type: typeof ClusterMessageType.AwarenessQuery | typeof ClusterMessageType.Heartbeat | typeof ClusterMessageType.Bye | typeof ClusterMessageType.Deleted;
      from: string;
    };

export function encodeClusterMessage(message: ClusterMessage): Buffer {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, message.type);
  encoding.writeVarString(encoder, message.from);
  switch (message.type) {
    case ClusterMessageType.Update:
      encoding.writeFloat64(encoder, message.sentAt);
      encoding.writeVarUint(encoder, message.seq);
      encoding.writeVarUint8Array(encoder, message.update);
      break;
    case ClusterMessageType.Awareness:
      encoding.writeVarUint8Array(encoder, message.update);
      break;
  }
  const bytes = encoding.toUint8Array(encoder);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a message; returns null for anything malformed or of an unknown type (a newer sender). */
export function decodeClusterMessage(data: Uint8Array): ClusterMessage | null {
  try {
    const decoder = decoding.createDecoder(data);
    const type = decoding.readVarUint(decoder);
    const from = decoding.readVarString(decoder);
    let message: ClusterMessage;
    switch (type) {
      case ClusterMessageType.Update: {
        const sentAt = decoding.readFloat64(decoder);
        const seq = decoding.readVarUint(decoder);
        message = { type, from, sentAt, seq, update: decoding.readVarUint8Array(decoder) };
        break;
      }
      case ClusterMessageType.Awareness:
        message = { type, from, update: decoding.readVarUint8Array(decoder) };
        break;
      case ClusterMessageType.AwarenessQuery:
      case ClusterMessageType.Heartbeat:
      case ClusterMessageType.Bye:
      case ClusterMessageType.Deleted:
        message = { type, from };
        break;
      default:
        return null;
    }
    return decoder.pos === data.length ? message : null;
  } catch {
    return null;
  }
}
