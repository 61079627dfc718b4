import { afterAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import * as Y from 'yjs';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { closed, collect, frames, open, startSecureServer, token } from './security-harness.js';

/**
 * Attacks on the promise that nothing acknowledged is lost, each against a real server process:
 * content that would crash it, freeze a room, brick a document or lock a writer out. After each,
 * the process is alive, honest edits are relayed, and the document loads after a restart.
 */

/** The update a client makes of `edit`, from an empty document with this client id. */
function updateOf(clientID: number, edit: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  edit(doc);
  return Y.encodeStateAsUpdate(doc);
}

/** `depth` elements nested in each other (paragraphs in blockquotes would be allowed; these are deeper than any bound). */
function nested(fragment: Y.XmlFragment, depth: number, name = 'blockquote'): Y.XmlElement {
  // Each level is inserted into the already integrated one above: Yjs integrates a prepared
  // (not yet integrated) subtree recursively, which would overflow this process's own stack.
  // One transaction: outside one, every level's event bubbles through all levels above (17 s
  // instead of 80 ms for 10,000 levels).
  const top = new Y.XmlElement(name);
  fragment.doc!.transact(() => {
    fragment.insert(0, [top]);
    let inner = top;
    for (let i = 1; i < depth; i++) {
      const child = new Y.XmlElement(name);
      inner.insert(0, [child]);
      inner = child;
    }
  });
  return top;
}

const paragraph = (text: string) => {
  const element = new Y.XmlElement('paragraph');
  element.insert(0, [new Y.XmlText(text)]);
  return element;
};

/** Text of every paragraph in the editor fragment, in order. */
const lines = (doc: Y.Doc) =>
  doc
    .getXmlFragment(PROSEMIRROR_FRAGMENT)
    .toArray()
    .map((node) => (node instanceof Y.XmlElement ? node.toArray().map((child) => (child instanceof Y.XmlText ? child.toString() : '')).join('') : ''));

/** An honest client appends a line; resolves once another client has it (the relay works). */
async function honestEdit(writer: TestClient, reader: TestClient, text: string): Promise<number> {
  const started = performance.now();
  writer.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).push([paragraph(text)]);
  await waitFor(() => lines(reader.doc).includes(text), `"${text}" to reach the other client`);
  return performance.now() - started;
}

describe('hostile content', () => {
  const servers: ServerProcess[] = [];
  const clients: TestClient[] = [];
  const sockets: WebSocket[] = [];
  afterAll(async () => {
    for (const client of clients) client.destroy();
    for (const socket of sockets) socket.terminate();
    await Promise.all(servers.map((server) => server.kill()));
  });
  const client = async (server: ServerProcess, name: string, params: Record<string, string> = {}) => {
    const created = connectClient(server.syncUrl, name, { params });
    clients.push(created);
    await synced(created);
    return created;
  };
  const raw = async (url: string) => {
    const socket = await open(url);
    sockets.push(socket);
    return socket;
  };
  const restart = async (server: ServerProcess) => {
    await server.kill();
    const again = await startServer({ dataDir: server.dataDir });
    servers.push(again);
    return again;
  };

  it('1, 3: refuses deep nesting whole (10,000 levels, or 4,500 then deleting the top); the process lives, the document loads', async () => {
    const server = await startServer({ env: { COMPACT_AFTER_ROWS: '2' } });
    servers.push(server);
    const alice = await client(server, 'deep');
    const bob = await client(server, 'deep');
    await honestEdit(alice, bob, 'before the attack');

    for (const [depth, root] of [
      [10_000, PROSEMIRROR_FRAGMENT],
      [4_500, PROSEMIRROR_FRAGMENT],
      [10_000, 'elsewhere'],
    ] as const) {
      const attacker = await raw(`${server.syncUrl}/deep`);
      const update = updateOf(900_000 + depth, (doc) => nested(doc.getXmlFragment(root), depth, root === PROSEMIRROR_FRAGMENT ? 'blockquote' : 'node'));
      attacker.send(frames.update(update));
      const refusal = await closed(attacker);
      expect(refusal.code).toBe(4400);
      expect(refusal.reason).toMatch(/nested deeper than 100 levels/);
    }
    // Deleting the top of a tree of allowed depth is an ordinary deletion.
    const tree = updateOf(901_000, (doc) => nested(doc.getXmlFragment(PROSEMIRROR_FRAGMENT), 60).insert(0, [paragraph('deep inside')]));
    const builder = await raw(`${server.syncUrl}/deep`);
    builder.send(frames.update(tree));
    await waitFor(() => bob.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).length === 2, 'the 60-level tree to reach Bob');
    alice.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).delete(0, 1);
    await waitFor(() => bob.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).length === 1, 'the deletion to reach Bob');

    await honestEdit(alice, bob, 'after the attack');
    expect(server.child.exitCode).toBeNull();
    const restarted = await restart(server);
    const newcomer = await client(restarted, 'deep');
    expect(lines(newcomer.doc)).toEqual(['before the attack', 'after the attack']);
    const title = (await (await fetch(`${restarted.httpUrl}/api/documents/deep`)).json()) as { title: string };
    expect(title.title).toBe('before the attack');
  });

  it('4 (server side): refuses content the editor schema does not allow, without touching the rest', async () => {
    const server = await startServer();
    servers.push(server);
    const alice = await client(server, 'schema');
    const bob = await client(server, 'schema');
    await honestEdit(alice, bob, 'kept');
    const attacks: Array<[string, (doc: Y.Doc) => void, RegExp]> = [
      ['text at the root', (doc) => doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [new Y.XmlText('loose')]), /doc may not hold text/],
      ['an unknown node', (doc) => doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [new Y.XmlElement('script')]), /unknown node "script"/],
      ['a list item at the root', (doc) => doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [new Y.XmlElement('list_item')]), /doc may not hold list_item/],
      [
        'an unknown attribute',
        (doc) => {
          const element = new Y.XmlElement('paragraph');
          element.setAttribute('onclick', 'alert(1)');
          doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [element]);
        },
        /unknown attribute "onclick"/,
      ],
      [
        'an unknown mark',
        (doc) => {
          const text = new Y.XmlText();
          const element = new Y.XmlElement('paragraph');
          element.insert(0, [text]);
          doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [element]);
          text.insert(0, 'x', { blink: {} });
        },
        /unknown mark "blink"/,
      ],
    ];
    let id = 950_000;
    for (const [what, edit, reason] of attacks) {
      const attacker = await raw(`${server.syncUrl}/schema`);
      attacker.send(frames.update(updateOf(id++, edit)));
      const refusal = await closed(attacker);
      expect(refusal.code, what).toBe(4400);
      expect(refusal.reason, what).toMatch(reason);
    }
    await honestEdit(bob, alice, 'still editing');
    expect(lines(alice.doc)).toEqual(['kept', 'still editing']);
  });

  it('2: a 5 MB update of 300,000 items whose first item is withheld does not slow honest edits, and is never stored', async () => {
    const server = await startServer({ env: { COMPACT_AFTER_ROWS: '5', MAX_BYTES_PER_SECOND: String(64 * 1024 * 1024) } });
    servers.push(server);
    const alice = await client(server, 'pending');
    const bob = await client(server, 'pending');
    await honestEdit(alice, bob, 'first');

    /** `count` map entries of client `clientID`, without the first one: all the rest wait for it. */
    const withheldUpdate = (clientID: number, count: number) => {
      const source = new Y.Doc();
      source.clientID = clientID;
      const junk = source.getMap('junk');
      source.transact(() => {
        for (let i = 0; i < count; i++) junk.set(`k${i}`, i % 26);
      });
      return Y.diffUpdate(Y.encodeStateAsUpdate(source), Y.encodeStateVector(new Map([[clientID, 1]])));
    };
    // The server's CPU time for 20 honest edits, not their wall-clock time: the defect spent
    // 0.7-2.4 s of CPU on each edit (40 s or more for 20), honest edits take a few ms each,
    // and CPU time barely moves when other work loads the machine.
    const serverCpuSeconds = () => metric(server.httpUrl, 'process_cpu_seconds_total');
    const roundTrips = async (label: string) => {
      const latencies: number[] = [];
      const cpuBefore = await serverCpuSeconds();
      for (let i = 0; i < 20; i++) latencies.push(await honestEdit(i % 2 ? alice : bob, i % 2 ? bob : alice, `${label} ${i}`));
      const cpu = (await serverCpuSeconds()) - cpuBefore;
      latencies.sort((a, b) => a - b);
      console.log(`honest round trips, ${label}: median ${latencies[10]!.toFixed(0)} ms, p95 ${latencies[19]!.toFixed(0)} ms, server CPU ${(cpu * 1000).toFixed(0)} ms`);
      return cpu;
    };

    // 300,000 items (5 MB) waiting for a withheld first item: over the room's bound, refused whole.
    const huge = withheldUpdate(960_000, 300_000);
    expect(huge.byteLength).toBeGreaterThan(5_000_000);
    const attacker = await raw(`${server.syncUrl}/pending`);
    attacker.send(frames.update(huge));
    const refusal = await closed(attacker, 30_000);
    expect(refusal).toEqual({ code: 4400, reason: expect.stringMatching(/waiting for missing dependencies/) });
    expect(await roundTrips('after the refused 5 MB')).toBeLessThan(5);

    // Just under the bound (about 440 KB, 25,000 items): accepted and held back while honest people edit.
    const under = withheldUpdate(961_000, 25_000);
    expect(under.byteLength).toBeGreaterThan(400_000);
    const patient = await raw(`${server.syncUrl}/pending`);
    const updatesBefore = await metric(server.httpUrl, 'collab_messages_in_total', '{type="sync-update"}');
    patient.send(frames.update(under));
    await waitFor(async () => (await metric(server.httpUrl, 'collab_messages_in_total', '{type="sync-update"}')) > updatesBefore, 'the server to have read the update');
    expect(await roundTrips('with 440 KB pending')).toBeLessThan(5);
    expect(patient.readyState).toBe(patient.OPEN);
    patient.terminate();

    const restarted = await restart(server);
    const newcomer = await client(restarted, 'pending');
    expect(lines(newcomer.doc)).toEqual(['first', ...['after the refused 5 MB', 'with 440 KB pending'].flatMap((label) => Array.from({ length: 20 }, (_, i) => `${label} ${i}`))]);
    expect(newcomer.doc.store.pendingStructs).toBeNull();
    expect(newcomer.doc.getMap('junk').size).toBe(0);
  });

  it('6: a read-only connection announcing a writer’s client id does not lock the writer out', async () => {
    const server = await startSecureServer();
    servers.push(server);
    const writerDoc = new Y.Doc();
    const writer = connectClient(server.syncUrl, 'ids', { params: { token: await token({ subject: 'alice' }) }, doc: writerDoc });
    clients.push(writer);
    await synced(writer);
    const witness = await client(server, 'ids', { token: await token({ subject: 'carol', canWrite: false }) });
    await honestEdit(writer, witness, 'one');

    // The writer's socket drops; a reader claims its client id in awareness at once.
    writer.provider.disconnect();
    const reader = await raw(`${server.syncUrl}/ids?token=${await token({ subject: 'mallory', canWrite: false })}`);
    const heard = collect(reader);
    reader.send(frames.awareness([[writerDoc.clientID, 1_000, { user: { name: 'Mallory' } }]]));
    await waitFor(() => witness.provider.awareness.getStates().get(writerDoc.clientID)?.user?.name === 'Mallory', 'the reader’s announcement to be applied');

    writer.provider.connect();
    await synced(writer);
    await honestEdit(writer, witness, 'two');
    expect(reader.readyState).toBe(reader.OPEN);
    expect(heard.length).toBeGreaterThan(0);
    expect(lines(witness.doc)).toEqual(['one', 'two']);
  });

  it('8: awareness a newcomer receives is bounded per room', async () => {
    const server = await startSecureServer();
    servers.push(server);
    const readers: WebSocket[] = [];
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 30; i++) {
      const socket = await raw(`${server.syncUrl}/storm?token=${await token({ subject: `reader${i}`, canWrite: false })}`);
      socket.send(frames.awareness([0, 1, 2, 3].map((n) => [970_000 + i * 10 + n, 1, { user: { name: `r${i}` }, pad: big }] as [number, number, unknown])));
      readers.push(socket);
    }
    const refusedBefore = await metric(server.httpUrl, 'collab_refused_total', '{reason="foreign or oversized awareness"}');
    // The marker: one small state sent last, which must arrive (the channel works).
    const marker = await raw(`${server.syncUrl}/storm?token=${await token({ subject: 'marker', canWrite: false })}`);
    marker.send(frames.awareness([[979_999, 1, { user: { name: 'marker' } }]]));
    await waitFor(async () => (await metric(server.httpUrl, 'collab_refused_total', '{reason="foreign or oversized awareness"}')) >= refusedBefore, 'the refusals to be counted');
    const newcomer = await client(server, 'storm', { token: await token({ subject: 'newcomer', canWrite: false }) });
    await waitFor(() => newcomer.provider.awareness.getStates().has(979_999), 'the marker state to reach the newcomer');
    const bytes = [...newcomer.provider.awareness.getStates().values()].reduce((sum, state) => sum + JSON.stringify(state).length, 0);
    // 30 × 4 × 60 KB = 7.2 MB were sent; the room holds at most 16 × 64 KB.
    expect(bytes).toBeLessThanOrEqual(16 * 65_536);
    expect(bytes).toBeGreaterThan(10 * 60_000);
  });
});

