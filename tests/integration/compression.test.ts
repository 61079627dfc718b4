/**
 * Compression: permessage-deflate is negotiated with WebSocket clients that offer it (and only
 * then, and not with WS_COMPRESSION=off), and a large document's cold load then takes fewer bytes
 * on the wire; HTTP responses (the editor bundle, pages, the content API) are compressed with
 * brotli or gzip when the client accepts it and decode to exactly the bytes sent uncompressed,
 * with the security headers, cache headers and ETags right.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { useServer } from '../helpers/server.js';
import { once, waitFor } from '../helpers/wait.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request whose body comes back exactly as sent on the wire (fetch would decode it). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.once('error', reject);
    request.end(options.body);
  });
}

function decode(response: Raw): Buffer {
  switch (response.headers['content-encoding']) {
    case 'br':
      return zlib.brotliDecompressSync(response.body);
    case 'gzip':
      return zlib.gunzipSync(response.body);
    case undefined:
      return response.body;
    default:
      throw new Error(`unexpected content-encoding ${response.headers['content-encoding']}`);
  }
}

/** Text that compresses the way prose does (words repeat, order does not). */
function prose(characters: number): string {
  const words = ['document', 'edit', 'the', 'server', 'commit', 'relay', 'cursor', 'of', 'a', 'paragraph', 'offline', 'merge', 'and', 'sync'];
  let text = '';
  let seed = 7;
  while (text.length < characters) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    text += words[seed % words.length] + (seed % 11 === 0 ? '.\n' : ' ');
  }
  return text.slice(0, characters);
}

/** A stock WebsocketProvider whose `ws` socket is kept, offering permessage-deflate or not. */
function deflateClient(syncUrl: string, document: string, offer: boolean) {
  const sockets: WebSocket[] = [];
  let negotiated = '';
  class KeptWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { perMessageDeflate: offer });
      sockets.push(this);
      this.once('upgrade', (response: http.IncomingMessage) => (negotiated = response.headers['sec-websocket-extensions'] ?? ''));
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(syncUrl, document, doc, { WebSocketPolyfill: KeptWebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
  return {
    doc,
    provider,
    socket: () => sockets.at(-1)!,
    /** The server's Sec-WebSocket-Extensions answer, parameters included. */
    negotiated: () => negotiated,
    /** Bytes read from the TCP socket: the frames as they travelled. */
    bytesRead: () => (sockets.at(-1) as unknown as { _socket: { bytesRead: number } })._socket.bytesRead,
    destroy: () => (provider.destroy(), doc.destroy()),
  };
}

const LARGE_TEXT = prose(120_000);

describe('permessage-deflate', () => {
  const clients: TestClient[] = [];
  afterAll(() => clients.forEach((client) => client.destroy()));

  async function writeLargeDocument(syncUrl: string, name: string): Promise<number> {
    const writer = connectClient(syncUrl, name);
    clients.push(writer);
    await synced(writer);
    writer.doc.getText('t').insert(0, LARGE_TEXT);
    // Committed and relayed: a second client sees it all.
    const check = connectClient(syncUrl, name);
    clients.push(check);
    await waitFor(() => check.doc.getText('t').length === LARGE_TEXT.length, 'the large document to be stored');
    return Y.encodeStateAsUpdate(writer.doc).byteLength;
  }

  describe('WS_COMPRESSION=on', () => {
    const server = useServer({ env: { WS_COMPRESSION: 'on' } });

    it('is negotiated with a client that offers it, bounded, and shrinks a cold load', async () => {
      const stateBytes = await writeLargeDocument(server().syncUrl, 'deflate-on');
      const reader = deflateClient(server().syncUrl, 'deflate-on', true);
      try {
        await once(reader.provider as never, 'sync', 'the offering client to sync');
        await waitFor(() => reader.doc.getText('t').length === LARGE_TEXT.length, 'the whole document to arrive');
        expect(reader.doc.getText('t').toString()).toBe(LARGE_TEXT);
        expect(reader.socket().extensions).toBe('permessage-deflate');
        const extensions = reader.negotiated();
        // No context takeover and a 2 KB window: memory per connection stays small.
        expect(extensions).toContain('server_no_context_takeover');
        expect(extensions).toContain('client_no_context_takeover');
        expect(extensions).toMatch(/server_max_window_bits=11/);
        expect(reader.bytesRead()).toBeLessThan(stateBytes * 0.6);

        // Small frames (an edit) still flow both ways.
        reader.doc.getText('t').insert(0, 'typed ');
        const other = connectClient(server().syncUrl, 'deflate-on');
        clients.push(other);
        await waitFor(() => other.doc.getText('t').toString() === 'typed ' + LARGE_TEXT, 'a small edit from the compressing client to arrive');
      } finally {
        reader.destroy();
      }
    });

    it('is not used with a client that does not offer it', async () => {
      const stateBytes = Y.encodeStateAsUpdate(clients[0]!.doc).byteLength;
      const reader = deflateClient(server().syncUrl, 'deflate-on', false);
      try {
        await waitFor(() => reader.doc.getText('t').length >= LARGE_TEXT.length, 'the whole document to arrive uncompressed');
        expect(reader.socket().extensions).toBe('');
        expect(reader.negotiated()).toBe('');
        expect(reader.bytesRead()).toBeGreaterThan(stateBytes);
      } finally {
        reader.destroy();
      }
    });
  });

  describe('WS_COMPRESSION=off (the default)', () => {
    const server = useServer();

    it('is not negotiated even when offered', async () => {
      const stateBytes = await writeLargeDocument(server().syncUrl, 'deflate-off');
      const reader = deflateClient(server().syncUrl, 'deflate-off', true);
      try {
        await waitFor(() => reader.doc.getText('t').length === LARGE_TEXT.length, 'the whole document to arrive');
        expect(reader.socket().extensions).toBe('');
        expect(reader.negotiated()).toBe('');
        expect(reader.bytesRead()).toBeGreaterThan(stateBytes);
      } finally {
        reader.destroy();
      }
    });
  });
});

describe('HTTP compression', () => {
  const server = useServer({ env: { STATIC_DIR: path.resolve('dist/client') } });

  it('compresses the editor bundle and pages with brotli or gzip, decoding to the same bytes, with cache and security headers', async () => {
    const assets = fs.readdirSync('dist/client/assets');
    const bundle = assets.find((name) => name.endsWith('.js'));
    if (!bundle) throw new Error('dist/client/assets has no bundle: run `npm run build` first');
    const url = `${server().httpUrl}/assets/${bundle}`;
    const original = fs.readFileSync(path.join('dist/client/assets', bundle));

    const plain = await raw(url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(original)).toBe(true);
    expect(plain.headers.vary).toMatch(/accept-encoding/i);

    for (const [accept, encoding] of [
      ['gzip, deflate, br', 'br'],
      ['br;q=0.5, gzip', 'gzip'],
      ['gzip', 'gzip'],
      ['*', 'br'],
    ] as const) {
      // Twice: the second answer comes from the cache of immutable files.
      for (let i = 0; i < 2; i++) {
        const compressed = await raw(url, { headers: { 'accept-encoding': accept } });
        expect(compressed.status).toBe(200);
        expect(compressed.headers['content-encoding'], accept).toBe(encoding);
        expect(Number(compressed.headers['content-length'])).toBe(compressed.body.byteLength);
        expect(compressed.body.byteLength).toBeLessThan(original.byteLength / 2.5);
        expect(decode(compressed).equals(original)).toBe(true);
        expect(compressed.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(compressed.headers['content-security-policy']).toContain("default-src 'self'");
        expect(compressed.headers['x-content-type-options']).toBe('nosniff');
      }
    }
    expect((await raw(url, { headers: { 'accept-encoding': 'identity' } })).headers['content-encoding']).toBeUndefined();
    expect((await raw(url, { headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } })).headers['content-encoding']).toBeUndefined();
    const head = await raw(url, { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    expect(head.headers['content-encoding']).toBeUndefined();

    const page = await raw(`${server().httpUrl}/d/some-document`, { headers: { 'accept-encoding': 'br' } });
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(decode(page).equals(fs.readFileSync('dist/client/index.html'))).toBe(true);
  });

  it('compresses the content API, with ETags that still work in If-None-Match and If-Match', async () => {
    const name = 'compressed-content';
    const markdown = LARGE_TEXT.split('\n').slice(0, 600).join('\n\n');
    const created = await fetch(`${server().httpUrl}/api/documents/${name}/content`, { method: 'PUT', headers: { 'content-type': 'text/markdown' }, body: markdown });
    expect(created.status).toBe(201);
    const contentUrl = `${server().httpUrl}/api/documents/${name}/content?format=markdown`;

    const plain = await raw(contentUrl);
    const etag = plain.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    for (const encoding of ['br', 'gzip'] as const) {
      const compressed = await raw(contentUrl, { headers: { 'accept-encoding': encoding } });
      expect(compressed.headers['content-encoding']).toBe(encoding);
      expect(decode(compressed).equals(plain.body)).toBe(true);
      expect(compressed.body.byteLength).toBeLessThan(plain.body.byteLength / 2);
      // Different bytes, a different strong tag; the same document state for conditional requests.
      expect(compressed.headers.etag).toBe(`${etag.slice(0, -1)}-${encoding}"`);
      expect(compressed.headers.vary).toMatch(/accept/i);
      expect((await raw(contentUrl, { headers: { 'accept-encoding': encoding, 'if-none-match': compressed.headers.etag! } })).status).toBe(304);
    }

    const update = `${server().httpUrl}/api/documents/${name}/update`;
    const plainUpdate = await raw(update);
    const gzippedUpdate = await raw(update, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzippedUpdate.headers['content-type']).toBe('application/octet-stream');
    expect(gzippedUpdate.headers['content-encoding']).toBe('gzip');
    expect(decode(gzippedUpdate).equals(plainUpdate.body)).toBe(true);

    // A browser that read the document compressed writes back with the tag it was given.
    const brTag = (await raw(contentUrl, { headers: { 'accept-encoding': 'br' } })).headers.etag!;
    const written = await fetch(`${server().httpUrl}/api/documents/${name}/content`, { method: 'PUT', headers: { 'content-type': 'text/markdown', 'if-match': brTag }, body: '# Replaced' });
    expect(written.status).toBe(200);
    const stale = await fetch(`${server().httpUrl}/api/documents/${name}/content`, { method: 'PUT', headers: { 'content-type': 'text/markdown', 'if-match': brTag }, body: '# Again' });
    expect(stale.status).toBe(412);

    // Small answers and errors are sent as they are.
    const small = await raw(`${server().httpUrl}/api/documents/nothing-here/content`, { headers: { 'accept-encoding': 'br' } });
    expect(small.status).toBe(404);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString('utf8'))).toHaveProperty('error');
  });
});
