import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { binaryFrame } from '../../server/http/ws-frames.js';

// ws' own framing, as the reference: Sender.frame returns [header, payload] for an unmasked frame.
const require = createRequire(import.meta.url);
const { Sender } = require('ws') as { Sender: { frame(data: Buffer, options: object): Buffer[] } };

function wsFrame(payload: Buffer): Buffer {
  return Buffer.concat(Sender.frame(payload, { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false }));
}

describe('binaryFrame', () => {
  it.each([0, 1, 125, 126, 127, 65_535, 65_536, 200_000])('frames %i bytes exactly as ws does', (length) => {
    const payload = Buffer.alloc(length, 0xab);
    expect(Buffer.from(binaryFrame(payload)).equals(wsFrame(payload))).toBe(true);
  });

  it('frames only the bytes of a view into a larger buffer', () => {
    const backing = Buffer.from([9, 9, 1, 2, 3, 9]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 3);
    expect([...binaryFrame(view)]).toEqual([0x82, 3, 1, 2, 3]);
  });
});

describe('createFrameSender with permessage-deflate', () => {
  it('keeps the order of large (compressed) and small (direct) messages, each arriving intact', async () => {
    const { WebSocketServer, WebSocket } = await import('ws');
    const { createFrameSender } = await import('../../server/http/ws-frames.js');
    const { PER_MESSAGE_DEFLATE } = await import('../../server/http/ws-compression.js');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: PER_MESSAGE_DEFLATE });
    await new Promise((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    const text = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => `word${(i * seed) % 97} `).join('').slice(0, n));
    // Large ones are compressed (asynchronously, in ws), small ones are framed once and written directly.
    const payloads = [text(60_000, 3), text(20, 5), text(30, 7), text(5_000, 11), text(10, 13), text(100_000, 17), text(1023, 19), text(1024, 23), text(40, 29)];
    const received: Buffer[] = [];
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: true });
    client.on('message', (data: Buffer) => received.push(data));
    const [server] = await new Promise<[import('ws').WebSocket]>((resolve) => wss.once('connection', (ws) => resolve([ws])));
    await new Promise((resolve) => (client.readyState === WebSocket.OPEN ? resolve(null) : client.once('open', resolve)));
    expect(server.extensions).toBe('permessage-deflate');
    const send = createFrameSender();
    // Twice over, all in one tick: the small ones behind a large one must wait for its compression.
    for (const payload of [...payloads, ...payloads]) send(server, new Uint8Array(payload));
    const deadline = Date.now() + 10_000;
    while (received.length < payloads.length * 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received.map((b) => b.length)).toEqual([...payloads, ...payloads].map((b) => b.length));
    received.forEach((bytes, i) => expect(bytes.equals(payloads[i % payloads.length]!)).toBe(true));
    client.close();
    await new Promise((resolve) => wss.close(resolve));
  });
});
