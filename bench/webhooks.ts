/**
 * Webhooks off the sync path: edit latency (an edit made by one client until another client of
 * the document has it) with no webhook endpoint, against the same load while every event goes to
 * six endpoints that take 10 s to answer, at the default debounce (`slow`) and at about 100 events
 * a second (`stress`). All run in the same rounds, rotated, each on a fresh server process; ratios
 * are to the no-endpoint run.
 *
 *   npm run bench:webhooks [-- --quick] [-- --rounds N] [-- --seconds N]
 *
 * Writes bench/results/webhooks-<date>.json and .md (not with --quick).
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { Histogram, type LatencySummary } from './lib/histogram.js';
import { cpuSeconds } from './lib/proc.js';
import { freshDataDir, removeDataDir, sleep } from './lib/scenario.js';
import { ROOT, launch, type RunningServer } from './lib/servers.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string, fallback: number) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const ROUNDS = option('--rounds', quick ? 1 : 3);
const SECONDS = option('--seconds', quick ? 4 : 15);
const DOCUMENTS = 20;
/** Edits per second per document (one writer each); a reader per document measures. */
const EDITS_PER_SECOND = 20;
const RECEIVER_DELAY_MS = 10_000;
/** Endpoints besides WEBHOOK_URL, all to the slow receiver: 6 × 4 attempts in flight hold every delivery slot. */
const EXTRA_ENDPOINTS = 5;
const SECRET = 'whsec_' + Buffer.alloc(32, 1).toString('base64');

/**
 * none: no endpoint; slow: the default debounce (2 s, at most 10 s) to endpoints that answer in
 * 10 s; stress: every document's changes told every 50-200 ms, 100 events/s, same endpoints.
 */
type Variant = 'none' | 'slow' | 'stress';
const VARIANTS: readonly Variant[] = ['none', 'slow', 'stress'];

/** An HTTP receiver that answers every request after RECEIVER_DELAY_MS (or never, if the server gives up first). */
async function slowReceiver(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    requests++;
    request.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      response.writeHead(204).end();
    }, RECEIVER_DELAY_MS);
    timers.add(timer);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests: () => requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function provider(server: RunningServer, document: string, doc: Y.Doc, name: string): WebsocketProvider {
  const p = new WebsocketProvider(`ws://127.0.0.1:${server.port}/sync`, document, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  p.awareness.setLocalStateField('user', { name });
  return p;
}

const whenSynced = (p: WebsocketProvider) => new Promise<void>((resolve) => (p.synced ? resolve() : p.once('sync', () => resolve())));

/** The sum of a metric's samples (all labels). */
async function metricSum(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

interface RoundResult {
  latency: LatencySummary | null;
  histogram: Histogram;
  edits: number;
  serverCpuSeconds: number;
  /** Events enqueued during the run (each to every endpoint that wants it). */
  events: number;
  receiverRequests: number;
}

async function runVariant(variant: Variant, round: number): Promise<RoundResult> {
  const receiver = variant === 'none' ? null : await slowReceiver();
  const dataDir = freshDataDir(`webhooks-${variant}-${round}`);
  const server = await launch({
    kind: 'ours',
    dataDir,
    persist: true,
    env: receiver
      ? {
          WEBHOOK_URL: receiver.url,
          WEBHOOK_SECRET: SECRET,
          WEBHOOK_EVENTS: '*',
          WEBHOOK_ALLOW_PRIVATE: '1',
          ...(variant === 'stress' && { WEBHOOK_DEBOUNCE_MS: '50', WEBHOOK_MAX_WAIT_MS: '200' }),
        }
      : {},
  });
  const providers: WebsocketProvider[] = [];
  const docs: Y.Doc[] = [];
  try {
    if (receiver) {
      for (let i = 0; i < EXTRA_ENDPOINTS; i++) {
        const response = await fetch(`http://127.0.0.1:${server.port}/api/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: `${receiver.url}/${i}`, secret: SECRET, events: ['document.updated', 'user.joined', 'user.left'] }),
        });
        if (response.status !== 201) throw new Error(`adding an endpoint failed: ${response.status} ${await response.text()}`);
      }
    }
    const histogram = new Histogram();
    const sentAt = new Map<string, number>();
    const writers: Y.Doc[] = [];
    for (let d = 0; d < DOCUMENTS; d++) {
      const document = `bench-${d}`;
      const writerDoc = new Y.Doc();
      const readerDoc = new Y.Doc();
      docs.push(writerDoc, readerDoc);
      providers.push(provider(server, document, writerDoc, `writer ${d}`), provider(server, document, readerDoc, `reader ${d}`));
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
    const cpuBefore = cpuSeconds(server.pid);
    let next = 0;
    let edits = 0;
    const deadline = performance.now() + SECONDS * 1000;
    // Every document gets EDITS_PER_SECOND edits a second, spread evenly over the interval.
    const intervalMs = 1000 / (EDITS_PER_SECOND * DOCUMENTS);
    while (performance.now() < deadline) {
      const id = String(next++);
      const writer = writers[edits % DOCUMENTS]!;
      sentAt.set(id, performance.now());
      writer.getText('body').insert(0, `<${id}>`);
      edits++;
      await sleep(intervalMs);
    }
    // Let the last edits arrive (bounded).
    for (let i = 0; i < 100 && sentAt.size > 0; i++) await sleep(20);
    const serverCpuSeconds = cpuSeconds(server.pid) - cpuBefore;
    const events = await metricSum(server, 'collab_webhook_events_total');
    return { latency: histogram.summary(), histogram, edits, serverCpuSeconds, events, receiverRequests: receiver?.requests() ?? 0 };
  } finally {
    for (const p of providers) p.destroy();
    for (const doc of docs) doc.destroy();
    await server.stop();
    await receiver?.close();
    removeDataDir(dataDir);
  }
}

const fmt = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));

async function main(): Promise<void> {
  console.log(`webhooks benchmark: ${ROUNDS} round(s) × ${SECONDS} s, ${DOCUMENTS} documents × ${EDITS_PER_SECOND} edits/s, receiver answers after ${RECEIVER_DELAY_MS / 1000} s`);
  const merged = Object.fromEntries(VARIANTS.map((v) => [v, new Histogram()])) as Record<Variant, Histogram>;
  const rounds: Array<Record<Variant, Omit<RoundResult, 'histogram'>>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotate which goes first, so that none always runs on a warmer machine.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length]!);
    const results = {} as Record<Variant, Omit<RoundResult, 'histogram'>>;
    for (const variant of order) {
      const { histogram, ...rest } = await runVariant(variant, round);
      merged[variant].merge(histogram.toData());
      results[variant] = rest;
    }
    rounds.push(results);
    const none = results.none.latency;
    console.log(
      `round ${round}: ` +
        VARIANTS.map((v) => {
          const r = results[v];
          const ratio = v === 'none' ? '' : ` (${fmt((r.latency?.p99 ?? NaN) / (none?.p99 ?? NaN), 2)}×)`;
          return `${v}: p50 ${fmt(r.latency?.p50, 2)} ms, p99 ${fmt(r.latency?.p99, 2)} ms${ratio}, CPU ${fmt(r.serverCpuSeconds, 2)} s, ${r.events} events, ${r.receiverRequests} requests`;
        }).join('; '),
    );
  }
  const summaries = Object.fromEntries(VARIANTS.map((v) => [v, merged[v].summary()])) as Record<Variant, LatencySummary | null>;
  const ratio = (v: Variant, q: 'p50' | 'p99') => (summaries[v] && summaries.none ? summaries[v]![q] / summaries.none[q] : null);
  const summary = { ...summaries, p99Ratio: { slow: ratio('slow', 'p99'), stress: ratio('stress', 'p99') }, p50Ratio: { slow: ratio('slow', 'p50'), stress: ratio('stress', 'p50') } };
  console.log(
    `all rounds: p99 none ${fmt(summaries.none?.p99, 2)} ms, slow ${fmt(summaries.slow?.p99, 2)} ms (${fmt(summary.p99Ratio.slow, 2)}×), stress ${fmt(summaries.stress?.p99, 2)} ms (${fmt(summary.p99Ratio.stress, 2)}×); ` +
      `p50 ${fmt(summaries.none?.p50, 2)} / ${fmt(summaries.slow?.p50, 2)} (${fmt(summary.p50Ratio.slow, 2)}×) / ${fmt(summaries.stress?.p50, 2)} ms (${fmt(summary.p50Ratio.stress, 2)}×)`,
  );
  if (quick) return;
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
  const base = path.join(ROOT, 'bench/results', `webhooks-${stamp}`);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  fs.writeFileSync(`${base}.json`, JSON.stringify({ machine, rounds, summary, settings: { ROUNDS, SECONDS, DOCUMENTS, EDITS_PER_SECOND, RECEIVER_DELAY_MS, EXTRA_ENDPOINTS } }, null, 2));
  const row = (label: string, r: Partial<Record<Variant, { latency: LatencySummary | null; serverCpuSeconds?: number; events?: number }>>) =>
    `| ${label} | ${VARIANTS.map((v) => `${fmt(r[v]?.latency?.p50, 2)} / ${fmt(r[v]?.latency?.p99, 2)} ms`).join(' | ')} | ${(['slow', 'stress'] as const).map((v) => `${fmt((r[v]?.latency?.p99 ?? NaN) / (r.none?.latency?.p99 ?? NaN), 2)}×`).join(' | ')} | ${VARIANTS.map((v) => fmt(r[v]?.serverCpuSeconds, 2)).join(' / ')} | ${(['slow', 'stress'] as const).map((v) => r[v]?.events ?? '').join(' / ')} |`;
  const lines = [
    `# Webhooks: edit latency with a slow receiver (${stamp})`,
    '',
    `${machine}. ${DOCUMENTS} documents, one writer and one reader each (stock y-websocket providers), ${EDITS_PER_SECOND} edits/s per document, ${SECONDS} s per run, ${ROUNDS} rounds, variants rotated. Latency: from an edit on the writer to its arrival at the reader.`,
    `none: no webhook endpoint. slow: every event type, default debounce (2 s, at most 10 s), to ${EXTRA_ENDPOINTS + 1} endpoints of a receiver that answers after ${RECEIVER_DELAY_MS / 1000} s. stress: the same with debounce 50 ms / max wait 200 ms (about 100 events a second).`,
    '',
    '| Round | none p50 / p99 | slow p50 / p99 | stress p50 / p99 | p99 slow ÷ none | p99 stress ÷ none | server CPU s (none / slow / stress) | events (slow / stress) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rounds.map((r, i) => row(String(i + 1), r)),
    row('all', Object.fromEntries(VARIANTS.map((v) => [v, { latency: summaries[v] }]))),
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
