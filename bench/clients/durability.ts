/**
 * A writer streaming numbered edits and an observer (a second connection) recording which of them
 * it received. Modes: `stream` (steady rate, then this process SIGKILLs the server at a given moment), `burst` (edits as
 * fast as possible; this process SIGKILLs the server the moment the observer has the last one),
 * and `throughput` (edits as fast as the server confirms them to the observer, no kill).
 */
import * as Y from 'yjs';
import { connectClient, serveTask } from '../lib/connect.js';
import { marker, MARKER_EDIT, scanMarkers, type Flavor } from '../lib/wire.js';

export interface DurabilityTask {
  mode: 'stream' | 'burst' | 'throughput';
  url: string;
  flavor: Flavor;
  doc: string;
  serverPid: number;
  /** stream: edits per second; burst: edits before the burst at that rate. */
  rate: number;
  /** stream: SIGKILL the server this long after streaming started. */
  killAfterMs: number;
  /** burst/throughput: how many edits. */
  count: number;
  /** throughput: edits in flight (sent, not yet seen by the observer). */
  window: number;
  /** burst: steady streaming before the burst. */
  leadMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

serveTask<DurabilityTask>(async (task) => {
  const observed = new Set<number>();
  let highest = 0;
  const observer = connectClient(task.url, task.flavor, task.doc, (kind, bytes, offset) => {
    if (kind !== 'update') return;
    scanMarkers(bytes, offset, (markerKind, _source, seq) => {
      if (markerKind !== MARKER_EDIT) return;
      observed.add(seq);
      if (seq > highest) highest = seq;
    });
  });
  const writer = connectClient(task.url, task.flavor, task.doc, () => {});
  await Promise.all([observer.synced, writer.synced]);
  const doc = new Y.Doc();
  const text = doc.getText('t');
  let last: Uint8Array | null = null;
  doc.on('update', (update: Uint8Array) => (last = update));
  let sent = 0;
  let serverGone = false;
  void observer.closed.then(() => (serverGone = true));
  void writer.closed.then(() => (serverGone = true));
  const write = () => {
    sent++;
    text.insert(text.length, marker('w', 0, sent, 0) + ' edit number ' + sent + '. ');
    writer.ws.send(writer.framer.update(last!));
  };
  const stream = async (ms: number) => {
    const started = performance.now();
    const period = 1000 / task.rate;
    let due = started;
    while (!serverGone && performance.now() - started < ms) {
      while (due <= performance.now()) {
        write();
        due += period;
      }
      await sleep(Math.max(1, due - performance.now()));
    }
  };

  let killedAt = 0;
  let throughput = 0;
  if (task.mode === 'stream') {
    await stream(task.killAfterMs);
    process.kill(task.serverPid, 'SIGKILL');
    killedAt = sent;
  } else if (task.mode === 'burst') {
    await stream(task.leadMs);
    const lastOfBurst = sent + task.count;
    while (sent < lastOfBurst) write();
    const deadline = performance.now() + 20_000;
    while (highest < lastOfBurst && !serverGone && performance.now() < deadline) await sleep(0);
    process.kill(task.serverPid, 'SIGKILL');
    killedAt = sent;
  } else {
    const started = performance.now();
    const deadline = started + 120_000;
    while (observed.size < task.count && !serverGone && performance.now() < deadline) {
      while (sent < task.count && sent - observed.size < task.window) write();
      await sleep(0);
    }
    throughput = observed.size / ((performance.now() - started) / 1000);
  }
  // Whatever was still on its way when the server died is not "seen".
  await Promise.race([Promise.all([observer.closed, writer.closed]), sleep(task.mode === 'throughput' ? 0 : 3_000)]);
  observer.ws.terminate();
  writer.ws.terminate();
  return { ok: true, sent, observed: [...observed], killedAt, throughput };
});
