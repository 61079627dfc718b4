/**
 * The HTTP fallback transport against WebSocket, on this server, in the same rounds:
 *
 * - Edit latency: DOCUMENTS documents, one writer and one reader each (stock y-websocket
 *   providers), 20 edits a second per writer; latency from an edit on the writer to its arrival at
 *   the reader. `websocket`: both on WebSocket. `http`: both on the fallback (FallbackWebSocket,
 *   started on HTTP, WebSocket never retried), so an edit goes writer → POST → server → stream →
 *   reader. Variants rotate, each on a fresh server process.
 * - Memory: SESSIONS idle clients held open (10 per document), the server's resident memory
 *   before and after: WebSocket connections against fallback sessions holding their stream (what
 *   an idle fallback client keeps), as KB each and as clients per GiB.
 *
 *   npm run bench:fallback [-- --quick] [-- --rounds N] [-- --seconds N]
 *
 * Writes bench/results/fallback-<date>.json and .md (not with --quick). Clients run in this
 * process, the server in its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { FallbackWebSocket } from '../client/transport/fallback-websocket.js';
import { memoryTransportMemory } from '../client/transport/transport-memory.js';
import { SESSION_HEADER } from '../shared/http-frames.js';
import { Histogram, type LatencySummary } from './lib/histogram.js';
import { cpuSeconds, rssBytes } from './lib/proc.js';
import { freshDataDir, removeDataDir, sleep } from './lib/scenario.js';
import { ROOT, launch, type RunningServer } from './lib/servers.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string, fallback: number) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const ROUNDS = option('--rounds', quick ? 1 : 3);
const SECONDS = option('--seconds', quick ? 5 : 15);
const DOCUMENTS = 5;
const EDITS_PER_SECOND = 20;
const SESSIONS = quick ? 300 : 1000;

type Variant = 'websocket' | 'http';
const VARIANTS: readonly Variant[] = ['websocket', 'http'];

function socketClass(variant: Variant, server: RunningServer): typeof globalThis.WebSocket {
  if (variant === 'websocket') return WebSocket as unknown as typeof globalThis.WebSocket;
  const memory = memoryTransportMemory();
  memory.set(`127.0.0.1:${server.port}`, 'http');
  // WebSocket never retried during the run (it would work: the server is reached directly).
  return FallbackWebSocket.with({ WebSocket: WebSocket as never, memory, probeDelayMs: 1e9, maxProbeDelayMs: 1e9 }) as unknown as typeof globalThis.WebSocket;
}

const whenSynced = (p: WebsocketProvider) => new Promise<void>((resolve) => (p.synced ? resolve() : p.once('sync', () => resolve())));

interface LatencyResult {
  latency: LatencySummary | null;
  histogram: Histogram;
  edits: number;
  lost: number;
  serverCpuSeconds: number;
  /** CPU of this process (the clients) during the run. */
  clientCpuSeconds: number;
}

async function latencyRun(variant: Variant, round: number): Promise<LatencyResult> {
  const dataDir = freshDataDir(`fallback-${variant}-${round}`);
  const server = await launch({ kind: 'ours', dataDir, persist: true });
  const providers: WebsocketProvider[] = [];
  const docs: Y.Doc[] = [];
  try {
    const Socket = socketClass(variant, server);
    const histogram = new Histogram();
    const sentAt = new Map<string, number>();
    const writers: Y.Doc[] = [];
    for (let d = 0; d < DOCUMENTS; d++) {
      const writerDoc = new Y.Doc();
      const readerDoc = new Y.Doc();
      docs.push(writerDoc, readerDoc);
      for (const doc of [writerDoc, readerDoc]) {
        providers.push(new WebsocketProvider(`ws://127.0.0.1:${server.port}/sync`, `bench-${d}`, doc, { WebSocketPolyfill: Socket, disableBc: true }));
      }
      readerDoc.getText('body').observe((event) => {
        const now = performance.now();
        for (const op of event.changes.delta) {
          if (typeof op.insert !== 'string') continue;
          for (const match of op.insert.matchAll(/<(\d+)>/g)) {
            const started = sentAt.get(match[1]!);
            if (started === undefined) continue;
            sentAt.delete(match[1]!);
            histogram.record((now - started) * 1000);
          }
        }
      });
      writers.push(writerDoc);
    }
    await Promise.all(providers.map(whenSynced));
    await sleep(500);
    const cpuBefore = cpuSeconds(server.pid);
    const clientBefore = process.cpuUsage();
    let edits = 0;
    const deadline = performance.now() + SECONDS * 1000;
    // Every writer makes EDITS_PER_SECOND edits a second; the writers take turns, evenly spaced.
    const intervalMs = 1000 / (EDITS_PER_SECOND * DOCUMENTS);
    let next = performance.now();
    while (performance.now() < deadline) {
      const id = String(edits);
      sentAt.set(id, performance.now());
      writers[edits % DOCUMENTS]!.getText('body').insert(0, `<${id}>`);
      edits++;
      next += intervalMs;
      await sleep(Math.max(0, next - performance.now()));
    }
    for (let i = 0; i < 250 && sentAt.size > 0; i++) await sleep(20);
    const client = process.cpuUsage(clientBefore);
    return { latency: histogram.summary(), histogram, edits, lost: sentAt.size, serverCpuSeconds: cpuSeconds(server.pid) - cpuBefore, clientCpuSeconds: (client.user + client.system) / 1e6 };
  } finally {
    for (const p of providers) p.destroy();
    for (const doc of docs) doc.destroy();
    await server.stop();
    removeDataDir(dataDir);
  }
}

interface MemoryResult {
  kbEach: number;
  perGiB: number;
}

/** Opens SESSIONS idle clients of one kind and measures the server's memory for them. */
async function memoryRun(variant: Variant, round: number): Promise<MemoryResult> {
  const dataDir = freshDataDir(`fallback-memory-${variant}-${round}`);
  const server = await launch({ kind: 'ours', dataDir, persist: true });
  const sockets: WebSocket[] = [];
  const streams: AbortController[] = [];
  try {
    await sleep(500);
    const before = rssBytes(server.pid);
    const base = `http://127.0.0.1:${server.port}/sync`;
    for (let i = 0; i < SESSIONS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SESSIONS - i) }, async (_, j) => {
          const document = `idle-${(i + j) % (SESSIONS / 10)}`;
          if (variant === 'websocket') {
            const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sync/${document}`);
            sockets.push(ws);
            await new Promise<void>((resolve, reject) => {
              ws.once('message', () => resolve());
              ws.once('error', reject);
            });
            return;
          }
          // What an idle fallback client holds: a session with its stream open.
          const headers = { 'Content-Type': 'application/octet-stream', [SESSION_HEADER]: `bench-session-${round}-${i + j}-xxxxxxxx` };
          const abort = new AbortController();
          streams.push(abort);
          const response = await fetch(`${base}/${document}?op=stream`, { method: 'POST', headers, body: new Uint8Array([0, 1, 0]), signal: abort.signal });
          if (!response.ok || !response.body) throw new Error(`stream refused: ${response.status}`);
          const reader = response.body.getReader();
          await reader.read(); // the catch-up: the session is in its room
          void (async () => {
            try {
              for (;;) if ((await reader.read()).done) return;
            } catch {
              // aborted at the end
            }
          })();
        }),
      );
    }
    await sleep(2000);
    const after = rssBytes(server.pid);
    const bytesEach = (after - before) / SESSIONS;
    return { kbEach: bytesEach / 1024, perGiB: Math.floor(2 ** 30 / bytesEach) };
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const abort of streams) abort.abort();
    await server.stop();
    removeDataDir(dataDir);
  }
}

const fmt = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));

async function main(): Promise<void> {
  console.log(`fallback benchmark: ${ROUNDS} round(s) × ${SECONDS} s, ${DOCUMENTS} writers × ${EDITS_PER_SECOND} edits/s; ${SESSIONS} idle clients for memory`);
  const merged = { websocket: new Histogram(), http: new Histogram() };
  const rounds: Array<{ latency: Record<Variant, Omit<LatencyResult, 'histogram'>>; memory: Record<Variant, MemoryResult> }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
    const latency = {} as Record<Variant, Omit<LatencyResult, 'histogram'>>;
    const memory = {} as Record<Variant, MemoryResult>;
    for (const variant of order) {
      const { histogram, ...rest } = await latencyRun(variant, round);
      merged[variant].merge(histogram.toData());
      latency[variant] = rest;
    }
    for (const variant of order) memory[variant] = await memoryRun(variant, round);
    rounds.push({ latency, memory });
    console.log(
      `round ${round}: ` +
        VARIANTS.map((v) => `${v}: p50 ${fmt(latency[v].latency?.p50, 2)} ms, p99 ${fmt(latency[v].latency?.p99, 2)} ms, lost ${latency[v].lost}/${latency[v].edits}, CPU server ${fmt(latency[v].serverCpuSeconds, 2)} s, clients ${fmt(latency[v].clientCpuSeconds, 2)} s, ${fmt(memory[v].kbEach, 1)} KB per idle client (${memory[v].perGiB} per GiB)`).join('; '),
    );
  }
  const ws = merged.websocket.summary();
  const http = merged.http.summary();
  const mean = (v: Variant) => rounds.reduce((sum, r) => sum + r.memory[v].kbEach, 0) / rounds.length;
  const summary = {
    websocket: ws,
    http,
    p50Ratio: ws && http ? http.p50 / ws.p50 : null,
    p99Ratio: ws && http ? http.p99 / ws.p99 : null,
    kbPerIdleClient: { websocket: mean('websocket'), http: mean('http') },
    perGiB: { websocket: Math.floor(2 ** 20 / mean('websocket')), http: Math.floor(2 ** 20 / mean('http')) },
  };
  console.log(
    `all rounds: WebSocket p50 ${fmt(ws?.p50, 2)} ms, p99 ${fmt(ws?.p99, 2)} ms; HTTP fallback p50 ${fmt(http?.p50, 2)} ms (${fmt(summary.p50Ratio, 2)}×), p99 ${fmt(http?.p99, 2)} ms (${fmt(summary.p99Ratio, 2)}×); ` +
      `idle: WebSocket ${fmt(summary.kbPerIdleClient.websocket, 1)} KB (${summary.perGiB.websocket} per GiB), HTTP fallback ${fmt(summary.kbPerIdleClient.http, 1)} KB (${summary.perGiB.http} per GiB)`,
  );
  if (quick) return;
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
  const base = path.join(ROOT, 'bench/results', `fallback-${stamp}`);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  fs.writeFileSync(`${base}.json`, JSON.stringify({ machine, rounds, summary, settings: { ROUNDS, SECONDS, DOCUMENTS, EDITS_PER_SECOND, SESSIONS } }, null, 2));
  const lines = [
    `# HTTP fallback against WebSocket (${stamp})`,
    '',
    `${machine}. ${DOCUMENTS} documents, one writer and one reader each, ${EDITS_PER_SECOND} edits/s per writer, ${SECONDS} s per run, ${ROUNDS} rounds, order alternated, a fresh server each. Latency: from an edit on the writer to its arrival at the reader, both on the same transport. Memory: ${SESSIONS} idle clients (10 per document), server RSS after minus before.`,
    '',
    `Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} (${os.cpus().length} cores). "edits" is how many the writers made of the ${EDITS_PER_SECOND * DOCUMENTS * SECONDS} asked: fewer means the client process could not keep up.`,
    '',
    '| Round | WebSocket p50 / p99 | HTTP p50 / p99 | p99 HTTP ÷ WS | edits, lost (WS / HTTP) | server CPU s (WS / HTTP) | client CPU s (WS / HTTP) | KB per idle client (WS / HTTP) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rounds.map(
      (r, i) =>
        `| ${i + 1} | ${fmt(r.latency.websocket.latency?.p50, 2)} / ${fmt(r.latency.websocket.latency?.p99, 2)} ms | ${fmt(r.latency.http.latency?.p50, 2)} / ${fmt(r.latency.http.latency?.p99, 2)} ms | ${fmt((r.latency.http.latency?.p99 ?? NaN) / (r.latency.websocket.latency?.p99 ?? NaN), 2)}× | ${r.latency.websocket.edits}, ${r.latency.websocket.lost} / ${r.latency.http.edits}, ${r.latency.http.lost} | ${fmt(r.latency.websocket.serverCpuSeconds, 2)} / ${fmt(r.latency.http.serverCpuSeconds, 2)} | ${fmt(r.latency.websocket.clientCpuSeconds, 2)} / ${fmt(r.latency.http.clientCpuSeconds, 2)} | ${fmt(r.memory.websocket.kbEach, 1)} / ${fmt(r.memory.http.kbEach, 1)} |`,
    ),
    `| all | ${fmt(ws?.p50, 2)} / ${fmt(ws?.p99, 2)} ms | ${fmt(http?.p50, 2)} / ${fmt(http?.p99, 2)} ms | ${fmt(summary.p99Ratio, 2)}× | | | | ${fmt(summary.kbPerIdleClient.websocket, 1)} / ${fmt(summary.kbPerIdleClient.http, 1)} (${summary.perGiB.websocket} / ${summary.perGiB.http} per GiB) |`,
    '',
  ];
  fs.writeFileSync(`${base}.md`, lines.join('\n'));
  console.log(`wrote ${path.relative(ROOT, base)}.md`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
