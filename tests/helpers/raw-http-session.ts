import { randomBytes } from 'node:crypto';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { SESSION_HEADER, readStreamRecord, writeMessageBatch, writeStreamRequest, type StreamRecord } from '../../shared/http-frames.js';

/**
 * One HTTP fallback session driven by hand (the shared codec, fetch), to send exactly the
 * requests a test wants: retried, duplicated, reordered, malformed.
 */
export class RawHttpSession {
  readonly records: StreamRecord[] = [];
  private readonly streams: AbortController[] = [];

  constructor(
    /** `http://host:port/sync/<document>` */
    readonly url: string,
    readonly headers: Record<string, string> = {},
    readonly id = randomBytes(16).toString('base64url'),
  ) {}

  request(op: string, body: Uint8Array, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const url = new URL(this.url);
    url.searchParams.set('op', op);
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream', [SESSION_HEADER]: this.id, ...this.headers, ...headers },
      body: body as BodyInit,
      ...(signal && { signal }),
    });
  }

  /** Sends messages numbered from `firstSeq` (building on `after`, a state vector); resolves with the response. */
  send(firstSeq: number, messages: Uint8Array[], after = new Uint8Array([0])): Promise<Response> {
    const encoder = encoding.createEncoder();
    writeMessageBatch(encoder, { firstSeq, after, messages });
    return this.request('send', encoding.toUint8Array(encoder));
  }

  /** Opens a stream; its records are appended to `records` as they arrive. Resolves with the response once its headers are in. */
  async stream(cursor: Uint8Array = new Uint8Array([0]), savedState = false): Promise<Response> {
    const encoder = encoding.createEncoder();
    writeStreamRequest(encoder, { cursor, savedState });
    const abort = new AbortController();
    this.streams.push(abort);
    const response = await this.request('stream', encoding.toUint8Array(encoder), {}, abort.signal);
    if (response.ok && response.body) void this.read(response.body.getReader());
    return response;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    let pending = new Uint8Array(0);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const bytes = new Uint8Array(pending.length + value.length);
        bytes.set(pending);
        bytes.set(value, pending.length);
        const decoder = decoding.createDecoder(bytes);
        for (let record = readStreamRecord(decoder); record; record = readStreamRecord(decoder)) this.records.push(record);
        pending = bytes.slice(decoder.pos);
      }
    } catch {
      // aborted
    }
  }

  /** The y-websocket messages received so far. */
  messages(): Uint8Array[] {
    return this.records.flatMap((record) => (record.kind === 'message' ? [record.message] : []));
  }

  abort(): void {
    for (const stream of this.streams.splice(0)) stream.abort();
  }
}
