/**
 * Cold load: a document written, the server restarted, then read by fresh clients. A client that
 * has nothing is answered from the stored bytes while the server is still decoding them (its
 * sync step 2 arrives before the server's own sync step 1, which is sent once the room is built);
 * everyone ends with exactly the stored content, whether it is one snapshot or a snapshot plus
 * log rows, and a client with state of its own waits for the room and is answered with a diff.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as decoding from 'lib0/decoding';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { tempDir, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { frames, startSecureServer, token } from './security-harness.js';

const DOC = 'cold';

// Minted up front, so that clients meant to arrive together connect in the same moment.
const tokens = { writer: '', reader: '' };
beforeAll(async () => {
  tokens.writer = await token({ subject: 'writer' });
  tokens.reader = await token({ subject: 'reader', canWrite: false });
});

const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
const sockets: WebSocket[] = [];
const dataDirs: string[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  for (const dir of dataDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<ServerProcess> {
  const server = await startSecureServer({ MAX_MESSAGES_PER_SECOND: '0', MAX_BYTES_PER_SECOND: '0' }, { dataDir });
  servers.push(server);
  return server;
}

function stockClient(server: ServerProcess, doc?: Y.Doc): TestClient {
  const client = connectClient(server.syncUrl, DOC, { params: { token: tokens.writer }, ...(doc && { doc }) });
  clients.push(client);
  return client;
}

/** A document of many small random edits (so many Yjs structs: decoding it takes a while). */
function editedDocument(edits: number, seed: number): Y.Doc {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const doc = new Y.Doc();
  const text = doc.getText('t');
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (text.length + 1));
    if (text.length > 20 && random() < 0.2) text.delete(Math.min(at, text.length - 3), 3);
    else text.insert(at, `${i % 10}${String.fromCharCode(97 + (i % 26))}`);
  }
  doc.getMap('meta').set('title', 'Cold');
  return doc;
}

function copyOf(...docs: Y.Doc[]): Y.Doc {
  const copy = new Y.Doc();
  for (const doc of docs) Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

const content = (doc: Y.Doc) => ({ text: doc.getText('t').toString(), title: doc.getMap('meta').get('title') });

/** Sends a document through a server and waits until another client received (so it is committed). */
async function write(server: ServerProcess, source: Y.Doc): Promise<void> {
  const writer = stockClient(server, copyOf(source));
  const observer = stockClient(server);
  await Promise.all([synced(writer), synced(observer)]);
  await waitFor(() => observer.doc.getText('t').toString() === source.getText('t').toString(), 'the document to be committed and relayed', 30_000);
}

function storedRows(dataDir: string): { snapshot: boolean; rows: number } {
  const db = new Database(path.join(dataDir, 'collab.sqlite'), { readonly: true });
  try {
    const document = db.prepare('SELECT snapshot FROM documents WHERE name = ?').get(DOC) as { snapshot: Buffer | null };
    const { rows } = db.prepare('SELECT count(*) AS rows FROM updates WHERE name = ?').get(DOC) as { rows: number };
    return { snapshot: document.snapshot !== null, rows };
  } finally {
    db.close();
  }
}

type FrameKind = 'step1' | 'step2' | 'update' | 'other';

interface RawClient {
  /** Kinds of the sync frames received, in order. */
  kinds: FrameKind[];
  /**
   * The client's document with everything received so far. Decoded only when asked: decoding a
   * large answer blocks this process, which also has to connect the other clients in time.
   */
  doc(): Y.Doc;
}

interface RawOptions {
  /** What the client has before it connects. */
  doc?: Y.Doc;
  readOnly?: boolean;
  /** Frames sent before the sync step 1. */
  before?: Uint8Array[];
  /** The sync step 1 is sent once this resolves (e.g. once a whole crowd is connected). */
  ready?: Promise<unknown>;
}

/**
 * A y-websocket client on a plain socket, to see the order of frames: sends `before` and then a
 * sync step 1 with its state vector once open, answers the server's step 1 with what it lacks.
 */
function rawClient(server: ServerProcess, options: RawOptions = {}): RawClient & { opened: Promise<void> } {
  const doc = options.doc ?? new Y.Doc();
  const kinds: FrameKind[] = [];
  const received: Uint8Array[] = [];
  const current = () => {
    for (const update of received.splice(0)) Y.applyUpdate(doc, update);
    return doc;
  };
  const socket = new WebSocket(`${server.syncUrl}/${DOC}?token=${options.readOnly ? tokens.reader : tokens.writer}`);
  sockets.push(socket);
  const opened = new Promise<void>((resolve) => socket.once('open', () => resolve()));
  void Promise.all([opened, options.ready]).then(() => {
    for (const frame of options.before ?? []) socket.send(frame);
    socket.send(frames.step1(Y.encodeStateVector(doc)));
  });
  socket.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== 0) return;
    const kind = (['step1', 'step2', 'update'] as const)[decoding.readVarUint(decoder)] ?? 'other';
    kinds.push(kind);
    const payload = decoding.readVarUint8Array(decoder);
    if (kind === 'step1') socket.send(frames.step2(Y.encodeStateAsUpdate(current(), payload)));
    else received.push(payload);
  });
  return { kinds, doc: current, opened };
}

async function hasContent(client: { doc(): Y.Doc }, expected: Y.Doc, what: string): Promise<void> {
  const want = content(expected);
  await waitFor(() => client.doc().getText('t').toString() === want.text, what, 30_000);
  expect(content(client.doc())).toEqual(want);
}

/**
 * A fresh raw client gets the whole document as its first frame, one sync step 2 only; a stock
 * client that comes next ends with exactly the same content.
 */
async function expectAnsweredEarly(server: ServerProcess, expected: Y.Doc, what: string): Promise<void> {
  const raw = rawClient(server);
  await hasContent(raw, expected, what);
  expect(raw.kinds[0]).toBe('step2');
  expect(raw.kinds.filter((kind) => kind === 'step2')).toHaveLength(1);
  const stock = stockClient(server);
  await synced(stock);
  expect(content(stock.doc)).toEqual(content(expected));
}

/** A data directory holding `doc` as one compacted snapshot (written, then a graceful shutdown). */
async function snapshotOnDisk(doc: Y.Doc): Promise<string> {
  const dataDir = tempDir();
  dataDirs.push(dataDir);
  const server = await start(dataDir);
  await write(server, doc);
  for (const client of clients.splice(0)) client.destroy();
  expect(await server.kill('SIGTERM')).toBe(0);
  expect(storedRows(dataDir)).toEqual({ snapshot: true, rows: 0 });
  return dataDir;
}

describe('cold load', () => {
  it('answers a fresh client from the stored snapshot before the room is built, with exactly the content', async () => {
    const source = editedDocument(15_000, 1);
    const dataDir = await snapshotOnDisk(source);

    const server = await start(dataDir);
    await expectAnsweredEarly(server, source, 'the raw client to have the document');
  });

  it('answers from a snapshot plus log rows, merged, with exactly the content', async () => {
    const source = editedDocument(15_000, 2);
    const dataDir = await snapshotOnDisk(source);
    const second = await start(dataDir);
    const writer = stockClient(second, copyOf(source));
    const observer = stockClient(second);
    await Promise.all([synced(writer), synced(observer)]);
    for (let i = 0; i < 5; i++) {
      writer.doc.getText('t').insert(i * 7, `<row ${i}>`);
      await waitFor(() => observer.doc.getText('t').toString() === writer.doc.getText('t').toString(), `edit ${i} to be committed`);
    }
    writer.doc.getMap('meta').set('title', 'Cold, with rows');
    await waitFor(() => observer.doc.getMap('meta').get('title') === 'Cold, with rows', 'the title change to be committed');
    const expected = copyOf(writer.doc);
    // No graceful shutdown: the edits stay log rows after the snapshot.
    await second.kill('SIGKILL');
    for (const client of clients.splice(0)) client.destroy();
    const stored = storedRows(dataDir);
    expect(stored.snapshot).toBe(true);
    expect(stored.rows).toBeGreaterThan(0);

    const third = await start(dataDir);
    await expectAnsweredEarly(third, expected, 'the raw client to have the document with its log rows');
  });

  it('answers every client that arrives during one load early, read-only ones and editors that subscribe first included', async () => {
    // Small enough that the stock clients' own decoding does not hold this process up for long.
    const source = editedDocument(2_000, 3);
    const dataDir = await snapshotOnDisk(source);
    const server = await start(dataDir);
    const loadsBefore = await metric(server.httpUrl, 'collab_room_load_seconds_count');

    // Connected together; they ask once all are connected, as a crowd reconnecting after a restart.
    let askNow = () => {};
    const allConnected = new Promise<void>((resolve) => (askNow = resolve));
    const subscribeSaved = frames.subscribeSaved();
    const raws = [
      rawClient(server, { ready: allConnected }),
      rawClient(server, { ready: allConnected }),
      rawClient(server, { ready: allConnected, readOnly: true }),
      rawClient(server, { ready: allConnected, before: [subscribeSaved, frames.awareness([[7, 1, { user: 'early' }]])] }),
    ];
    const stocks = [stockClient(server), stockClient(server), stockClient(server)];
    await Promise.all(raws.map((raw) => raw.opened));
    askNow();
    await waitFor(() => raws.every((raw) => raw.kinds.length > 0), 'every raw client to be answered');
    await Promise.all(raws.map((raw, i) => hasContent(raw, source, `raw client ${i} to have the document`)));
    await Promise.all(stocks.map((stock) => synced(stock)));
    for (const stock of stocks) expect(content(stock.doc)).toEqual(content(source));
    for (const raw of raws) expect(raw.kinds[0]).toBe('step2');
    expect(await metric(server.httpUrl, 'collab_room_load_seconds_count')).toBe(loadsBefore + 1);

    // The room works as usual afterwards: an edit reaches everyone.
    stocks[0]!.doc.getText('t').insert(0, 'after the load: ');
    await waitFor(() => raws.every((raw) => raw.doc().getText('t').toString().startsWith('after the load: ')), 'every raw client to receive the edit');
  });

  it('makes clients with state of their own, or whose first frame changes the document, wait for the room', async () => {
    const source = editedDocument(15_000, 4);
    const dataDir = await snapshotOnDisk(source);
    // A client that had the document before the restart and edited it offline since.
    const offline = copyOf(source);
    offline.getText('t').insert(0, 'offline edit: ');
    // A client that has nothing but sends an update before its sync step 1.
    const other = new Y.Doc();
    other.getText('t').insert(0, 'sent first: ');
    const expected = copyOf(offline, other);

    const server = await start(dataDir);
    const fresh = rawClient(server);
    const returning = rawClient(server, { doc: offline });
    const updateFirst = rawClient(server, { before: [frames.update(Y.encodeStateAsUpdate(other))] });
    await hasContent(returning, expected, 'the returning client to end with every edit');
    await hasContent(fresh, expected, 'the fresh client to end with every edit');
    await hasContent(updateFirst, expected, 'the update-first client to end with every edit');
    expect(returning.kinds[0]).toBe('step1');
    expect(updateFirst.kinds[0]).toBe('step1');
    expect(fresh.kinds[0]).toBe('step2');
  });
});
