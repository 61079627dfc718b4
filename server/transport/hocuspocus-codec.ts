import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { MessageType } from '../../shared/protocol.js';
import { ProtocolError } from '../sync/protocol.js';

/**
 * The Hocuspocus framing (@hocuspocus/provider 3.x and 4.x, @hocuspocus/common), as write/read
 * pairs over lib0 encoders in the style of y-protocols. Every frame but Ping and Pong is
 *
 *   [varString key][varUint type][body]
 *
 * where the key is the document name, or with the provider's `sessionAwareness` (4.x)
 * `<name>\0<sessionId>`: replies carry the key exactly as the client sent it. For the Yjs types
 * (Sync 0, Awareness 1, QueryAwareness 3) `[type][body]` is byte for byte a y-websocket message, so
 * the conversion either way is only the key: a client frame is cut after it (no copy), a server
 * message is written after it. The other types are Hocuspocus' own:
 *
 *   client → server  [key][2][0][varString token][varString providerVersion]  Auth (version: 4.x only)
 *   server → client  [key][2][2][varString "read-write" | "readonly"]          Authenticated
 *   server → client  [key][2][1][varString reason]                            PermissionDenied
 *   server → client  [key][8][varUint 1 | 0]                                  SyncStatus: an update saved / refused
 *   both ways        [key][5][varString payload]                              Stateless
 *   client → server  [key][7]                                                 Close: the provider detached the document
 *   server → client  [key][7][varString reason]                               Close: the server ended the document
 *   server → client  [9]                                                      Ping (4.x; no key)
 *   client → server  [10]                                                     Pong (4.x; no key)
 *
 * What 3.x differs in: no providerVersion after the token, no sessionAwareness keys, and no Ping or
 * Pong (a 3.x provider fails to read a frame without a key, so it must never be sent one).
 */

/** Message types of the Hocuspocus protocol (@hocuspocus/provider src/types.ts). */
export const HocuspocusMessageType = {
  Sync: MessageType.Sync,
  Awareness: MessageType.Awareness,
  Auth: MessageType.Auth,
  QueryAwareness: MessageType.QueryAwareness,
  Stateless: 5,
  Close: 7,
  SyncStatus: 8,
  Ping: 9,
  Pong: 10,
} as const;

/** Sub-types of an Auth message (@hocuspocus/common AuthMessageType). */
export const HocuspocusAuthType = {
  Token: 0,
  PermissionDenied: 1,
  Authenticated: 2,
} as const;

export type HocuspocusScope = 'read-write' | 'readonly';

/** The separator of a session-aware key (@hocuspocus/common routingKey.ts). */
const SESSION_SEPARATOR = '\0';

/** The document name of a key: what precedes a session id, if there is one. */
export function documentNameOfKey(key: string): string {
  const at = key.indexOf(SESSION_SEPARATOR);
  return at === -1 ? key : key.slice(0, at);
}

export type HocuspocusClientMessage =
  /** Sync, Awareness or QueryAwareness: `message` is the y-websocket message (a view into the frame). */
  | { kind: 'yjs'; key: string; message: Uint8Array }
  | { kind: 'auth'; key: string; token: string; providerVersion: string | null }
  | { kind: 'stateless'; key: string; payload: string }
  | { kind: 'close'; key: string }
  | { kind: 'pong' };

function readString(decoder: decoding.Decoder, what: string): string {
  let value: string;
  try {
    value = decoding.readVarString(decoder);
  } catch {
    throw new ProtocolError(`malformed ${what}`);
  }
  // The declared length is trusted by lib0; the frame may be a view into a larger buffer.
  if (decoder.pos > decoder.arr.length) throw new ProtocolError(`truncated ${what}`);
  return value;
}

function readUint(decoder: decoding.Decoder, what: string): number {
  if (!decoding.hasContent(decoder)) throw new ProtocolError(`missing ${what}`);
  try {
    return decoding.readVarUint(decoder);
  } catch {
    throw new ProtocolError(`malformed ${what}`);
  }
}

function expectEnd(decoder: decoding.Decoder, what: string): void {
  if (decoding.hasContent(decoder)) throw new ProtocolError(`trailing bytes after ${what}`);
}

/**
 * Decodes one client frame. Throws ProtocolError for anything malformed or of a type a client
 * does not send. The body of a Yjs message is left to the room's decoder (decodeClientMessage).
 */
export function decodeHocuspocusFrame(frame: Uint8Array): HocuspocusClientMessage {
  if (frame.length === 1 && frame[0] === HocuspocusMessageType.Pong) return { kind: 'pong' };
  const decoder = decoding.createDecoder(frame);
  const key = readString(decoder, 'document name');
  const typeAt = decoder.pos;
  const type = readUint(decoder, 'message type');
  switch (type) {
    case HocuspocusMessageType.Sync:
    case HocuspocusMessageType.Awareness:
    case HocuspocusMessageType.QueryAwareness:
      return { kind: 'yjs', key, message: frame.subarray(typeAt) };
    case HocuspocusMessageType.Auth: {
      const authType = readUint(decoder, 'auth message type');
      if (authType !== HocuspocusAuthType.Token) throw new ProtocolError(`a client sends no auth message of type ${authType}`);
      const token = readString(decoder, 'token');
      const providerVersion = decoding.hasContent(decoder) ? readString(decoder, 'provider version') : null;
      expectEnd(decoder, 'auth message');
      return { kind: 'auth', key, token, providerVersion };
    }
    case HocuspocusMessageType.Stateless: {
      const payload = readString(decoder, 'stateless payload');
      expectEnd(decoder, 'stateless message');
      return { kind: 'stateless', key, payload };
    }
    case HocuspocusMessageType.Close:
      expectEnd(decoder, 'close message');
      return { kind: 'close', key };
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
}

// Server → client.

/** A y-websocket message (sync, awareness) for the document of `key`. */
export function writeKeyedMessage(encoder: encoding.Encoder, key: string, message: Uint8Array): void {
  encoding.writeVarString(encoder, key);
  encoding.writeUint8Array(encoder, message);
}

export function writeAuthenticated(encoder: encoding.Encoder, key: string, scope: HocuspocusScope): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.Auth);
  encoding.writeVarUint(encoder, HocuspocusAuthType.Authenticated);
  encoding.writeVarString(encoder, scope);
}

export function writePermissionDenied(encoder: encoding.Encoder, key: string, reason: string): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.Auth);
  encoding.writeVarUint(encoder, HocuspocusAuthType.PermissionDenied);
  encoding.writeVarString(encoder, reason);
}

/** `applied`: the update is saved (the provider counts one unsynced change less); false: refused (read-only). */
export function writeSyncStatus(encoder: encoding.Encoder, key: string, applied: boolean): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.SyncStatus);
  // The provider reads a varInt; for 0 and 1 it is the same byte as the varUint Hocuspocus writes.
  encoding.writeVarUint(encoder, applied ? 1 : 0);
}

/** The server ended this document on the socket (the socket stays open for the others). */
export function writeServerClose(encoder: encoding.Encoder, key: string, reason: string): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.Close);
  encoding.writeVarString(encoder, reason);
}

/** Keep-alive for 4.x providers (answered with Pong); never to 3.x ones. */
export function writePing(encoder: encoding.Encoder): void {
  encoding.writeVarUint(encoder, HocuspocusMessageType.Ping);
}

export type HocuspocusServerMessage =
  | { kind: 'yjs'; key: string; message: Uint8Array }
  | { kind: 'authenticated'; key: string; scope: string }
  | { kind: 'permission-denied'; key: string; reason: string }
  | { kind: 'sync-status'; key: string; applied: boolean }
  | { kind: 'stateless'; key: string; payload: string }
  | { kind: 'close'; key: string; reason: string }
  | { kind: 'ping' };

/** Decodes one server frame (for load clients and tests). Throws ProtocolError for anything malformed. */
export function decodeHocuspocusServerFrame(frame: Uint8Array): HocuspocusServerMessage {
  if (frame.length === 1 && frame[0] === HocuspocusMessageType.Ping) return { kind: 'ping' };
  const decoder = decoding.createDecoder(frame);
  const key = readString(decoder, 'document name');
  const typeAt = decoder.pos;
  const type = readUint(decoder, 'message type');
  switch (type) {
    case HocuspocusMessageType.Sync:
    case HocuspocusMessageType.Awareness:
    case HocuspocusMessageType.QueryAwareness:
      return { kind: 'yjs', key, message: frame.subarray(typeAt) };
    case HocuspocusMessageType.Auth: {
      const authType = readUint(decoder, 'auth message type');
      const text = readString(decoder, 'auth message');
      expectEnd(decoder, 'auth message');
      if (authType === HocuspocusAuthType.Authenticated) return { kind: 'authenticated', key, scope: text };
      if (authType === HocuspocusAuthType.PermissionDenied) return { kind: 'permission-denied', key, reason: text };
      throw new ProtocolError(`a server sends no auth message of type ${authType}`);
    }
    case HocuspocusMessageType.SyncStatus: {
      const applied = readUint(decoder, 'sync status') === 1;
      expectEnd(decoder, 'sync status');
      return { kind: 'sync-status', key, applied };
    }
    case HocuspocusMessageType.Stateless: {
      const payload = readString(decoder, 'stateless payload');
      expectEnd(decoder, 'stateless message');
      return { kind: 'stateless', key, payload };
    }
    case HocuspocusMessageType.Close: {
      const reason = readString(decoder, 'close reason');
      expectEnd(decoder, 'close message');
      return { kind: 'close', key, reason };
    }
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
}

// Client → server (what the provider sends; for load clients and tests).

/** `providerVersion`: what a 4.x provider appends; null writes a 3.x Auth message. */
export function writeAuthToken(encoder: encoding.Encoder, key: string, token: string, providerVersion: string | null): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.Auth);
  encoding.writeVarUint(encoder, HocuspocusAuthType.Token);
  encoding.writeVarString(encoder, token);
  if (providerVersion !== null) encoding.writeVarString(encoder, providerVersion);
}

export function writeStateless(encoder: encoding.Encoder, key: string, payload: string): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.Stateless);
  encoding.writeVarString(encoder, payload);
}

/** The provider detaches the document. */
export function writeClientClose(encoder: encoding.Encoder, key: string): void {
  encoding.writeVarString(encoder, key);
  encoding.writeVarUint(encoder, HocuspocusMessageType.Close);
}

export function writePong(encoder: encoding.Encoder): void {
  encoding.writeVarUint(encoder, HocuspocusMessageType.Pong);
}
