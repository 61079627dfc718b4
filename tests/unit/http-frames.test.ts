/**
 * The HTTP fallback framing (shared/http-frames.ts): each writer's output read back by its reader,
 * records read from a stream cut at every possible place, and malformed input refused with
 * HttpFrameError (which the server answers with 400).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import {
  HttpFrameError,
  encodeStreamRecord,
  readMessageBatch,
  readStreamRecord,
  readStreamRequest,
  writeMessageBatch,
  writeStreamRequest,
  type StreamRecord,
} from '../../shared/http-frames.js';

const encode = (write: (encoder: encoding.Encoder) => void) => {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
};

describe('HTTP fallback framing', () => {
  it('reads back a stream request and a message batch', () => {
    const request = { cursor: new Uint8Array([1, 200, 3, 4]), savedState: true };
    expect(readStreamRequest(decoding.createDecoder(encode((e) => writeStreamRequest(e, request))))).toEqual(request);
    const batch = { firstSeq: 300, after: new Uint8Array([1, 7, 42]), messages: [new Uint8Array([0, 2, 1, 255]), new Uint8Array(0), new Uint8Array(70_000).fill(7)] };
    expect(readMessageBatch(decoding.createDecoder(encode((e) => writeMessageBatch(e, batch))), 10)).toEqual(batch);
  });

  it('reads records from a stream cut anywhere, every byte value intact', () => {
    const records: StreamRecord[] = [
      { kind: 'message', message: new Uint8Array(256).map((_, i) => i) },
      { kind: 'cursor', cursor: new Uint8Array([1, 5, 9]) },
      { kind: 'heartbeat' },
      { kind: 'close', code: 4404, reason: 'document deleted · ✓' },
    ];
    const stream = Buffer.concat(records.map(encodeStreamRecord));
    for (let cut = 0; cut <= stream.length; cut++) {
      const read: StreamRecord[] = [];
      let pending: Uint8Array = new Uint8Array(0);
      for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
        const bytes = Buffer.concat([pending, chunk]);
        const decoder = decoding.createDecoder(bytes);
        for (let record = readStreamRecord(decoder); record; record = readStreamRecord(decoder)) read.push(record);
        pending = bytes.subarray(decoder.pos);
      }
      expect(read).toEqual(records);
    }
  });

  it('refuses malformed input', () => {
    const refused = (read: () => unknown, message: RegExp) => expect(read).toThrowError(new RegExp(message.source));
    refused(() => readStreamRequest(decoding.createDecoder(new Uint8Array())), /malformed stream request/);
    refused(() => readStreamRequest(decoding.createDecoder(new Uint8Array([0, 5, 1]))), /malformed stream request/);
    refused(() => readStreamRequest(decoding.createDecoder(new Uint8Array([0, 1, 0, 9]))), /trailing bytes/);
    refused(() => readMessageBatch(decoding.createDecoder(new Uint8Array([0, 1, 0, 11])), 10), /more than 10 messages/);
    refused(() => readMessageBatch(decoding.createDecoder(new Uint8Array([0, 1, 0, 1, 3, 1])), 10), /malformed message batch/);
    refused(() => readStreamRecord(decoding.createDecoder(new Uint8Array([1, 0, 0, 0, 9]))), /unknown record kind 9/);
    expect(() => readStreamRequest(decoding.createDecoder(new Uint8Array()))).toThrow(HttpFrameError);
    // Not yet complete: null, and the position stays where the record starts.
    const partial = decoding.createDecoder(encodeStreamRecord({ kind: 'cursor', cursor: new Uint8Array([1, 2]) }).subarray(0, 5));
    expect(readStreamRecord(partial)).toBeNull();
    expect(partial.pos).toBe(0);
  });
});
