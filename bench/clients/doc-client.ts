/**
 * Single clients that work on whole documents (so they decode): `populate` sends a fixture's
 * updates, `load` times a fresh client until it has the full content, `restore` reads back which
 * numbered edits a document holds after a crash.
 */
import fs from 'node:fs';
import * as Y from 'yjs';
import { connectClient, serveTask, type TaskResult } from '../lib/connect.js';
import { readUpdates } from '../lib/fixtures.js';
import { readPayload, type Flavor } from '../lib/wire.js';

export type DocTask =
  | { task: 'populate'; url: string; flavor: Flavor; doc: string; updatesFile: string }
  | { task: 'load'; url: string; flavor: Flavor; doc: string; textFile: string; updatesFile: string; timeoutMs: number }
  | { task: 'restore'; url: string; flavor: Flavor; doc: string; quietMs: number; timeoutMs: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function populate(input: Extract<DocTask, { task: 'populate' }>): Promise<TaskResult> {
  const updates = readUpdates(input.updatesFile);
  let replies = 0;
  const client = connectClient(input.url, input.flavor, input.doc, (kind) => {
    if (kind === 'step2') replies++;
  });
  await client.synced;
  const started = performance.now();
  for (let i = 0; i < updates.length; i++) {
    client.ws.send(client.framer.update(updates[i]!));
    if (i % 200 === 199) await client.drain();
  }
  // A step 1 sent after every update is answered after all of them were handled.
  const before = replies;
  client.ws.send(client.framer.syncStep1());
  const deadline = performance.now() + 300_000;
  while (replies === before && performance.now() < deadline) await sleep(5);
  const ms = performance.now() - started;
  client.ws.close();
  return { ok: replies > before, ms, messages: updates.length, error: replies > before ? undefined : 'no reply to the final step 1' };
}

async function load(input: Extract<DocTask, { task: 'load' }>): Promise<TaskResult> {
  const expected = fs.readFileSync(input.textFile, 'utf8');
  // Warm this process's Yjs up first, so the time measures the server and the wire, not our JIT.
  const scratch = new Y.Doc();
  const warmup = readUpdates(input.updatesFile).slice(0, 3000);
  for (const update of warmup) Y.applyUpdate(scratch, update);
  Y.applyUpdate(new Y.Doc(), Y.encodeStateAsUpdate(scratch));
  scratch.destroy();
  const doc = new Y.Doc();
  const text = doc.getText('t');
  let bytes = 0;
  let openMs = 0;
  let firstByteMs = 0;
  let done: (result: TaskResult) => void = () => {};
  const finished = new Promise<TaskResult>((resolve) => (done = resolve));
  const started = performance.now();
  const client = connectClient(input.url, input.flavor, input.doc, (kind, message, offset) => {
    if (kind !== 'step2' && kind !== 'update') return;
    const receivedAt = performance.now();
    if (firstByteMs === 0) firstByteMs = receivedAt - started;
    bytes += message.length;
    Y.applyUpdate(doc, readPayload(message, offset));
    if (text.length === expected.length && text.toString() === expected) {
      const contentMs = performance.now() - started;
      done({ ok: true, bytesMs: receivedAt - started, contentMs, applyMs: contentMs - (receivedAt - started), firstByteMs, openMs, bytes });
    }
  });
  client.ws.once('open', () => (openMs = performance.now() - started));
  const timer = setTimeout(() => done({ ok: false, error: `no full content within ${input.timeoutMs} ms (have ${text.length} of ${expected.length} characters)` }), input.timeoutMs);
  void client.closed.then((code) => done({ ok: false, error: `closed with ${code} before the full content arrived` }));
  const result = await finished;
  clearTimeout(timer);
  client.ws.terminate();
  return result;
}

async function restore(input: Extract<DocTask, { task: 'restore' }>): Promise<TaskResult> {
  const doc = new Y.Doc();
  const text = doc.getText('t');
  let lastMessageAt = performance.now();
  const client = connectClient(input.url, input.flavor, input.doc, (kind, message, offset) => {
    if (kind !== 'step2' && kind !== 'update') return;
    lastMessageAt = performance.now();
    Y.applyUpdate(doc, readPayload(message, offset));
  });
  const started = performance.now();
  await client.synced;
  // A server that loads in the background sends the stored content after its first reply.
  while (performance.now() - lastMessageAt < input.quietMs && performance.now() - started < input.timeoutMs) await sleep(20);
  client.ws.close();
  const seqs: number[] = [];
  for (const match of text.toString().matchAll(/@@w(\d+)\.(\d+)\./g)) seqs.push(Number(match[2]));
  return { ok: true, seqs };
}

serveTask<DocTask>(async (input) => {
  switch (input.task) {
    case 'populate':
      return populate(input);
    case 'load':
      return load(input);
    case 'restore':
      return restore(input);
  }
});
