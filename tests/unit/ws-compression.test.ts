import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { PER_MESSAGE_DEFLATE, releaseIdleStreams } from '../../server/http/ws-compression.js';

interface Streams {
  _extensions: Record<string, { _deflate: object | null; _inflate: object | null }>;
}
const streams = (ws: WebSocket) => (ws as unknown as Streams)._extensions['permessage-deflate']!;

const text = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => `word${(i * seed) % 89} `).join('').slice(0, n));

describe('releaseIdleStreams', () => {
  let wss: WebSocketServer | null = null;
  afterEach(async () => {
    await new Promise((resolve) => (wss ? wss.close(resolve) : resolve(null)));
    wss = null;
  });

  async function pair(): Promise<{ server: WebSocket; client: WebSocket; received: { server: Buffer[]; client: Buffer[] } }> {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: PER_MESSAGE_DEFLATE });
    await new Promise((resolve) => wss!.once('listening', resolve));
    const received = { server: [] as Buffer[], client: [] as Buffer[] };
    const connected = new Promise<WebSocket>((resolve) => wss!.once('connection', resolve));
    // As a browser: compresses every frame it sends.
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, { perMessageDeflate: { threshold: 0 } });
    client.on('message', (data: Buffer) => received.client.push(data));
    const server = await connected;
    server.on('message', (data: Buffer) => received.server.push(data));
    await new Promise((resolve) => (client.readyState === WebSocket.OPEN ? resolve(null) : client.once('open', resolve)));
    return { server, client, received };
  }

  async function until(predicate: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('frees the zlib streams of a socket that did not use them since the last sweep; they come back when needed', async () => {
    const { server, client, received } = await pair();
    const large = text(50_000, 3);
    server.send(large);
    client.send(text(200, 7));
    await until(() => received.client.length === 1 && received.server.length === 1, 'one message each way');
    expect(streams(server)._deflate).not.toBeNull();
    expect(streams(server)._inflate).not.toBeNull();

    releaseIdleStreams(server); // the first sweep only notes what the streams have done so far
    expect(streams(server)._deflate).not.toBeNull();
    client.send(text(300, 11)); // the inflate is used again: it is kept at the next sweep
    await until(() => received.server.length === 2, 'a second message to the server');
    releaseIdleStreams(server);
    expect(streams(server)._deflate).toBeNull();
    expect(streams(server)._inflate).not.toBeNull();
    releaseIdleStreams(server);
    expect(streams(server)._inflate).toBeNull();

    // Both directions still work, with streams made afresh, and every byte arrives intact.
    server.send(large);
    client.send(text(5_000, 13));
    await until(() => received.client.length === 2 && received.server.length === 3, 'messages after the release');
    expect(received.client[1]!.equals(large)).toBe(true);
    expect(received.server[2]!.equals(text(5_000, 13))).toBe(true);
    client.close();
  });

  it('keeps a deflate stream while a compression is in flight', async () => {
    const { server, client, received } = await pair();
    server.send(text(2_000, 5));
    await until(() => received.client.length === 1, 'the first message');
    releaseIdleStreams(server);
    // A large send starts compressing (asynchronously); a sweep in the meantime must not take its stream.
    server.send(text(400_000, 17));
    releaseIdleStreams(server);
    expect(streams(server)._deflate).not.toBeNull();
    await until(() => received.client.length === 2, 'the large message');
    expect(received.client[1]!.equals(text(400_000, 17))).toBe(true);
    client.close();
  });

  it('does nothing on a socket without compression', async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise((resolve) => wss!.once('listening', resolve));
    const connected = new Promise<WebSocket>((resolve) => wss!.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    const server = await connected;
    await new Promise((resolve) => (client.readyState === WebSocket.OPEN ? resolve(null) : client.once('open', resolve)));
    expect(() => releaseIdleStreams(server)).not.toThrow();
    expect(server.extensions).toBe('');
    client.close();
  });
});
