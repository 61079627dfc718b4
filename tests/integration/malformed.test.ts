import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/** Opens a raw socket to a document and sends one frame; resolves with how the server closed it. */
async function sendRaw(server: ServerProcess, name: string, frame: Uint8Array | string): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(`${server.syncUrl}/${encodeURIComponent(name)}`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.send(frame);
  return closed;
}

describe('a malformed frame from one client', () => {
  let server: ServerProcess;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server.kill();
  });

  // Each is refused with 4400 and a reason; none reaches the document or the other clients.
  const garbageUpdate = new Uint8Array([0, 2, 6, 1, 200, 200, 200, 200, 200]);
  const cases: Array<[string, Uint8Array | string, RegExp]> = [
    ['an unknown message type', new Uint8Array([42]), /unknown message type 42/],
    ['a truncated varint', new Uint8Array([0x80]), /malformed message type/],
    ['a huge declared length', new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]), /truncated update/],
    ['garbage inside an update', garbageUpdate, /malformed update|rejected/],
    ['a malformed awareness update', new Uint8Array([1, 3, 1, 1, 1]), /awareness/],
    ['a text frame', 'hello', /text frames/],
  ];

  it.each(cases)('closes the sender of %s with 4400 and leaves the others undisturbed', async (_what, frame, reason) => {
    const alice = connectClient(server.syncUrl, 'shared');
    const bob = connectClient(server.syncUrl, 'shared');
    clients.push(alice, bob);
    await Promise.all([synced(alice), synced(bob)]);
    const before = bob.doc.getText('t').toString();

    const closed = await sendRaw(server, 'shared', frame);
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(reason);

    const marker = `after ${_what}`;
    alice.doc.getText('t').insert(0, marker);
    await waitFor(() => bob.doc.getText('t').toString() === marker + before, 'Bob to receive Alice’s next edit');
    expect(alice.provider.wsconnected && bob.provider.wsconnected).toBe(true);
    alice.destroy();
    bob.destroy();
  });

  it('does not persist a valid-looking update that Yjs cannot apply, and the server stays healthy', async () => {
    // A real update with its delete set cut short: decodes as far as the structs, then fails.
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'poison');
    doc.getText('t').delete(0, 2);
    const update = Y.encodeStateAsUpdate(doc);
    const truncated = update.subarray(0, update.length - 1);
    const header = new Uint8Array([0, 2, truncated.length]);
    expect(truncated.length).toBeLessThan(128); // the one-byte length above
    const closed = await sendRaw(server, 'poison', new Uint8Array([...header, ...truncated]));
    expect(closed.code).toBe(4400);

    const reader = connectClient(server.syncUrl, 'poison');
    clients.push(reader);
    await synced(reader);
    expect(reader.doc.getText('t').toString()).toBe('');
    const health = await fetch(`${server.httpUrl}/healthz`);
    expect(health.status).toBe(200);

    // The room stores what it is sent: an honest edit after the poison is committed (the reader
    // receives it only then)...
    const writer = connectClient(server.syncUrl, 'poison');
    clients.push(writer);
    await synced(writer);
    writer.doc.getText('t').insert(0, 'honest');
    await waitFor(() => reader.doc.getText('t').toString() === 'honest', 'the honest edit to be committed and relayed');
    for (const client of clients.splice(0)) client.destroy();

    // ...and after a restart on the same data (the room was in memory until now; a graceful stop
    // also folds the room's document into a snapshot), a fresh client finds that edit and nothing
    // of the poison: neither in the update log nor in what the room held.
    const dataDir = server.dataDir;
    expect(await server.kill('SIGTERM')).toBe(0);
    server = await startServer({ dataDir });
    const fresh = connectClient(server.syncUrl, 'poison');
    clients.push(fresh);
    await synced(fresh);
    expect(fresh.doc.getText('t').toString()).toBe('honest');
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });
});
