import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/**
 * The HTTP fallback transport's framing, as write/read pairs over lib0 encoders and decoders (the
 * style of y-protocols). The y-websocket messages themselves travel unchanged inside; these only
 * wrap them for HTTP. Binary throughout: no base64, the bodies are `application/octet-stream`.
 *
 *   client → server  POST …?op=stream  [flags, cursor]            opens the server → client stream
 *   server → client  its response      [u32 length, record]*      records, until the server ends it
 *   client → server  POST …?op=send    [firstSeq, after, count, message*] numbered messages
 *   client → server  POST …?op=close   (empty)                    ends the session on that instance
 *
 * A record is one of: a y-websocket message; a cursor (the state vector the client is known to
 * have everything of: it sends it back when it opens its next stream, on any instance); a
 * heartbeat (keeps proxies from timing the response out); a close (code and reason, as a WebSocket
 * close). Readers throw HttpFrameError on anything malformed: the server answers 400 with it.
 */

export class HttpFrameError extends Error {
  override name = 'HttpFrameError';
}

/** Header that names the client's session (never a credential: the token travels separately). */
export const SESSION_HEADER = 'x-collab-session';
/** Session ids: 16 to 64 characters of base64url (the client makes 128 random bits). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export const StreamFlags = {
  /** The client subscribed to SavedState frames (our editor): every new stream answers it again. */
  SavedState: 1,
} as const;

export interface StreamRequest {
  /** What the client has (a state vector): the stream starts with everything the server has beyond it. */
  cursor: Uint8Array;
  savedState: boolean;
}

export function writeStreamRequest(encoder: encoding.Encoder, request: StreamRequest): void {
  encoding.writeVarUint(encoder, request.savedState ? StreamFlags.SavedState : 0);
  encoding.writeVarUint8Array(encoder, request.cursor);
}

export function readStreamRequest(decoder: decoding.Decoder): StreamRequest {
  return guarded('stream request', () => {
    const flags = decoding.readVarUint(decoder);
    const cursor = readBytes(decoder);
    expectEnd(decoder);
    return { cursor, savedState: (flags & StreamFlags.SavedState) !== 0 };
  });
}

export interface MessageBatch {
  /** Sequence number of the first message; the next ones follow by one. Per session, from 0. */
  firstSeq: number;
  /**
   * A state vector of what the messages may build on (what the client received, and its own edits
   * the server acknowledged): the instance waits, briefly, until its room has it. Another instance
   * may have sent it that, and the relay may not have brought it here yet.
   */
  after: Uint8Array;
  messages: Uint8Array[];
}

export function writeMessageBatch(encoder: encoding.Encoder, batch: MessageBatch): void {
  encoding.writeVarUint(encoder, batch.firstSeq);
  encoding.writeVarUint8Array(encoder, batch.after);
  encoding.writeVarUint(encoder, batch.messages.length);
  for (const message of batch.messages) encoding.writeVarUint8Array(encoder, message);
}

/** Reads a batch of at most `maxMessages` messages. */
export function readMessageBatch(decoder: decoding.Decoder, maxMessages: number): MessageBatch {
  return guarded('message batch', () => {
    const firstSeq = decoding.readVarUint(decoder);
    const after = readBytes(decoder);
    const count = decoding.readVarUint(decoder);
    if (count > maxMessages) throw new HttpFrameError(`more than ${maxMessages} messages in one request`);
    if (!Number.isSafeInteger(firstSeq + count)) throw new HttpFrameError('sequence number out of range');
    const messages: Uint8Array[] = [];
    for (let i = 0; i < count; i++) messages.push(readBytes(decoder));
    expectEnd(decoder);
    return { firstSeq, after, messages };
  });
}

/** A state vector (Y.encodeStateVector's format) from clocks by client id. */
export function writeStateVector(encoder: encoding.Encoder, clocks: ReadonlyMap<number, number>): void {
  encoding.writeVarUint(encoder, clocks.size);
  for (const [client, clock] of clocks) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, clock);
  }
}

export const RecordKind = {
  Message: 0,
  Cursor: 1,
  Heartbeat: 2,
  Close: 3,
} as const;

export type StreamRecord =
  | { kind: 'message'; message: Uint8Array }
  | { kind: 'cursor'; cursor: Uint8Array }
  | { kind: 'heartbeat' }
  | { kind: 'close'; code: number; reason: string };

/** Writes one record with its length in front (the stream is read in chunks that cut records anywhere). */
export function writeStreamRecord(encoder: encoding.Encoder, record: StreamRecord): void {
  const body = encoding.createEncoder();
  switch (record.kind) {
    case 'message':
      encoding.writeVarUint(body, RecordKind.Message);
      encoding.writeVarUint8Array(body, record.message);
      break;
    case 'cursor':
      encoding.writeVarUint(body, RecordKind.Cursor);
      encoding.writeVarUint8Array(body, record.cursor);
      break;
    case 'heartbeat':
      encoding.writeVarUint(body, RecordKind.Heartbeat);
      break;
    case 'close':
      encoding.writeVarUint(body, RecordKind.Close);
      encoding.writeVarUint(body, record.code);
      encoding.writeVarString(body, record.reason);
      break;
  }
  encoding.writeUint32(encoder, encoding.length(body));
  encoding.writeUint8Array(encoder, encoding.toUint8Array(body));
}

/** One record as bytes (what the server queues per record). */
export function encodeStreamRecord(record: StreamRecord): Uint8Array {
  const encoder = encoding.createEncoder();
  writeStreamRecord(encoder, record);
  return encoding.toUint8Array(encoder);
}

/**
 * Reads the next record if the decoder holds all of it; null (and the position unchanged) if it
 * holds only part of one, so that a reader can wait for the next chunk.
 */
export function readStreamRecord(decoder: decoding.Decoder): StreamRecord | null {
  const start = decoder.pos;
  const available = decoder.arr.length - start;
  if (available < 4) return null;
  const length = decoding.readUint32(decoder);
  if (available - 4 < length) {
    decoder.pos = start;
    return null;
  }
  const body = decoding.createDecoder(decoding.readUint8Array(decoder, length));
  return guarded('stream record', () => {
    const kind = decoding.readVarUint(body);
    let record: StreamRecord;
    switch (kind) {
      case RecordKind.Message:
        record = { kind: 'message', message: readBytes(body) };
        break;
      case RecordKind.Cursor:
        record = { kind: 'cursor', cursor: readBytes(body) };
        break;
      case RecordKind.Heartbeat:
        record = { kind: 'heartbeat' };
        break;
      case RecordKind.Close:
        record = { kind: 'close', code: decoding.readVarUint(body), reason: decoding.readVarString(body) };
        break;
      default:
        throw new HttpFrameError(`unknown record kind ${kind}`);
    }
    expectEnd(body);
    return record;
  });
}

function readBytes(decoder: decoding.Decoder): Uint8Array {
  const bytes = decoding.readVarUint8Array(decoder);
  // readVarUint8Array trusts the declared length.
  if (decoder.pos > decoder.arr.length) throw new HttpFrameError('truncated');
  return bytes;
}

function expectEnd(decoder: decoding.Decoder): void {
  if (decoding.hasContent(decoder)) throw new HttpFrameError('trailing bytes');
}

function guarded<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof HttpFrameError) throw new HttpFrameError(`malformed ${what}: ${error.message}`);
    throw new HttpFrameError(`malformed ${what}`);
  }
}
