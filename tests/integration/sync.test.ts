import * as decoding from 'lib0/decoding';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { encodeFrame } from '../../server/sync/protocol.js';
import { MessageType } from '../../shared/protocol.js';
import { readAccess, readSavedState, writeSubscribeSaved, type Access } from '../../shared/saved-state.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { HANDSHAKE, rawRequest } from './security-harness.js';

/** A small deterministic PRNG so a failing run can be reproduced from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('sync through the server with stock y-websocket clients', () => {
  const server = useServer();
  const clients: TestClient[] = [];
  const connect = (name: string) => {
    const client = connectClient(server().syncUrl, name);
    clients.push(client);
    return client;
  };

  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('converges many clients making random concurrent edits in several documents', async () => {
    const documents = ['alpha', 'beta', 'team notes/q4'];
    const perDocument = 4;
    const groups = documents.map((name) => Array.from({ length: perDocument }, () => connect(name)));
    await Promise.all(groups.flat().map((client) => synced(client)));

    const rand = random(42);
    const rounds = 60;
    for (let round = 0; round < rounds; round++) {
      for (const group of groups) {
        for (const client of group) {
          const text = client.doc.getText('body');
          const map = client.doc.getMap('fields');
          const choice = rand();
          if (choice < 0.6 || text.length === 0) {
            text.insert(Math.floor(rand() * (text.length + 1)), String.fromCharCode(97 + Math.floor(rand() * 26)));
          } else if (choice < 0.85) {
            text.delete(Math.floor(rand() * text.length), 1);
          } else {
            map.set(`k${Math.floor(rand() * 5)}`, Math.floor(rand() * 1000));
          }
        }
      }
      // Let frames interleave with edits, as real typing does.
      if (round % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }

    for (const group of groups) {
      await waitFor(() => {
        const first = Y.encodeStateVector(group[0]!.doc);
        return group.every((client) => Buffer.from(Y.encodeStateVector(client.doc)).equals(Buffer.from(first)));
      }, 'every client of a document to have the same state vector', 20_000);
      const texts = new Set(group.map((client) => client.doc.getText('body').toString()));
      const maps = new Set(group.map((client) => JSON.stringify(Object.entries(client.doc.getMap('fields').toJSON()).sort())));
      expect(texts.size).toBe(1);
      expect(maps.size).toBe(1);
      expect(group[0]!.doc.getText('body').length).toBeGreaterThan(0);
    }
    // Documents are separate rooms: nothing leaks between them.
    const bodies = groups.map((group) => group[0]!.doc.getText('body').toString());
    expect(new Set(bodies).size).toBe(documents.length);
  });

  it('gives a late joiner the full document', async () => {
    const writer = connect('late-joiner');
    await synced(writer);
    const text = writer.doc.getText('body');
    for (let i = 0; i < 200; i++) text.insert(text.length, `line ${i}\n`);
    const expected = text.toString();
    // Wait until the server has it all: a second client sees the last line.
    const witness = connect('late-joiner');
    await waitFor(() => witness.doc.getText('body').toString() === expected, 'the witness to receive everything');

    const late = connect('late-joiner');
    await synced(late);
    await waitFor(() => late.doc.getText('body').toString() === expected, 'the late joiner to have the full document');
  });

  it('relays awareness states and removes them when their client leaves', async () => {
    const alice = connect('presence');
    const bob = connect('presence');
    await Promise.all([synced(alice), synced(bob)]);
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#d33682' });
    bob.provider.awareness.setLocalStateField('user', { name: 'Bob', color: '#268bd2' });
    const aliceId = alice.doc.clientID;
    const bobId = bob.doc.clientID;
    await waitFor(() => (bob.provider.awareness.getStates().get(aliceId) as { user?: { name: string } } | undefined)?.user?.name === 'Alice', 'Bob to see Alice');
    await waitFor(() => (alice.provider.awareness.getStates().get(bobId) as { user?: { name: string } } | undefined)?.user?.name === 'Bob', 'Alice to see Bob');

    // A late joiner sees both states at once.
    const carol = connect('presence');
    await synced(carol);
    await waitFor(() => carol.provider.awareness.getStates().has(aliceId) && carol.provider.awareness.getStates().has(bobId), 'Carol to see Alice and Bob');

    // Alice's socket goes away without saying goodbye: the server removes her state for the others.
    alice.provider.shouldConnect = false;
    (alice.provider.ws as unknown as import('ws').WebSocket | null)?.terminate();
    await waitFor(() => !bob.provider.awareness.getStates().has(aliceId), 'Alice to disappear from Bob’s view');
    await waitFor(() => !carol.provider.awareness.getStates().has(aliceId), 'Alice to disappear from Carol’s view');
    expect(bob.provider.awareness.getStates().has(bobId)).toBe(true);
  });

  it('answers a SavedState subscription with the access flags and the committed state vector', async () => {
    const { default: WebSocket } = await import('ws');
    const writer = connect('saved-state');
    await synced(writer);
    writer.doc.getText('body').insert(0, 'saved?');
    const socket = new WebSocket(`${server().syncUrl}/saved-state`);
    // Each frame decoded by its type with the shared readers, as the editor does.
    const access: Access[] = [];
    const saved: Uint8Array[] = [];
    let trailingBytes = 0;
    socket.on('message', (data: Buffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data));
      const type = decoding.readVarUint(decoder);
      if (type === MessageType.Access) access.push(readAccess(decoder));
      else if (type === MessageType.SavedState) saved.push(readSavedState(decoder));
      else return;
      trailingBytes += decoder.arr.length - decoder.pos;
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(encodeFrame(writeSubscribeSaved));
    await waitFor(() => access.length > 0 && saved.length > 0, 'the Access and SavedState frames');
    expect(access[0]).toEqual({ canWrite: true });
    expect(trailingBytes).toBe(0);
    const vector = Y.decodeStateVector(saved[0]!);
    expect(vector.get(writer.doc.clientID)).toBe(Y.getState(writer.doc.store, writer.doc.clientID));
    socket.close();
  });

  it('refuses a bad document name with a 4400 close and a reason', async () => {
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`${server().syncUrl}/%E0%A4%A`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/percent-encoding/);
  });

  it('answers a plain HTTP request to the sync endpoint with 426', async () => {
    const response = await fetch(`${server().httpUrl}/sync/some-doc`);
    expect(response.status).toBe(426);
    expect((await response.json()) as { error: string }).toHaveProperty('error');
  });

  it('answers upgrade requests it does not serve with an HTTP status instead of hanging', async () => {
    const elsewhere = await rawRequest(server().port, '/api/documents', HANDSHAKE);
    expect(elsewhere.status).toBe(404);
    expect(JSON.parse(elsewhere.body)).toEqual({ error: 'nothing at /api/documents' });
    expect((await rawRequest(server().port, '/sync/some-doc', { ...HANDSHAKE, Upgrade: 'h2c' })).status).toBe(426);
  });
});

describe('a client alone in a room', () => {
  const server = useServer();
  let client: TestClient;
  afterAll(() => {
    client?.destroy();
  });

  // The stock provider closes a connection that received nothing for 30 s; the server's awareness
  // echo must keep a lone client's connection alive. This test waits out that window for real.
  it('is not dropped by the stock client’s 30 s liveness timeout', async () => {
    client = connectClient(server().syncUrl, 'lonely');
    await synced(client);
    const statuses: string[] = [];
    client.provider.on('status', ({ status }: { status: string }) => statuses.push(status));
    const deadline = Date.now() + 36_000;
    await waitFor(() => Date.now() > deadline, 'the liveness window to pass', 40_000, 500);
    expect(statuses).toEqual([]);
    expect(client.provider.wsconnected).toBe(true);
  }, 60_000);
});
