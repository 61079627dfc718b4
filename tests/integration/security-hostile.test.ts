import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import type { ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { closed, collect, frames, open, startSecureServer, token } from './security-harness.js';

describe('hostile clients with valid tokens', () => {
  let server: ServerProcess;
  const clients: TestClient[] = [];
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    server = await startSecureServer({ MAX_BUFFERED_BYTES: '65536' });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    for (const socket of sockets) socket.terminate();
    await server.kill();
  });
  const client = async (name: string, subject: string) => {
    const created = connectClient(server.syncUrl, name, { params: { token: await token({ subject }) } });
    clients.push(created);
    await synced(created);
    return created;
  };
  const raw = async (name: string, subject: string) => {
    const socket = await open(`${server.syncUrl}/${name}?token=${await token({ subject })}`);
    sockets.push(socket);
    return socket;
  };

  it('cannot change or remove another client’s awareness state', async () => {
    const alice = await client('aw', 'alice');
    const bob = await client('aw', 'bob');
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice' });
    await waitFor(() => bob.provider.awareness.getStates().get(alice.doc.clientID)?.user?.name === 'Alice', 'Bob to see Alice');
    const clock = alice.provider.awareness.meta.get(alice.doc.clientID)!.clock;

    const mallory = await raw('aw', 'mallory');
    // Alice's id with a higher clock (takeover), then her removal; plus a state of Mallory's own,
    // which shows when the server has handled the frame.
    mallory.send(frames.awareness([[alice.doc.clientID, clock + 10, { user: { name: 'Mallory as Alice' } }], [777001, 1, { user: { name: 'Mallory' } }]]));
    mallory.send(frames.awareness([[alice.doc.clientID, clock + 11, null], [777001, 2, { user: { name: 'Mallory 2' } }]]));
    await waitFor(() => bob.provider.awareness.getStates().get(777001)?.user?.name === 'Mallory 2', 'Mallory’s own state to arrive');
    expect(bob.provider.awareness.getStates().get(alice.doc.clientID)?.user?.name).toBe('Alice');
    expect(await metric(server.httpUrl, 'collab_refused_total', '{reason="foreign or oversized awareness"}')).toBeGreaterThanOrEqual(2);

    // Nor can it hold more than a few client ids.
    const many = await raw('aw', 'mallory');
    many.send(frames.awareness(Array.from({ length: 20 }, (_, i) => [778000 + i, 1, { n: i }] as [number, number, unknown])));
    await waitFor(() => bob.provider.awareness.getStates().has(778000), 'the first ids to arrive');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const held = [...bob.provider.awareness.getStates().keys()].filter((id) => id >= 778000 && id < 778100);
    expect(held.length).toBe(4);
  });

  it('cannot write document content as another connection’s client id', async () => {
    const alice = await client('ids', 'alice');
    const bob = await client('ids', 'bob');
    alice.doc.getText('t').insert(0, 'alice-1 ');
    await waitFor(() => bob.doc.getText('t').toString() === 'alice-1 ', 'Bob to see Alice’s edit');

    // Mallory forges the items Alice is about to write (her client id, her next clocks).
    const forged = new Y.Doc();
    Y.applyUpdate(forged, Y.encodeStateAsUpdate(alice.doc));
    forged.clientID = alice.doc.clientID;
    forged.getText('t').insert(0, 'FORGED ');
    const mallory = await raw('ids', 'mallory');
    const result = closed(mallory);
    mallory.send(frames.update(Y.encodeStateAsUpdate(forged, Y.encodeStateVector(alice.doc))));
    const { code, reason } = await result;
    expect(code).toBe(4400);
    expect(reason).toMatch(/writes as client \d+, which another connection writes with/);

    alice.doc.getText('t').insert(0, 'alice-2 ');
    await waitFor(() => bob.doc.getText('t').toString() === 'alice-2 alice-1 ', 'Bob to get Alice’s real edit');
  });

  it('refuses an update whose item refers forward within its own client (it would break later honest updates)', async () => {
    // Client 7 writes "a" (clock 0) then "b" after it (clock 1, origin 7:0). The second update
    // is altered so that "b" claims to follow 7:9, an item that does not exist yet.
    const doc = new Y.Doc();
    doc.clientID = 7;
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    doc.getText('t').insert(0, 'a');
    doc.getText('t').insert(1, 'b');
    const poisoned = Uint8Array.from(updates[1]!);
    expect(Array.from(poisoned.subarray(0, 7))).toEqual([1, 1, 7, 1, poisoned[4], 7, 0]);
    poisoned[6] = 9;
    expect(Y.decodeUpdate(poisoned).structs[0]).toMatchObject({ origin: { client: 7, clock: 9 } });

    const observer = await client('forward', 'observer');
    const mallory = await raw('forward', 'mallory');
    const result = closed(mallory);
    mallory.send(frames.update(poisoned));
    expect(await result).toMatchObject({ code: 4400, reason: 'malformed update: an item refers to a later item of its own client' });

    // The honest first update still applies, and the room goes on working.
    const honest = await raw('forward', 'client7');
    honest.send(frames.update(updates[0]!));
    await waitFor(() => observer.doc.getText('t').toString() === 'a', 'the honest update to arrive');
    observer.doc.getText('t').insert(1, 'c');
    const checker = await client('forward', 'checker');
    await waitFor(() => checker.doc.getText('t').toString() === 'ac', 'a new client to see the document');
  });

  it('drops a slow consumer with 1013 instead of queueing without bound', async () => {
    const writer = await client('slow', 'writer');
    const reader = await client('slow', 'reader');
    const slow = await raw('slow', 'slow');
    const received = collect(slow);
    // Stop reading: the kernel buffers fill, then the server's queue for this socket grows.
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();
    const result = closed(slow, 20_000);

    // ~12 MB in 48 updates: far more than the socket buffers plus MAX_BUFFERED_BYTES (64 KiB).
    const chunk = 'y'.repeat(256 * 1024);
    for (let i = 0; i < 48; i++) {
      writer.doc.getText('t').insert(0, chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(() => reader.doc.getText('t').length === 48 * chunk.length, 'the normal reader to get everything', 20_000);
    // The server decided while broadcasting; the close frame waits behind what was queued.
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await result).toEqual({ code: 1013, reason: 'slow consumer: too many unsent bytes' });
    const bytes = received.reduce((sum, frame) => sum + frame.byteLength, 0);
    expect(bytes).toBeLessThan(48 * chunk.length);
  });
});
