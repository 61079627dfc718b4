import * as decoding from 'lib0/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { counter, metric } from '../helpers/metrics.js';
import type { ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { closed, collect, frames, open, startSecureServer, token } from './security-harness.js';

const nameOf = (state: unknown) => (state as { user?: { name?: string } } | undefined)?.user?.name;

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
  /** Awareness entries refused so far (the counter is cumulative over this file's server). */
  const refusedAwareness = () => counter(server.httpUrl, 'collab_refused_total', '{reason="foreign or oversized awareness"}');
  /** A socket that only listens to awareness, with the history of names shown for an id. */
  const listener = async (name: string, subject: string) => {
    const socket = await raw(name, subject);
    const awareness = new Awareness(new Y.Doc());
    awareness.setLocalState(null);
    socket.on('message', (data: Buffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data));
      if (decoding.readVarUint(decoder) === 1) applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'server');
    });
    socket.once('close', () => awareness.destroy());
    // The states the server sent on joining may have arrived with the upgrade, before the listener
    // above existed: ask for them again now that it listens.
    socket.send(frames.queryAwareness());
    return {
      awareness,
      history(clientId: number): Array<string | null> {
        const seen: Array<string | null> = [];
        awareness.on('change', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
          if ([...added, ...updated, ...removed].includes(clientId)) seen.push(nameOf(awareness.getStates().get(clientId)) ?? null);
        });
        return seen;
      },
    };
  };

  it('cannot change or remove another client’s awareness state', async () => {
    // Raw sockets only: a stock provider sends back every awareness change it hears, which the
    // server refuses too and which would blur the count of refusals checked here.
    const aliceId = 776001;
    const alice = await raw('aw', 'alice');
    alice.send(frames.awareness([[aliceId, 1, { user: { name: 'Alice' } }]]));
    const observer = await listener('aw', 'observer');
    await waitFor(() => nameOf(observer.awareness.getStates().get(aliceId)) === 'Alice', 'the observer to see Alice');
    const namesOfAlice = observer.history(aliceId);

    const mallory = await raw('aw', 'mallory');
    const refusedBefore = await refusedAwareness();
    // Alice's id with a higher clock (takeover), then her removal; plus a state of Mallory's own,
    // which shows when the server has handled the frame.
    mallory.send(frames.awareness([[aliceId, 11, { user: { name: 'Mallory as Alice' } }], [777001, 1, { user: { name: 'Mallory' } }]]));
    mallory.send(frames.awareness([[aliceId, 12, null], [777001, 2, { user: { name: 'Mallory 2' } }]]));
    await waitFor(() => nameOf(observer.awareness.getStates().get(777001)) === 'Mallory 2', 'Mallory’s own state to arrive');
    // Both frames were handled (their other entries arrived), and neither foreign entry ever
    // showed, not even for a moment: the observer's history of Alice's id is empty.
    expect(namesOfAlice).toEqual([]);
    expect(nameOf(observer.awareness.getStates().get(aliceId))).toBe('Alice');
    // Exactly the two foreign entries were refused.
    expect((await refusedAwareness()) - refusedBefore).toBe(2);

    // Nor can it hold more than a few client ids: of 20 new ids in one frame, 4 are taken.
    const many = await raw('aw', 'mallory');
    const refusedBeforeMany = await refusedAwareness();
    many.send(frames.awareness(Array.from({ length: 20 }, (_, i) => [778000 + i, 1, { n: i }] as [number, number, unknown])));
    await waitFor(async () => (await refusedAwareness()) - refusedBeforeMany === 16, 'the server to refuse the 16 ids over the limit');
    // A later change of one of its own ids arrives: whatever the first frame added has arrived by then.
    many.send(frames.awareness([[778000, 2, { n: 'marker' }]]));
    await waitFor(() => (observer.awareness.getStates().get(778000) as { n?: unknown } | undefined)?.n === 'marker', 'the connection’s later change to arrive');
    const held = [...observer.awareness.getStates().keys()].filter((id) => id >= 778000 && id < 778100);
    expect(held.sort()).toEqual([778000, 778001, 778002, 778003]);
    expect((await refusedAwareness()) - refusedBeforeMany).toBe(16);
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

  it('cannot delete another client’s content that the server does not have yet (it would erase the owner’s next edit)', async () => {
    const alice = await client('deletes', 'alice');
    const bob = await client('deletes', 'bob');
    alice.doc.getText('t').insert(0, 'alice-1 ');
    await waitFor(() => bob.doc.getText('t').toString() === 'alice-1 ', 'Bob to see Alice’s edit');

    // What Alice is about to write (her client id, her next clocks)...
    const future = new Y.Doc();
    Y.applyUpdate(future, Y.encodeStateAsUpdate(alice.doc));
    future.clientID = alice.doc.clientID; // after applying: Yjs picks a new id if an update uses its own
    future.getText('t').insert(0, 'alice-2 ');
    // ...deleted by Mallory ahead of time: an update that holds nothing but that deletion. Yjs would
    // keep it and apply it the moment Alice's real edit arrives.
    const mallorysDoc = new Y.Doc();
    Y.applyUpdate(mallorysDoc, Y.encodeStateAsUpdate(future));
    const deletions: Uint8Array[] = [];
    mallorysDoc.on('update', (update: Uint8Array) => deletions.push(update));
    mallorysDoc.getText('t').delete(0, 'alice-2 '.length);
    expect(deletions).toHaveLength(1);
    const decoded = Y.decodeUpdate(deletions[0]!);
    expect(decoded.structs).toEqual([]);
    expect(decoded.ds.clients.get(alice.doc.clientID)).toEqual([expect.objectContaining({ clock: 'alice-1 '.length, len: 'alice-2 '.length })]);

    const mallory = await raw('deletes', 'mallory');
    const result = closed(mallory);
    mallory.send(frames.update(deletions[0]!));
    expect(await result).toEqual({ code: 4400, reason: `update deletes content of client ${alice.doc.clientID} that the server does not have yet` });

    // Alice's real edit (the very items Mallory deleted) lands whole, for Bob and for a newcomer.
    alice.doc.getText('t').insert(0, 'alice-2 ');
    await waitFor(() => bob.doc.getText('t').toString() === 'alice-2 alice-1 ', 'Bob to get Alice’s next edit intact');
    const newcomer = await client('deletes', 'carol');
    expect(newcomer.doc.getText('t').toString()).toBe('alice-2 alice-1 ');
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
      // A sleep on purpose: lets each edit be committed and broadcast on its own, so the slow
      // socket's queue grows frame by frame past MAX_BUFFERED_BYTES.
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

describe('a slow consumer that never reads again', () => {
  let server: ServerProcess;
  const clients: TestClient[] = [];
  let slow: WebSocket | null = null;
  beforeAll(async () => {
    // Its own server: the test counts connections. PING_INTERVAL_MS stays at 30 s, so a cut-off
    // within the deadline below is the close timeout's doing, not the heartbeat's.
    server = await startSecureServer({ MAX_BUFFERED_BYTES: '65536' });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    slow?.terminate();
    await server.kill();
  });

  it('is cut off when it does not answer the server’s close (1013, above), and its connection is freed', async () => {
    const connect = async (subject: string) => {
      const created = connectClient(server.syncUrl, 'slow', { params: { token: await token({ subject }) } });
      clients.push(created);
      await synced(created);
      return created;
    };
    const writer = await connect('writer');
    const reader = await connect('reader');
    slow = await open(`${server.syncUrl}/slow?token=${await token({ subject: 'slow' })}`);
    const slowClosed = new Promise<void>((resolve) => slow!.once('close', () => resolve()));
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(async () => (await metric(server.httpUrl, 'collab_connections')) === 3, 'the three connections to count');

    const chunk = 'y'.repeat(256 * 1024);
    for (let i = 0; i < 48; i++) {
      writer.doc.getText('t').insert(0, chunk);
      // A sleep on purpose: lets each edit be committed and broadcast on its own, so the slow
      // socket's queue grows frame by frame past MAX_BUFFERED_BYTES.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(() => reader.doc.getText('t').length === 48 * chunk.length, 'the normal reader to get everything', 20_000);
    // The slow socket never reads, so it never receives the close frame nor answers it: the server
    // gives up on it after its close timeout (5 s) and frees the connection. 20 s is well under two
    // ping intervals (60 s), after which the heartbeat would have dropped it anyway.
    await waitFor(async () => (await metric(server.httpUrl, 'collab_connections')) === 2, 'the server to cut the slow consumer off', 20_000, 100);
    expect(slow.readyState).not.toBe(WebSocket.CLOSED);
    // The honest clients were not affected.
    expect(writer.provider.wsconnected && reader.provider.wsconnected).toBe(true);
    writer.doc.getText('t').insert(0, 'after');
    await waitFor(() => reader.doc.getText('t').toString().startsWith('after'), 'the honest clients to keep syncing');
    // Once it reads again it finds its socket closed by the server.
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    await slowClosed;
  });
});
