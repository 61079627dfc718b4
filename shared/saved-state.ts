import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { AccessFlags, MessageType } from './protocol.js';

/**
 * The frames of the SavedState extension (MessageType.SavedState and MessageType.Access), as
 * write/read pairs over lib0 encoders and decoders in the style of y-protocols/sync. The server,
 * the editor and the tests all use these, so the three cannot drift apart.
 *
 * A `write…` function writes the message type and the body. A `read…` function reads the body of
 * a message whose type the caller has already read: y-websocket's `messageHandlers` and the
 * server's `decodeClientMessage` dispatch on that type first. Readers do not check that the frame
 * ends after the body: the server does that for every client frame (trailing bytes close the
 * connection with 4400), and y-websocket reads one message per frame.
 *
 *   client → server  [100]                    subscribe: "tell me what you have committed"
 *   server → client  [101, flags]             what this connection may do (AccessFlags)
 *   server → client  [100, stateVector bytes] everything committed, after the answer and each commit
 */

/** Client → server: subscribe to SavedState frames. The body is empty. */
export function writeSubscribeSaved(encoder: encoding.Encoder): void {
  encoding.writeVarUint(encoder, MessageType.SavedState);
}

/** Reads a subscription's body, which is empty: nothing to read (the caller checks the frame ends). */
export function readSubscribeSaved(_decoder: decoding.Decoder): void {}

/** Server → client: the state vector (Y.encodeStateVector) of everything committed to storage. */
export function writeSavedState(encoder: encoding.Encoder, stateVector: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.SavedState);
  encoding.writeVarUint8Array(encoder, stateVector);
}

/**
 * The committed state vector of a SavedState frame (decode it with Y.decodeStateVector). Throws
 * if truncated, also when the frame is a view into a larger buffer (lib0 ≥ 0.2.120 checks that).
 */
export function readSavedState(decoder: decoding.Decoder): Uint8Array {
  return decoding.readVarUint8Array(decoder);
}

export interface Access {
  /** The server applies this connection's updates (false: a read-only token). */
  canWrite: boolean;
}

/** Server → client, in answer to a subscription: what this connection may do. */
export function writeAccess(encoder: encoding.Encoder, access: Access): void {
  encoding.writeVarUint(encoder, MessageType.Access);
  encoding.writeVarUint(encoder, access.canWrite ? AccessFlags.CanWrite : 0);
}

/** The flags of an Access frame; bits this version does not know are ignored (room for new flags). Throws if truncated. */
export function readAccess(decoder: decoding.Decoder): Access {
  const flags = decoding.readVarUint(decoder);
  return { canWrite: (flags & AccessFlags.CanWrite) !== 0 };
}
