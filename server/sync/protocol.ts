import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { MessageType, SyncMessageType } from '../../shared/protocol.js';
import { readSubscribeSaved } from '../../shared/saved-state.js';

/** A frame the server could not make sense of; the connection that sent it is closed with 4400. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export type ClientMessage =
  | { kind: 'sync-step1'; stateVector: Uint8Array }
  | { kind: 'sync-step2'; update: Uint8Array }
  | { kind: 'sync-update'; update: Uint8Array }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'query-awareness' }
  | { kind: 'auth' }
  | { kind: 'subscribe-saved' };

function readPayload(decoder: decoding.Decoder, what: string): Uint8Array {
  let payload: Uint8Array;
  try {
    payload = decoding.readVarUint8Array(decoder);
  } catch {
    throw new ProtocolError(`truncated ${what}`);
  }
  // readVarUint8Array trusts the declared length; the frame may be a view into a larger buffer.
  if (decoder.pos > decoder.arr.length) throw new ProtocolError(`truncated ${what}`);
  return payload;
}

function readType(decoder: decoding.Decoder, what: string): number {
  if (!decoding.hasContent(decoder)) throw new ProtocolError(`empty ${what}`);
  try {
    return decoding.readVarUint(decoder);
  } catch {
    throw new ProtocolError(`malformed ${what} type`);
  }
}

function expectEnd(decoder: decoding.Decoder, what: string): void {
  if (decoding.hasContent(decoder)) throw new ProtocolError(`trailing bytes after ${what}`);
}

/** Decodes one frame from a client. Throws ProtocolError for anything malformed or unknown. */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  const decoder = decoding.createDecoder(frame);
  const type = readType(decoder, 'message');
  let message: ClientMessage;
  switch (type) {
    case MessageType.Sync: {
      const syncType = readType(decoder, 'sync message');
      switch (syncType) {
        case SyncMessageType.Step1:
          message = { kind: 'sync-step1', stateVector: readPayload(decoder, 'sync step 1') };
          break;
        case SyncMessageType.Step2:
          message = { kind: 'sync-step2', update: readPayload(decoder, 'sync step 2') };
          break;
        case SyncMessageType.Update:
          message = { kind: 'sync-update', update: readPayload(decoder, 'update') };
          break;
        default:
          throw new ProtocolError(`unknown sync message type ${syncType}`);
      }
      break;
    }
    case MessageType.Awareness:
      message = { kind: 'awareness', update: readPayload(decoder, 'awareness update') };
      break;
    case MessageType.QueryAwareness:
      message = { kind: 'query-awareness' };
      break;
    case MessageType.Auth:
      // y-protocols/auth: the server decides permissions; a client's auth frame carries nothing we use.
      return { kind: 'auth' };
    case MessageType.SavedState:
      readSubscribeSaved(decoder);
      message = { kind: 'subscribe-saved' };
      break;
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
  expectEnd(decoder, message.kind);
  return message;
}

export function writeSyncStep1(encoder: encoding.Encoder, stateVector: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncMessageType.Step1);
  encoding.writeVarUint8Array(encoder, stateVector);
}

export function writeSyncStep2(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncMessageType.Step2);
  encoding.writeVarUint8Array(encoder, update);
}

export function writeUpdate(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncMessageType.Update);
  encoding.writeVarUint8Array(encoder, update);
}

export function writeAwareness(encoder: encoding.Encoder, awarenessUpdate: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Awareness);
  encoding.writeVarUint8Array(encoder, awarenessUpdate);
}

/** "Send me every awareness state" (the HTTP fallback asks it for each new stream). */
export function writeQueryAwareness(encoder: encoding.Encoder): void {
  encoding.writeVarUint(encoder, MessageType.QueryAwareness);
}

/**
 * Encodes a whole frame with one of the write functions above, or with the SavedState
 * extension's writers in shared/saved-state.ts.
 */
export function encodeFrame<A extends unknown[]>(write: (encoder: encoding.Encoder, ...args: A) => void, ...args: A): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder, ...args);
  return encoding.toUint8Array(encoder);
}

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** The JSON text of the state; "null" when the client removes its state. */
  stateJson: string;
}

/** Decodes an awareness update (y-protocols/awareness format) without applying it. */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  try {
    const count = decoding.readVarUint(decoder);
    // Each entry takes at least three bytes; a larger count is a lie about the length.
    if (count > update.length) throw new ProtocolError('awareness update declares more entries than it holds');
    const entries: AwarenessEntry[] = [];
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const stateJson = decoding.readVarString(decoder);
      if (decoder.pos > update.length) throw new ProtocolError('truncated awareness update');
      JSON.parse(stateJson);
      entries.push({ clientId, clock, stateJson });
    }
    expectEnd(decoder, 'awareness update');
    return entries;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('malformed awareness update');
  }
}

/** Re-encodes a subset of entries (e.g. after dropping ones a connection may not touch). */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.stateJson);
  }
  return encoding.toUint8Array(encoder);
}
