import fs from 'node:fs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { decodeAwarenessUpdate, encodeFrame } from '../../server/sync/protocol.js';
import { decodeHocuspocusServerFrame, writeAuthToken, writeClientClose, writeKeyedMessage, writeStateless } from '../../server/transport/hocuspocus-codec.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { connectHocuspocus, hocuspocusSaved, hocuspocusSynced, type HocuspocusClient } from '../helpers/hocuspocus.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, frames, startSecureServer, token, upgrade } from './security-harness.js';
import { seededRandom, type SeededRandom } from '../helpers/random.js';

const HOSTILE_FRAMES = 4_000;
const ATTACKERS = 8;
const MAX_FRAMES_PER_CONNECTION = 40;
const DOCUMENT = 'fuzz';

type Random = SeededRandom;

function withLength(prefix: number[], payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const value of prefix) encoding.writeVarUint(encoder, value);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

function mutate(random: Random, input: Uint8Array): Uint8Array {
  let bytes = Uint8Array.from(input);
  const rounds = 1 + random.int(3);
  for (let r = 0; r < rounds; r++) {
    const choice = random.int(6);
    if (bytes.length === 0) return random.bytes(1 + random.int(8));
    const at = random.int(bytes.length);
    if (choice === 0) bytes[at] = random.int(256);
    else if (choice === 1) bytes[at]! ^= 1 << random.int(8);
    else if (choice === 2) bytes = bytes.slice(0, at);
    else if (choice === 3) bytes = Uint8Array.from([...bytes.slice(0, at), ...random.bytes(1 + random.int(6)), ...bytes.slice(at)]);
    else if (choice === 4) bytes = Uint8Array.from([...bytes.slice(0, at), ...bytes.slice(at + 1 + random.int(4))]);
    else bytes = Uint8Array.from([...bytes, ...bytes.slice(at, at + 1 + random.int(16))]);
  }
  return bytes;
}

/** Reads a varuint that may be huge (for lengths that lie). */
function hugeVarUint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** Checks a frame the server sent: a well-formed y-websocket message whose payload decodes. */
function checkServerFrame(frame: Uint8Array): string | null {
  try {
    const decoder = decoding.createDecoder(frame);
    const type = decoding.readVarUint(decoder);
    if (type === 0) {
      const sub = decoding.readVarUint(decoder);
      const payload = decoding.readVarUint8Array(decoder);
      if (decoder.pos !== frame.length) return 'trailing bytes';
      if (sub === 0) Y.decodeStateVector(payload);
      else if (sub === 1 || sub === 2) Y.decodeUpdate(payload);
      else return `sync type ${sub}`;
    } else if (type === 1) {
      const payload = decoding.readVarUint8Array(decoder);
      if (decoder.pos !== frame.length) return 'trailing bytes';
      decodeAwarenessUpdate(payload);
    } else {
      return `message type ${type}`;
    }
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** On a divergence: print what differs, and with FUZZ_DUMP=<path prefix> save both states. */
function diagnose(error: unknown, a: Y.Doc, b: Y.Doc): never {
  if (process.env.FUZZ_DUMP) {
    fs.writeFileSync(`${process.env.FUZZ_DUMP}-a.bin`, Y.encodeStateAsUpdate(a));
    fs.writeFileSync(`${process.env.FUZZ_DUMP}-b.bin`, Y.encodeStateAsUpdate(b));
  }
  const sv = (d: Y.Doc) => JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(d))]);
  console.log('SV a', sv(a), 'pending', !!a.store.pendingStructs, a.store.pendingDs?.length);
  console.log('SV b', sv(b), 'pending', !!b.store.pendingStructs, b.store.pendingDs?.length);
  for (const [name, d, other] of [['a', a, b], ['b', b, a]] as const) {
    const pending = d.store.pendingStructs;
    if (!pending) continue;
    console.log(name, 'missing', JSON.stringify([...pending.missing]));
    const structs = Y.decodeUpdateV2(pending.update).structs;
    console.log(name, 'pending structs', structs.length, JSON.stringify(structs.slice(0, 6).map((st) => [st.constructor.name, st.id, st.length, (st as Y.Item).origin, (st as Y.Item).rightOrigin, (st as Y.Item).parent, (st as Y.Item).parentSub])));
    for (const [client, clock] of pending.missing) {
      const has = (x: Y.Doc) => Y.decodeUpdate(Y.encodeStateAsUpdate(x)).structs.filter((st) => st.id.client === client && st.id.clock <= clock && st.id.clock + st.length > clock).map((st) => [st.constructor.name, st.id, st.length]);
      console.log(name, 'missing', client, clock, 'self has', JSON.stringify(has(d)), 'other has', JSON.stringify(has(other)));
    }
  }
  throw error;
}

describe('fuzzing a live server', () => {
  let server: ServerProcess;
  const clients: TestClient[] = [];
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
  // Printed before anything runs, so that a failure (or a hang) half-way can be replayed.
  console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);

  beforeAll(async () => {
    server = await startSecureServer();
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server.kill();
  });

  it(`throws ${HOSTILE_FRAMES} random and mutated frames at it while two honest clients edit; they converge and nothing bad reaches them`, async () => {
    const random = seededRandom(seed);
    const url = `${server.syncUrl}/${DOCUMENT}`;
    const honest = async (subject: string) => {
      const client = connectClient(server.syncUrl, DOCUMENT, { params: { token: await token({ subject }) } });
      clients.push(client);
      await synced(client);
      return client;
    };
    const alice = await honest('alice');
    const bob = await honest('bob');
    // Each close with its code and reason, so that a failure says who closed and why.
    const honestCloses: string[] = [];
    for (const client of [alice, bob]) client.provider.on('connection-close', (event: { code?: number; reason?: string } | null) => honestCloses.push(`y-websocket ${event?.code} ${event?.reason}`));

    // A read-only observer checks every frame the server sends.
    const observer = (await upgrade(`${url}?token=${await token({ subject: 'observer', canWrite: false })}`)).socket!;
    const badFrames: string[] = [];
    let observed = 0;
    observer.on('message', (data: Buffer) => {
      observed++;
      const problem = checkServerFrame(new Uint8Array(data));
      if (problem) badFrames.push(problem);
    });

    // Honest frames to mutate: updates and awareness as the honest clients produce them.
    const samples: Array<{ kind: 'update' | 'awareness' | 'step1'; payload: Uint8Array }> = [];
    alice.doc.on('update', (update: Uint8Array) => samples.length < 500 && samples.push({ kind: 'update', payload: update }));
    bob.doc.on('update', (update: Uint8Array) => samples.length < 500 && samples.push({ kind: 'update', payload: update }));

    // Honest editing, concurrently with the attack.
    let editing = true;
    let edits = 0;
    const editor = (async () => {
      while (editing) {
        const who = random.next() < 0.5 ? alice : bob;
        const text = who.doc.getText('t');
        const r = random.next();
        if (r < 0.5 || text.length < 5) text.insert(random.int(text.length + 1), `${who === alice ? 'a' : 'b'}${edits} `);
        else if (r < 0.7) text.delete(random.int(text.length - 2), 2);
        else if (r < 0.85) {
          const fragment = who.doc.getXmlFragment('prosemirror');
          const paragraph = new Y.XmlElement('paragraph');
          paragraph.insert(0, [new Y.XmlText(`p${edits}`)]);
          fragment.insert(random.int(fragment.length + 1), [paragraph]);
        } else who.doc.getMap('meta').set('title', `title ${edits}`);
        who.provider.awareness.setLocalStateField('cursor', { at: edits });
        edits++;
        // A sleep on purpose (load, not a wait): paces the honest edits over the whole attack.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(() => samples.length >= 20, 'some honest updates to mutate');
    for (const client of [alice, bob]) {
      samples.push({ kind: 'awareness', payload: encodeAwarenessUpdate(client.provider.awareness, [client.doc.clientID]) });
      samples.push({ kind: 'step1', payload: Y.encodeStateVector(client.doc) });
    }

    const attackerDoc = new Y.Doc();
    const generators: Array<[string, () => Uint8Array | string]> = [
      ['random bytes', () => random.bytes(random.int(random.next() < 0.9 ? 64 : 2_000))],
      ['known type, random body', () => Uint8Array.from([random.pick([0, 1, 2, 3, 100]), ...(random.next() < 0.7 ? [random.int(3)] : []), ...random.bytes(random.int(40))])],
      ['huge declared length', () => Uint8Array.from([...random.pick([[0, 2], [0, 1], [0, 0], [1]]), ...hugeVarUint(random.pick([2 ** 28, 2 ** 32, 2 ** 53 - 1, 65_536])), ...random.bytes(random.int(16))])],
      ['truncated varint', () => Uint8Array.from([...random.pick([[], [0], [0, 2], [1]]), 0x80 | random.int(128)])],
      ['mutated honest frame', () => {
        const sample = random.pick(samples);
        const whole = sample.kind === 'update' ? frames.update(sample.payload) : sample.kind === 'step1' ? frames.step1(sample.payload) : withLength([1], sample.payload);
        return mutate(random, whole);
      }],
      ['mutated honest payload, valid framing', () => {
        const sample = random.pick(samples);
        const payload = mutate(random, sample.payload);
        if (sample.kind === 'awareness') return withLength([1], payload);
        return withLength([0, sample.kind === 'step1' ? 0 : random.pick([1, 2])], payload);
      }],
      ['awareness for someone else', () => frames.awareness([[random.pick([alice.doc.clientID, bob.doc.clientID]), 1_000 + random.int(1000), random.next() < 0.5 ? null : { user: 'impostor' }]])],
      ['valid attacker edit', () => {
        const text = attackerDoc.getText('t');
        text.insert(random.int(text.length + 1), 'm');
        return frames.update(Y.encodeStateAsUpdate(attackerDoc));
      }],
      ['text frame', () => 'not binary'],
    ];

    const stats = new Map<string, number>();
    const closeCodes = new Map<number, number>();
    const closeReasons = new Map<string, number>();
    let sent = 0;
    let connections = 0;
    const attacker = async (index: number) => {
      const readOnly = index % 3 === 2;
      const t = await token({ subject: `mallory-${index}`, canWrite: !readOnly });
      while (sent < HOSTILE_FRAMES) {
        const attempt = await upgrade(`${url}?token=${t}`);
        if (!attempt.socket) {
          // A refused upgrade (say, a rate limit): back off a little before the next attempt.
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        connections++;
        const socket = attempt.socket;
        socket.on('error', () => {});
        const gone = new Promise<void>((resolve) =>
          socket.once('close', (code, reason) => {
            closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
            const why = `${code} ${reason.toString().replace(/\d+/g, 'N')}`;
            closeReasons.set(why, (closeReasons.get(why) ?? 0) + 1);
            resolve();
          }),
        );
        for (let n = 0; n < MAX_FRAMES_PER_CONNECTION && sent < HOSTILE_FRAMES && socket.readyState === WebSocket.OPEN; n++) {
          const [name, make] = random.pick(generators);
          stats.set(name, (stats.get(name) ?? 0) + 1);
          socket.send(make());
          sent++;
          // Paces the frames (load, not a wait), and stops at once when the server closes the socket.
          await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 2))]);
        }
        if (socket.readyState === WebSocket.OPEN) socket.close();
        await gone;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => attacker(i)));
    const attackMs = Date.now() - started;
    editing = false;
    await editor;

    // The honest clients converge with each other and with what a newcomer loads.
    const view = (doc: Y.Doc) => JSON.stringify([doc.getText('t').toString(), doc.getXmlFragment('prosemirror').toString(), doc.getMap('meta').toJSON()]);
    await waitFor(() => view(alice.doc) === view(bob.doc), 'Alice and Bob to converge', 5_000).catch((error) => diagnose(error, alice.doc, bob.doc));
    const newcomer = await honest('carol');
    await waitFor(() => view(newcomer.doc) === view(alice.doc), 'a newcomer to load the same document', 5_000).catch((error) => diagnose(error, alice.doc, newcomer.doc));
    const edited = view(alice.doc);
    // The honest clients kept editing throughout (attackers with write tokens may legitimately
    // add and delete text; what matters is that everyone ends with the same document).
    expect(edits).toBeGreaterThan(50);

    console.log(
      `fuzz (seed ${seed}): ${sent} hostile frames over ${connections} connections in ${attackMs} ms while ${edits} honest edits were made; ` +
        `frames by kind ${JSON.stringify(Object.fromEntries(stats))}; attacker sockets closed with ${JSON.stringify(Object.fromEntries(closeCodes))}: ${JSON.stringify(Object.fromEntries(closeReasons))}; ` +
        `observer checked ${observed} server frames`,
    );
    expect(sent).toBeGreaterThanOrEqual(HOSTILE_FRAMES);
    expect(badFrames).toEqual([]);
    expect(honestCloses).toEqual([]);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect(server.logs.join('\n')).not.toMatch(/uncaught|unhandled|"level":60/i);

    // What was persisted is the same document: restart on the same data and load it.
    for (const client of clients.splice(0)) client.destroy();
    observer.terminate();
    await server.kill();
    server = await startServer({ dataDir: server.dataDir, env: { AUTH_SECRET: SECRET } });
    const reloaded = await honest('dave');
    expect(view(reloaded.doc)).toBe(edited);
  });
});


/** Checks a frame the server sent on a Hocuspocus socket: a well-formed Hocuspocus message, its Yjs part too. */
function checkHocuspocusServerFrame(frame: Uint8Array): string | null {
  try {
    const message = decodeHocuspocusServerFrame(frame);
    if (message.kind === 'yjs') return checkServerFrame(message.message);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('fuzzing the Hocuspocus framing of a live server', () => {
  let server: ServerProcess;
  const clients: Array<{ destroy(): void }> = [];
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
  console.log(`Hocuspocus fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);

  beforeAll(async () => {
    server = await startSecureServer();
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server.kill();
  });

  it(`throws ${HOSTILE_FRAMES} random and mutated Hocuspocus frames at /sync while a provider and a y-websocket client edit one document; they converge and nothing bad reaches them`, async () => {
    const random = seededRandom(seed);
    const provider = async (subject: string): Promise<HocuspocusClient> => {
      const client = connectHocuspocus(server.syncUrl, DOCUMENT, { token: await token({ subject }) });
      clients.push(client);
      await hocuspocusSynced(client);
      return client;
    };
    const tiptap = await provider('tia');
    const stock = connectClient(server.syncUrl, DOCUMENT, { params: { token: await token({ subject: 'stan' }) } });
    clients.push(stock);
    await synced(stock);
    // Each close with its code and reason, so that a failure says who closed and why.
    const honestCloses: string[] = [];
    const described = (event: { code?: number; reason?: string } | null | undefined) => `${event?.code} ${event?.reason}`;
    tiptap.provider.on('disconnect', ({ event }: { event?: { code?: number; reason?: string } }) => honestCloses.push(`tiptap disconnect ${described(event)}`));
    tiptap.provider.on('close', ({ event }: { event?: { code?: number; reason?: string } }) => honestCloses.push(`tiptap close ${described(event)}`));
    stock.provider.on('connection-close', (event: { code?: number; reason?: string } | null) => honestCloses.push(`y-websocket ${described(event)}`));

    // A read-only Hocuspocus observer checks every frame the server sends it.
    const observer = (await upgrade(server.syncUrl)).socket!;
    const badFrames: string[] = [];
    let observed = 0;
    observer.on('message', (data: Buffer) => {
      observed++;
      const problem = checkHocuspocusServerFrame(new Uint8Array(data));
      if (problem) badFrames.push(problem);
    });
    observer.send(encodeFrame(writeAuthToken, DOCUMENT, await token({ subject: 'observer', canWrite: false }), '4.8.0'));
    observer.send(encodeFrame(writeKeyedMessage, DOCUMENT, frames.step1(Y.encodeStateVector(new Y.Doc()))));

    const samples: Array<{ kind: 'update' | 'awareness' | 'step1'; payload: Uint8Array }> = [];
    for (const doc of [tiptap.doc, stock.doc]) doc.on('update', (update: Uint8Array) => samples.length < 500 && samples.push({ kind: 'update', payload: update }));

    let editing = true;
    let edits = 0;
    const editor = (async () => {
      while (editing) {
        const doc = random.next() < 0.5 ? tiptap.doc : stock.doc;
        const text = doc.getText('t');
        if (random.next() < 0.7 || text.length < 5) text.insert(random.int(text.length + 1), `${doc === tiptap.doc ? 'h' : 'y'}${edits} `);
        else text.delete(random.int(text.length - 2), 2);
        if (doc === tiptap.doc) tiptap.provider.setAwarenessField('cursor', { at: edits });
        else stock.provider.awareness.setLocalStateField('cursor', { at: edits });
        edits++;
        // A sleep on purpose (load, not a wait): paces the honest edits over the whole attack.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(() => samples.length >= 20, 'some honest updates to mutate');
    samples.push({ kind: 'awareness', payload: encodeAwarenessUpdate(stock.provider.awareness, [stock.doc.clientID]) });
    samples.push({ kind: 'awareness', payload: encodeAwarenessUpdate(tiptap.provider.awareness!, [tiptap.doc.clientID]) });
    samples.push({ kind: 'step1', payload: Y.encodeStateVector(stock.doc) });

    const attackerDoc = new Y.Doc();
    const writeToken = await token({ subject: 'mallory' });
    const keys = [DOCUMENT, `${DOCUMENT}\0session`, 'other', '', ' padded ', 'a\u0001b', 'x'.repeat(300)];
    const honestWhole = (key: string) => {
      const sample = random.pick(samples);
      const inner = sample.kind === 'update' ? frames.update(sample.payload) : sample.kind === 'step1' ? frames.step1(sample.payload) : withLength([1], sample.payload);
      return encodeFrame(writeKeyedMessage, key, inner);
    };
    const generators: Array<[string, () => Uint8Array | string]> = [
      ['random bytes', () => random.bytes(random.int(random.next() < 0.9 ? 64 : 2_000))],
      ['key, known type, random body', () => {
        const encoder = encoding.createEncoder();
        encoding.writeVarString(encoder, random.pick(keys));
        encoding.writeVarUint(encoder, random.int(12));
        encoding.writeUint8Array(encoder, random.bytes(random.int(40)));
        return encoding.toUint8Array(encoder);
      }],
      ['huge declared key or string length', () => Uint8Array.from([...random.pick([[], [7, ...new TextEncoder().encode(DOCUMENT), 2, 0], [7, ...new TextEncoder().encode(DOCUMENT), 5]]), ...hugeVarUint(random.pick([2 ** 28, 2 ** 32, 2 ** 53 - 1, 65_536])), ...random.bytes(random.int(16))])],
      ['truncated varint', () => Uint8Array.from([...random.pick([[], [4, 102, 117, 122, 122], [4, 102, 117, 122, 122, 0]]), 0x80 | random.int(128)])],
      ['single byte (ping, pong, other)', () => Uint8Array.from([random.pick([9, 10, 7, 0, 255])])],
      ['auth with a random or mutated token', () => encodeFrame(writeAuthToken, random.pick(keys), random.next() < 0.5 ? writeToken : new TextDecoder().decode(mutate(random, new TextEncoder().encode(writeToken))), random.next() < 0.5 ? '4.8.0' : null)],
      ['mutated honest frame', () => mutate(random, honestWhole(random.pick(keys)))],
      ['honest frame, other key', () => honestWhole(random.pick(keys))],
      ['mutated honest payload, valid framing', () => {
        const sample = random.pick(samples);
        const payload = mutate(random, sample.payload);
        const inner = sample.kind === 'awareness' ? withLength([1], payload) : withLength([0, sample.kind === 'step1' ? 0 : random.pick([1, 2])], payload);
        return encodeFrame(writeKeyedMessage, DOCUMENT, inner);
      }],
      ['awareness for someone else', () => encodeFrame(writeKeyedMessage, DOCUMENT, frames.awareness([[random.pick([tiptap.doc.clientID, stock.doc.clientID]), 1_000 + random.int(1000), random.next() < 0.5 ? null : { user: 'impostor' }]]))],
      ['valid attacker edit', () => {
        const text = attackerDoc.getText('t');
        text.insert(random.int(text.length + 1), 'm');
        return encodeFrame(writeKeyedMessage, DOCUMENT, frames.update(Y.encodeStateAsUpdate(attackerDoc)));
      }],
      ['stateless, close, query awareness', () => random.pick([
        () => encodeFrame(writeStateless, random.pick(keys), 'x'.repeat(random.int(3_000))),
        () => encodeFrame(writeClientClose, random.pick(keys)),
        () => encodeFrame(writeKeyedMessage, random.pick(keys), frames.queryAwareness()),
      ])()],
      ['many documents', () => encodeFrame(writeAuthToken, `doc-${random.int(1_000_000)}`, writeToken, '4.8.0')],
      ['text frame', () => 'not binary'],
    ];

    const stats = new Map<string, number>();
    const closeReasons = new Map<string, number>();
    let sent = 0;
    let connections = 0;
    const attacker = async (index: number) => {
      const readOnly = index % 3 === 2;
      const t = await token({ subject: `mallory-${index}`, canWrite: !readOnly });
      while (sent < HOSTILE_FRAMES) {
        const attempt = await upgrade(server.syncUrl);
        if (!attempt.socket) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        connections++;
        const socket = attempt.socket;
        socket.on('error', () => {});
        const gone = new Promise<void>((resolve) =>
          socket.once('close', (code, reason) => {
            const why = `${code} ${reason.toString().replace(/\d+/g, 'N')}`;
            closeReasons.set(why, (closeReasons.get(why) ?? 0) + 1);
            resolve();
          }),
        );
        // Most attackers authenticate first, so that their frames reach the room.
        if (random.next() < 0.8) socket.send(encodeFrame(writeAuthToken, DOCUMENT, t, random.next() < 0.5 ? '4.8.0' : null));
        for (let n = 0; n < MAX_FRAMES_PER_CONNECTION && sent < HOSTILE_FRAMES && socket.readyState === WebSocket.OPEN; n++) {
          const [name, make] = random.pick(generators);
          stats.set(name, (stats.get(name) ?? 0) + 1);
          socket.send(make());
          sent++;
          await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 2))]);
        }
        if (socket.readyState === WebSocket.OPEN) socket.close();
        await gone;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => attacker(i)));
    const attackMs = Date.now() - started;
    editing = false;
    await editor;

    const view = (doc: Y.Doc) => doc.getText('t').toString();
    await waitFor(() => view(tiptap.doc) === view(stock.doc), 'the provider and the stock client to converge', 5_000).catch((error) => diagnose(error, tiptap.doc, stock.doc));
    await hocuspocusSaved(tiptap);
    const newcomer = await provider('carol');
    await waitFor(() => view(newcomer.doc) === view(stock.doc), 'a newcomer to load the same document', 5_000);
    expect(edits).toBeGreaterThan(50);
    console.log(
      `Hocuspocus fuzz (seed ${seed}): ${sent} hostile frames over ${connections} sockets in ${attackMs} ms while ${edits} honest edits were made; ` +
        `frames by kind ${JSON.stringify(Object.fromEntries(stats))}; sockets closed with ${JSON.stringify(Object.fromEntries(closeReasons))}; observer checked ${observed} server frames`,
    );
    expect(sent).toBeGreaterThanOrEqual(HOSTILE_FRAMES);
    expect(observed).toBeGreaterThan(0);
    expect(badFrames).toEqual([]);
    expect(honestCloses).toEqual([]);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect(server.logs.join('\n')).not.toMatch(/uncaught|unhandled|"level":60/i);
    observer.terminate();
  });
});
