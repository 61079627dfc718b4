/**
 * `npm run bench:compression`: what permessage-deflate (WS_COMPRESSION=on) buys and costs, against
 * the same server with WS_COMPRESSION=off, in the same run, rounds interleaved:
 *
 *   - cold load: a client that has nothing loads the automerge-paper document (259,778 edits,
 *     104,852 characters, 245 KB of Yjs state) through a loopback proxy limited to 2 Mbit/s and to
 *     20 Mbit/s each way: bytes on the wire (both directions, WebSocket framing included) and the
 *     time until the client holds the whole text;
 *   - CPU per edit: one writer types single characters (100/s) to 20 readers of one document;
 *     server CPU seconds (user + system, /proc) divided by the edits;
 *   - memory per idle connection: IDLE_CONNECTIONS clients open a 20 KB document and stay idle;
 *     the server's RSS growth (after full GCs) divided by the connections.
 *
 * Clients are stock WebsocketProviders on Node's `ws`, offering permessage-deflate as browsers do
 * (client_max_window_bits, compressing every frame they send: threshold 0).
 * Also prints, for the document's state, the ratio deflate reaches per window size and memLevel,
 * with the memory zlib needs for each (the reasoning behind server/http/ws-compression.ts).
 *
 * Writes bench/results/compression-<date>.json and .md (not with --quick).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { readUpdates, traceFixture } from './lib/fixtures.js';
import { cpuSeconds } from './lib/proc.js';
import { ROOT, launch, type RunningServer } from './lib/servers.js';
import { freshDataDir, removeDataDir, round2, sleep } from './lib/scenario.js';
import { startThrottledProxy } from './lib/throttled-proxy.js';
import { IDLE_STREAM_SWEEP_MS } from '../server/http/ws-compression.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 1 : 3;
const LOADS_PER_ROUND = QUICK ? 1 : 3;
const LINKS = [
  { label: '2 Mbit/s', bytesPerSecond: 250_000 },
  { label: '20 Mbit/s', bytesPerSecond: 2_500_000 },
] as const;
const TYPED_EDITS = QUICK ? 300 : 1_000;
const EDITS_PER_SECOND = 100;
const READERS = 20;
const IDLE_CONNECTIONS = QUICK ? 100 : 500;
const IDLE_DOCUMENT_CHARACTERS = 20_000;
/** Idle-memory servers report their memory after full GCs on SIGUSR2. */
const GC_ARGS = ['--expose-gc', '--import', path.join(ROOT, 'dist/bench/lib/memory-report.js')];

type Variant = 'on' | 'off';
const VARIANTS: readonly Variant[] = ['on', 'off'];

/** `ws` as a browser behaves: offers permessage-deflate with client_max_window_bits, compresses every frame it sends. */
class BrowserLikeWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: { threshold: 0 } });
  }
}

function provider(baseUrl: string, document: string, doc = new Y.Doc()) {
  const p = new WebsocketProvider(baseUrl, document, doc, { WebSocketPolyfill: BrowserLikeWebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
  return { doc, provider: p, destroy: () => (p.destroy(), doc.destroy()) };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface MemoryReport {
  heapUsed: number;
  external: number;
  rss: number;
}

/** Full GCs in the server (it runs with memory-report.js), then its heap, external memory and RSS. */
async function memoryReport(server: RunningServer, runs: { count: number }): Promise<MemoryReport> {
  runs.count++;
  process.kill(server.pid, 'SIGUSR2');
  const marker = `{"memoryReport":${runs.count},`;
  await until(() => server.output().includes(marker), 'the server to report its memory', 20_000);
  const line = server.output().split('\n').find((l) => l.startsWith(marker))!;
  return JSON.parse(line) as MemoryReport;
}

/** A document's state written through a client; resolves once another client reads all of it back. */
async function populate(server: RunningServer, document: string, fill: (doc: Y.Doc) => void): Promise<number> {
  const writer = provider(`ws://127.0.0.1:${server.port}/sync`, document);
  fill(writer.doc);
  const length = writer.doc.getText('t').length;
  const check = provider(`ws://127.0.0.1:${server.port}/sync`, document);
  await until(() => check.doc.getText('t').length === length, `${document} to be stored`);
  writer.destroy();
  check.destroy();
  return length;
}

interface ColdLoad {
  ms: number;
  wireBytes: number;
}

async function coldLoad(server: RunningServer, bytesPerSecond: number, length: number): Promise<ColdLoad> {
  const proxy = await startThrottledProxy(server.port, bytesPerSecond);
  try {
    const started = performance.now();
    const client = provider(`ws://127.0.0.1:${proxy.port}/sync`, 'paper');
    await until(() => client.doc.getText('t').length === length, 'the cold load');
    const ms = performance.now() - started;
    const wireBytes = proxy.upstreamBytes + proxy.downstreamBytes;
    client.destroy();
    return { ms, wireBytes };
  } finally {
    await proxy.close();
  }
}

async function typing(server: RunningServer, document: string): Promise<number> {
  const url = `ws://127.0.0.1:${server.port}/sync`;
  const writer = provider(url, document);
  const readers = Array.from({ length: READERS }, () => provider(url, document));
  try {
    await until(() => [writer, ...readers].every((c) => c.provider.synced), 'the typing clients to sync');
    await sleep(500);
    const before = cpuSeconds(server.pid);
    const text = writer.doc.getText('t');
    const started = performance.now();
    for (let i = 0; i < TYPED_EDITS; i++) {
      text.insert(text.length, 'abcdefghij'[i % 10]!);
      const due = started + ((i + 1) * 1000) / EDITS_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await until(() => readers.every((r) => r.doc.getText('t').length === TYPED_EDITS), 'every reader to receive every edit');
    return ((cpuSeconds(server.pid) - before) * 1000) / TYPED_EDITS;
  } finally {
    for (const client of [writer, ...readers]) client.destroy();
  }
}

/**
 * On a server of its own, started for this measurement: a process that has served cold loads and
 * typing keeps heap pages it freed, which would hide the growth.
 */
interface ConnectionMemory {
  /** Growth per connection just after the connections loaded the document: V8 heap + external (zlib, Buffers). */
  loaded: number;
  /** The same once the connections have been idle (awareness renewals only) for a while. */
  idle: number;
  /** RSS growth per connection at the same moments (noisier: pages freed are not always returned). */
  loadedRss: number;
  idleRss: number;
}

async function idleMemory(variant: Variant, idleText: string): Promise<ConnectionMemory> {
  const dataDir = freshDataDir(`compression-idle-${variant}`);
  const server = await launch({ kind: 'ours', dataDir, persist: true, env: { WS_COMPRESSION: variant, ROOM_IDLE_MS: '600000' }, nodeArgs: GC_ARGS });
  const runs = { count: 0 };
  const retained = (report: MemoryReport) => report.heapUsed + report.external;
  try {
    const url = `ws://127.0.0.1:${server.port}/sync`;
    await populate(server, 'idle', (doc) => doc.getText('t').insert(0, idleText));
    // The room stays loaded by one client, so that only connections are counted.
    const holder = provider(url, 'idle');
    await until(() => holder.doc.getText('t').length === idleText.length, 'the idle document to load');
    await sleep(3_000);
    await memoryReport(server, runs);
    const before = await memoryReport(server, runs);
    const clients: Array<ReturnType<typeof provider>> = [];
    for (let i = 0; i < IDLE_CONNECTIONS; i += 50) {
      const batch = Array.from({ length: Math.min(50, IDLE_CONNECTIONS - i) }, () => provider(url, 'idle'));
      clients.push(...batch);
      await until(() => batch.every((c) => c.doc.getText('t').length === idleText.length), 'a batch of idle clients to load');
    }
    await sleep(1_000);
    const loaded = await memoryReport(server, runs);
    // Long enough for two sweeps of idle compression streams (server/http/ws-compression.ts) and
    // for every client to renew its awareness state once (every 15 s): idle as a browser tab is.
    await sleep(Math.max(2 * IDLE_STREAM_SWEEP_MS, 15_000) + 5_000);
    const idle = await memoryReport(server, runs);
    for (const client of clients) client.destroy();
    holder.destroy();
    return {
      loaded: (retained(loaded) - retained(before)) / IDLE_CONNECTIONS,
      idle: (retained(idle) - retained(before)) / IDLE_CONNECTIONS,
      loadedRss: (loaded.rss - before.rss) / IDLE_CONNECTIONS,
      idleRss: (idle.rss - before.rss) / IDLE_CONNECTIONS,
    };
  } finally {
    await server.stop();
    removeDataDir(dataDir);
  }
}

/** Deflate of the document's state per window and memLevel, with zlib's memory for each (deflate: 2^(w+2) + 2^(m+9)). */
function deflateTable(state: Uint8Array) {
  const rows: Array<{ windowBits: number; memLevel: number; bytes: number; ratio: number; deflateKB: number; inflateKB: number; ms: number }> = [];
  for (const windowBits of [9, 10, 11, 12, 13, 15]) {
    for (const memLevel of [4, 8]) {
      const started = performance.now();
      const bytes = zlib.deflateRawSync(state, { windowBits, memLevel, level: 6 }).byteLength;
      rows.push({
        windowBits,
        memLevel,
        bytes,
        ratio: round2(state.byteLength / bytes),
        deflateKB: round2((2 ** (windowBits + 2) + 2 ** (memLevel + 9)) / 1024, 1),
        inflateKB: round2(2 ** windowBits / 1024 + 7, 1),
        ms: round2(performance.now() - started),
      });
    }
  }
  return rows;
}

interface RoundResult {
  cold: Record<string, ColdLoad>;
  cpuPerEditMs: number;
  memory: ConnectionMemory;
}

async function main(): Promise<void> {
  // y-websocket adds a process 'exit' listener per provider; hundreds are expected here.
  process.setMaxListeners(0);
  const fixture = traceFixture();
  const paper = new Y.Doc();
  for (const update of readUpdates(fixture.updatesFile)) Y.applyUpdate(paper, update);
  const paperState = Y.encodeStateAsUpdate(paper);
  const idleText = fs.readFileSync(fixture.textFile, 'utf8').slice(0, IDLE_DOCUMENT_CHARACTERS);
  console.log(`automerge-paper: ${fixture.textLength} characters, ${paperState.byteLength} bytes of Yjs state`);

  const servers = {} as Record<Variant, RunningServer>;
  const dataDirs: string[] = [];
  let paperLength = 0;
  for (const variant of VARIANTS) {
    const dataDir = freshDataDir(`compression-${variant}`);
    dataDirs.push(dataDir);
    servers[variant] = await launch({ kind: 'ours', dataDir, persist: true, env: { WS_COMPRESSION: variant, ROOM_IDLE_MS: '600000' } });
    paperLength = await populate(servers[variant], 'paper', (doc) => Y.applyUpdate(doc, paperState));
  }

  const rounds: Array<Record<Variant, RoundResult>> = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      const results = {} as Record<Variant, RoundResult>;
      for (const variant of order) {
        const server = servers[variant];
        const cold: Record<string, ColdLoad> = {};
        for (const link of LINKS) {
          const loads: ColdLoad[] = [];
          for (let i = 0; i < LOADS_PER_ROUND; i++) loads.push(await coldLoad(server, link.bytesPerSecond, paperLength));
          cold[link.label] = { ms: median(loads.map((l) => l.ms)), wireBytes: median(loads.map((l) => l.wireBytes)) };
        }
        const cpuPerEditMs = await typing(server, `typing-${round}`);
        const memory = await idleMemory(variant, idleText);
        results[variant] = { cold, cpuPerEditMs, memory };
        console.log(
          `round ${round + 1} ${variant}: ` +
            LINKS.map((l) => `${l.label} ${Math.round(cold[l.label]!.ms)} ms ${Math.round(cold[l.label]!.wireBytes / 1024)} KB`).join(', ') +
            `; CPU/edit ${cpuPerEditMs.toFixed(3)} ms; per connection ${kb(memory.loaded)} KB loaded, ${kb(memory.idle)} KB idle (RSS ${kb(memory.loadedRss)} / ${kb(memory.idleRss)} KB)`,
        );
      }
      rounds.push(results);
    }
  } finally {
    for (const variant of VARIANTS) await servers[variant]?.stop();
    for (const dir of dataDirs) removeDataDir(dir);
  }

  const summary = {} as Record<Variant, RoundResult>;
  for (const variant of VARIANTS) {
    const cold: Record<string, ColdLoad> = {};
    for (const link of LINKS) {
      cold[link.label] = {
        ms: median(rounds.map((r) => r[variant].cold[link.label]!.ms)),
        wireBytes: median(rounds.map((r) => r[variant].cold[link.label]!.wireBytes)),
      };
    }
    summary[variant] = {
      cold,
      cpuPerEditMs: median(rounds.map((r) => r[variant].cpuPerEditMs)),
      memory: {
        loaded: median(rounds.map((r) => r[variant].memory.loaded)),
        idle: median(rounds.map((r) => r[variant].memory.idle)),
        loadedRss: median(rounds.map((r) => r[variant].memory.loadedRss)),
        idleRss: median(rounds.map((r) => r[variant].memory.idleRss)),
      },
    };
  }
  const ratio = (on: number, off: number) => `${round2(on / off)}×`;
  const table = [
    '| Measure | WS_COMPRESSION=on | off | on ÷ off |',
    '| --- | --- | --- | --- |',
    ...LINKS.flatMap((link) => {
      const on = summary.on.cold[link.label]!;
      const off = summary.off.cold[link.label]!;
      return [
        `| Cold load at ${link.label}: bytes on the wire | ${Math.round(on.wireBytes / 1024)} KB | ${Math.round(off.wireBytes / 1024)} KB | ${ratio(on.wireBytes, off.wireBytes)} |`,
        `| Cold load at ${link.label}: time to the full text | ${Math.round(on.ms)} ms | ${Math.round(off.ms)} ms | ${ratio(on.ms, off.ms)} |`,
      ];
    }),
    `| Server CPU per edit (1 writer, ${READERS} readers) | ${summary.on.cpuPerEditMs.toFixed(3)} ms | ${summary.off.cpuPerEditMs.toFixed(3)} ms | ${ratio(summary.on.cpuPerEditMs, summary.off.cpuPerEditMs)} |`,
    `| Memory per connection just after loading (${IDLE_CONNECTIONS} on a 20 KB document; heap + external) | ${kb(summary.on.memory.loaded)} KB | ${kb(summary.off.memory.loaded)} KB | ${ratio(summary.on.memory.loaded, summary.off.memory.loaded)} |`,
    `| Memory per idle connection (the same ${Math.round((Math.max(2 * IDLE_STREAM_SWEEP_MS, 15_000) + 5_000) / 1000)} s later; heap + external) | ${kb(summary.on.memory.idle)} KB | ${kb(summary.off.memory.idle)} KB | ${ratio(summary.on.memory.idle, summary.off.memory.idle)} |`,
    `| RSS growth per connection, loaded / idle | ${kb(summary.on.memory.loadedRss)} / ${kb(summary.on.memory.idleRss)} KB | ${kb(summary.off.memory.loadedRss)} / ${kb(summary.off.memory.idleRss)} KB | |`,
  ];
  const deflate = deflateTable(paperState);
  const deflateLines = [
    '| windowBits | memLevel | compressed | ratio | zlib memory, deflate / inflate | time |',
    '| --- | --- | --- | --- | --- | --- |',
    ...deflate.map((r) => `| ${r.windowBits} | ${r.memLevel} | ${Math.round(r.bytes / 1024)} KB | ${r.ratio} | ${r.deflateKB} / ${r.inflateKB} KB | ${r.ms} ms |`),
  ];
  console.log(['', ...table, '', `Deflate of the automerge-paper state (${paperState.byteLength} bytes), level 6:`, '', ...deflateLines].join('\n'));

  if (QUICK) return;
  const stamp = new Date().toISOString().slice(0, 16).replace(/[T:]/g, '-');
  const base = path.join(ROOT, 'bench/results', `compression-${stamp}`);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  fs.writeFileSync(`${base}.json`, JSON.stringify({ machine, rounds, summary, deflate, settings: { ROUNDS, LOADS_PER_ROUND, LINKS, TYPED_EDITS, EDITS_PER_SECOND, READERS, IDLE_CONNECTIONS, IDLE_DOCUMENT_CHARACTERS } }, null, 2));
  const lines = [
    `# WebSocket compression: permessage-deflate on and off (${stamp})`,
    '',
    `${machine}. ${ROUNDS} rounds, the two servers interleaved, medians. Clients: stock y-websocket providers on Node's \`ws\`, offering permessage-deflate as browsers do (compressing every frame they send).`,
    `Cold load: the automerge-paper document (${fixture.textLength} characters, ${paperState.byteLength} bytes of Yjs state), loaded by a client that has nothing, through a loopback proxy limiting each direction (median of ${LOADS_PER_ROUND} loads per round; the server has the document in memory). CPU: ${TYPED_EDITS} single-character edits at ${EDITS_PER_SECOND}/s from one writer to ${READERS} readers. Memory: on a server started for it, growth per connection of V8 heap + external memory (JS objects and Buffers) after full GCs, and of RSS (which also holds zlib's native memory, and what the allocator keeps of memory freed), just after the connections loaded and again after 20 s of idleness (awareness renewals only).`,
    '',
    ...table,
    '',
    `Deflate of the automerge-paper state, level 6, by window size and memLevel; zlib's memory per stream:`,
    '',
    ...deflateLines,
    '',
  ];
  fs.writeFileSync(`${base}.md`, lines.join('\n'));
  console.log(`\nwrote ${path.relative(ROOT, base)}.md`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
