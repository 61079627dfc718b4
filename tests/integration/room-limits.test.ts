/**
 * Limits around loading documents (docs/security.md, "Limits"): at MAX_ROOMS the API answers 503
 * for what needs a loaded document, and a client that sends more than 1,000 frames while its
 * document loads is closed with 1013.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { startServer, useServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const clients: TestClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
function connect(server: ServerProcess, name: string, doc?: Y.Doc): TestClient {
  const client = connectClient(server.syncUrl, name, doc ? { doc } : {});
  clients.push(client);
  return client;
}

describe('the API at MAX_ROOMS', () => {
  const server = useServer({ env: { MAX_ROOMS: '1', ROOM_IDLE_MS: '60000' } });
  const api = (route: string, method: string, body: unknown) =>
    fetch(`${server().httpUrl}${route}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers 503 when retitling needs a document loaded and every loaded one is in use; once one is idle, it is unloaded for it', async () => {
    const busy = connect(server(), 'busy');
    await synced(busy);
    expect(await metric(server().httpUrl, 'collab_rooms')).toBe(1);
    // Creating without a title loads nothing.
    expect((await api('/api/documents', 'POST', { name: 'other' })).status).toBe(201);

    const refused = await api('/api/documents/other', 'PATCH', { title: 'Renamed' });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: 'too many documents open on this server (1); try again later' });
    expect(((await (await fetch(`${server().httpUrl}/api/documents/other`)).json()) as { title: string }).title).toBe('');
    expect(busy.provider.wsconnected).toBe(true);
    // Creating with a title needs the room too: refused before anything is created, so a retry works.
    const titled = await api('/api/documents', 'POST', { name: 'titled', title: 'Later' });
    expect(titled.status).toBe(503);
    expect((await fetch(`${server().httpUrl}/api/documents/titled`)).status).toBe(404);

    // The client leaves: its room is idle (ROOM_IDLE_MS is a minute), and unloaded early for the API.
    busy.destroy();
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 0, 'the client to be gone');
    const accepted = await api('/api/documents/other', 'PATCH', { title: 'Renamed' });
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { title: string }).title).toBe('Renamed');
    expect(await metric(server().httpUrl, 'collab_rooms')).toBe(1);
    expect((await api('/api/documents', 'POST', { name: 'titled', title: 'Later' })).status).toBe(201);
  });
});

/** A client-to-server WebSocket frame (binary, final), masked with a zero key as clients must mask. */
function maskedFrame(payload: Uint8Array): Buffer {
  if (payload.length >= 126) throw new Error('short frames only');
  return Buffer.from([0x82, 0x80 | payload.length, 0, 0, 0, 0, ...payload]);
}

/**
 * Sends a WebSocket handshake and, in the same write, `frames`: the server reads them the moment it
 * has upgraded the socket, while the document is still loading (no race with the load). Resolves
 * with the upgrade status and the close frame the server sent, if any.
 */
function handshakeWithFrames(port: number, path: string, frames: Buffer[]): Promise<{ status: number; close: { code: number; reason: string } | null }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server neither closed ${path} nor dropped the connection within 15 s`));
    }, 15_000);
    const finish = () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const headEnd = data.indexOf('\r\n\r\n');
      const status = Number(data.subarray(0, headEnd).toString().split(' ')[1]);
      // Server frames are not masked; find the close frame (opcode 8) among them.
      let offset = headEnd + 4;
      let close: { code: number; reason: string } | null = null;
      while (offset + 2 <= data.length) {
        const opcode = data[offset]! & 0x0f;
        let length = data[offset + 1]! & 0x7f;
        let start = offset + 2;
        if (length === 126) {
          length = data.readUInt16BE(offset + 2);
          start += 2;
        } else if (length === 127) {
          length = Number(data.readBigUInt64BE(offset + 2));
          start += 8;
        }
        if (opcode === 8) close = { code: data.readUInt16BE(start), reason: data.subarray(start + 2, start + length).toString() };
        offset = start + length;
      }
      resolve({ status, close });
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // Answer the server's close as a client does, so that the server closes the TCP connection.
      if (Buffer.concat(chunks).includes(Buffer.from([0x88]))) socket.end();
    });
    socket.on('close', finish);
    socket.on('error', () => {});
    const head = [
      `GET ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ].join('\r\n');
    socket.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), ...frames]));
  });
}

/** 5,000 insertions at the front: as many items (no two merge), about 60 KB stored. */
function storedSource(): Y.Doc {
  const doc = new Y.Doc();
  for (let i = 0; i < 5_000; i++) doc.getText('t').insert(0, `${i} `);
  return doc;
}

describe('frames while the document loads', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // Stored documents large enough (over 16 KB) that loading one has a window in which clients
    // that have nothing are answered from the stored bytes, then a restart: the rooms are cold.
    const first = await startServer();
    for (const name of ['flooded', 'at-the-limit']) {
      const source = storedSource();
      const writer = connect(first, name, source);
      const reader = connect(first, name);
      await Promise.all([synced(writer), synced(reader)]);
      await waitFor(() => reader.doc.getText('t').length === source.getText('t').length, `"${name}" to be committed`);
    }
    for (const client of clients.splice(0)) client.destroy();
    expect(await first.kill('SIGTERM')).toBe(0);
    server = await startServer({ dataDir: first.dataDir });
  });
  afterAll(async () => {
    await server.kill();
  });

  it('closes a client that sends more than 1,000 frames before its document is ready with 1013, and the document loads as usual', async () => {
    const roomsBefore = await metric(server.httpUrl, 'collab_rooms');
    expect(roomsBefore).toBe(0);
    // 1,001 query-awareness frames (type 3): harmless each, and none of them asks for the document.
    const flood = Array.from({ length: 1_001 }, () => maskedFrame(Uint8Array.of(3)));
    const result = await handshakeWithFrames(server.port, '/sync/flooded', flood);
    expect(result.status).toBe(101);
    expect(result.close).toEqual({ code: 1013, reason: 'too many frames before the document was ready' });

    // 1,000 are allowed: a client that sends exactly that many to another cold document (999, and
    // its sync step 1 last) is served.
    expect(await metric(server.httpUrl, 'collab_rooms')).toBeLessThanOrEqual(1);
    const allowed = await handshakeWithFramesThenSync(server, '/sync/at-the-limit', Array.from({ length: 999 }, () => maskedFrame(Uint8Array.of(3))));
    expect(allowed).toBe('answered');

    // The document is intact for everyone else.
    const fresh = connect(server, 'flooded');
    await synced(fresh);
    expect(fresh.doc.getText('t').toString()).toBe(storedSource().getText('t').toString());
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });
});

/**
 * Like handshakeWithFrames, then a sync step 1 (an empty state vector) as one more frame: resolves 'answered' once the
 * server answers it with a sync step 2, 'closed' if it closes the connection instead.
 */
function handshakeWithFramesThenSync(server: ServerProcess, path: string, frames: Buffer[]): Promise<'answered' | 'closed'> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer to the sync step 1 within 15 s'));
    }, 15_000);
    const done = (outcome: 'answered' | 'closed') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const headEnd = data.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      let offset = headEnd + 4;
      while (offset + 2 <= data.length) {
        const opcode = data[offset]! & 0x0f;
        let length = data[offset + 1]! & 0x7f;
        let start = offset + 2;
        if (length === 126) {
          if (offset + 4 > data.length) return;
          length = data.readUInt16BE(offset + 2);
          start += 2;
        } else if (length === 127) {
          if (offset + 10 > data.length) return;
          length = Number(data.readBigUInt64BE(offset + 2));
          start += 8;
        }
        if (start + 2 > data.length) return;
        if (opcode === 8) return done('closed');
        // A sync message (0), sync step 2 (1).
        if (opcode === 2 && data[start] === 0 && data[start + 1] === 1) return done('answered');
        offset = start + length;
      }
    });
    socket.on('close', () => done('closed'));
    socket.on('error', () => {});
    const head = [
      `GET ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ].join('\r\n');
    socket.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), ...frames, maskedFrame(Uint8Array.of(0, 0, 1, 0))]));
  });
}
