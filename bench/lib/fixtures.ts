import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as Y from 'yjs';
import { ROOT } from './servers.js';

/** A document as the list of Yjs updates that build it, and the text it ends with. */
export interface Fixture {
  name: string;
  updatesFile: string;
  textFile: string;
  updates: number;
  edits: number;
  textLength: number;
}

const FIXTURE_VERSION = 1;
export const WORK_DIR = path.join(ROOT, 'bench/.work');
const FIXTURE_DIR = path.join(WORK_DIR, `fixtures-v${FIXTURE_VERSION}`);
/** The real editing trace ships with the repository as a test fixture (attribution in its README.md). */
export const TRACE_FILE = path.join(ROOT, 'tests/fixtures/automerge-paper.json.gz');

/** Deterministic PRNG (mulberry32) so every run builds the same documents. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Length-prefixed (u32 LE) concatenation of updates. */
export function writeUpdates(file: string, updates: Uint8Array[]): void {
  const total = updates.reduce((sum, u) => sum + 4 + u.length, 0);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const update of updates) {
    out.writeUInt32LE(update.length, pos);
    out.set(update, pos + 4);
    pos += 4 + update.length;
  }
  fs.writeFileSync(file, out);
}

export function readUpdates(file: string): Uint8Array[] {
  const data = fs.readFileSync(file);
  const updates: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.length) {
    const length = data.readUInt32LE(pos);
    updates.push(new Uint8Array(data.buffer, data.byteOffset + pos + 4, length));
    pos += 4 + length;
  }
  return updates;
}

function save(name: string, updates: Uint8Array[], text: string, edits: number): Fixture {
  fs.mkdirSync(FIXTURE_DIR, { recursive: true });
  const fixture: Fixture = {
    name,
    updatesFile: path.join(FIXTURE_DIR, `${name}.updates`),
    textFile: path.join(FIXTURE_DIR, `${name}.txt`),
    updates: updates.length,
    edits,
    textLength: text.length,
  };
  writeUpdates(fixture.updatesFile, updates);
  fs.writeFileSync(fixture.textFile, text);
  fs.writeFileSync(path.join(FIXTURE_DIR, `${name}.json`), JSON.stringify(fixture));
  return fixture;
}

function cached(name: string): Fixture | null {
  const file = path.join(FIXTURE_DIR, `${name}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Fixture) : null;
}

/**
 * `edits` single edits by four users taking turns in sessions of a few hundred edits: inserts of
 * 1–8 characters and deletes of 1–5 at random places, one Yjs update (one message) per edit.
 */
export function randomEditsFixture(edits: number): Fixture {
  const name = `random-${edits}`;
  const existing = cached(name);
  if (existing) return existing;
  const next = random(0xc0ffee + edits);
  const doc = new Y.Doc();
  const users = [101, 202, 303, 404];
  const text = doc.getText('t');
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const letters = 'abcdefghijklmnopqrstuvwxyz      ';
  for (let i = 0; i < edits; i++) {
    if (i % 250 === 0) doc.clientID = users[Math.floor(next() * users.length)]!;
    const length = text.length;
    if (length < 200 || next() < 0.7) {
      let word = '';
      const size = 1 + Math.floor(next() * 8);
      for (let j = 0; j < size; j++) word += letters[Math.floor(next() * letters.length)];
      text.insert(Math.floor(next() * (length + 1)), word);
    } else {
      const at = Math.floor(next() * (length - 5));
      text.delete(at, 1 + Math.floor(next() * 5));
    }
  }
  return save(name, updates, text.toString(), edits);
}

interface Trace {
  endContent: string;
  txns: Array<{ patches: Array<[number, number, string]> }>;
}

/**
 * The automerge-paper editing trace (259,778 transactions) replayed into one Y.Text. It is sent as
 * updates of `perMessage` transactions each, which yields the same document structure as one
 * message per keystroke while keeping the population step short.
 */
export function traceFixture(perMessage = 1000): Fixture {
  const name = `automerge-paper-${perMessage}`;
  const existing = cached(name);
  if (existing) return existing;
  const trace = JSON.parse(zlib.gunzipSync(fs.readFileSync(TRACE_FILE)).toString('utf8')) as Trace;
  const doc = new Y.Doc();
  doc.clientID = 505;
  const text = doc.getText('t');
  let pending: Uint8Array[] = [];
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => pending.push(update));
  trace.txns.forEach(({ patches }, i) => {
    doc.transact(() => {
      for (const [position, deleted, inserted] of patches) {
        if (deleted > 0) text.delete(position, deleted);
        if (inserted.length > 0) text.insert(position, inserted);
      }
    });
    if ((i + 1) % perMessage === 0 || i === trace.txns.length - 1) {
      updates.push(Y.mergeUpdates(pending));
      pending = [];
    }
  });
  const result = text.toString();
  if (result !== trace.endContent) throw new Error('replaying the automerge-paper trace did not give its endContent');
  return save(name, updates, result, trace.txns.length);
}

/**
 * A file holding one Yjs update: the fixture's whole history merged (every struct and deletion kept),
 * for `ConnectionPlan.seedFile`. One message gives a server the document a long session built.
 */
export function seedFile(fixture: Fixture): string {
  const file = fixture.updatesFile.replace(/\.updates$/, '.seed');
  if (!fs.existsSync(file)) writeUpdates(file, [Y.mergeUpdates(readUpdates(fixture.updatesFile))]);
  return file;
}

/**
 * About `characters` of text typed the way people type: words of 1–12 letters at a cursor that
 * mostly stays where it was, now and then a few characters deleted, one update per word.
 */
export function typedTextFixture(characters: number): Fixture {
  const name = `typed-${characters}`;
  const existing = cached(name);
  if (existing) return existing;
  const next = random(0x7e57 + characters);
  const doc = new Y.Doc();
  doc.clientID = 606;
  const text = doc.getText('t');
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let cursor = 0;
  let edits = 0;
  while (text.length < characters) {
    edits++;
    if (next() < 0.05) cursor = Math.floor(next() * (text.length + 1));
    if (text.length > 20 && next() < 0.1) {
      const length = Math.min(1 + Math.floor(next() * 5), cursor);
      text.delete(cursor - length, length);
      cursor -= length;
      continue;
    }
    let word = '';
    const size = 1 + Math.floor(next() * 12);
    for (let j = 0; j < size; j++) word += letters[Math.floor(next() * letters.length)];
    word += next() < 0.1 ? '.\n' : ' ';
    text.insert(cursor, word);
    cursor += word.length;
  }
  return save(name, updates, text.toString(), edits);
}
