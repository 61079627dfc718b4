/**
 * Cross-instance benchmark: latency and throughput of edits relayed between clients, with every
 * client on one instance, against clients spread over two instances that share PostgreSQL and
 * relay through Redis. PostgreSQL (fsync on, its defaults) and Redis are throwaway local servers.
 *
 *   npm run bench:cluster [-- --quick] [-- --seconds N] [-- --window N]
 *
 * Writes bench/cluster/results.json and bench/cluster/results.md (not with --quick).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../../tests/helpers/services.js';
import { Histogram, type LatencySummary } from '../lib/histogram.js';
import { cpuSeconds } from '../lib/proc.js';
import { ROOT, launch, type RunningServer } from '../lib/servers.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const secondsArg = args.indexOf('--seconds');
const THROUGHPUT_SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : quick ? 4 : 15;
const LATENCY_SAMPLES = quick ? 100 : 400;
const LATENCY_INTERVAL_MS = 20;
const DOCUMENTS = 8;
const WRITERS_PER_DOCUMENT = 2;
/** Updates a writer may have in flight (sent, not yet seen by its reader on the other instance). */
const windowArg = args.indexOf('--window');
const WINDOW = windowArg >= 0 ? Number(args[windowArg + 1]) : 32;
const WARMUP_MS = quick ? 1_000 : 3_000;

interface Setup {
  label: string;
  instances: number;
  storage: 'sqlite' | 'postgres';
  redis: boolean;
}

const SETUPS: Setup[] = [
  { label: 'one instance, SQLite (reference)', instances: 1, storage: 'sqlite', redis: false },
  { label: 'one instance, PostgreSQL', instances: 1, storage: 'postgres', redis: false },
  { label: 'two instances, PostgreSQL + Redis', instances: 2, storage: 'postgres', redis: true },
];

// ---------------------------------------------------------------------------------------------
// Minimal y-websocket clients on `ws`: a writer sends updates, a reader decodes what it receives.

const SYNC = 0;
const UPDATE = 2;
const STEP2 = 1;

function updateFrame(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, SYNC);
  encoding.writeVarUint(encoder, UPDATE);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** Tokens `w<writer>.<n>;` inserted by the writers, found in an update frame from the server. */
function tokensOf(frame: Uint8Array): string[] {
  const decoder = decoding.createDecoder(frame);
  if (decoding.readVarUint(decoder) !== SYNC) return [];
  const type = decoding.readVarUint(decoder);
  if (type !== UPDATE && type !== STEP2) return [];
  const update = decoding.readVarUint8Array(decoder);
  const found: string[] = [];
  for (const struct of Y.decodeUpdate(update).structs) {
    const content = (struct as { content?: { str?: string } }).content;
    if (content?.str) found.push(...(content.str.match(/w\d+\.\d+;/g) ?? []));
  }
  return found;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

class Writer {
  private readonly doc = new Y.Doc();
  private n = 0;
  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
  ) {}

  /** Appends a token to the document and sends the update; returns the token. */
  send(): string {
    const token = `w${this.id}.${this.n++};`;
    let update: Uint8Array | null = null;
    this.doc.once('update', (u: Uint8Array) => (update = u));
    const text = this.doc.getText('t');
    text.insert(text.length, token);
    this.ws.send(updateFrame(update!));
    return token;
  }

  close(): void {
    this.ws.close();
    this.doc.destroy();
  }
}

function reader(ws: WebSocket, onToken: (token: string, at: number) => void): void {
  ws.on('message', (data: Buffer) => {
    const at = performance.now();
    for (const token of tokensOf(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))) onToken(token, at);
  });
}

// ---------------------------------------------------------------------------------------------

interface Deployment {
  servers: RunningServer[];
  stop(): Promise<void>;
}

async function deploy(setup: Setup, postgres: PostgresService | null, redis: RedisService | null, dataRoot: string): Promise<Deployment> {
  const database = setup.storage === 'postgres' ? await postgres!.createDatabase(`bench_${setup.instances}_${Date.now() % 1e6}`) : null;
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    // The benchmark measures the relay, not the per-connection abuse limits.
    MAX_MESSAGES_PER_SECOND: '0',
    MAX_BYTES_PER_SECOND: '0',
    ...(database && { DATABASE_URL: database }),
    ...(setup.redis && redis && { REDIS_URL: redis.url }),
  };
  const servers: RunningServer[] = [];
  for (let i = 0; i < setup.instances; i++) {
    servers.push(await launch({ kind: 'ours', dataDir: path.join(dataRoot, `${setup.storage}-${setup.instances}-${i}`), persist: true, env }));
  }
  return { servers, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}

interface LatencyResult {
  latency: LatencySummary | null;
}

/** One writer on the first instance, one reader on the last: edits at a steady, modest rate. */
async function measureLatency(deployment: Deployment): Promise<LatencyResult> {
  const { servers } = deployment;
  const name = 'latency';
  const writer = new Writer(0, await open(servers[0]!.url(name)));
  const readerWs = await open(servers[servers.length - 1]!.url(name));
  const sentAt = new Map<string, number>();
  const histogram = new Histogram();
  let received = 0;
  reader(readerWs, (token, at) => {
    const sent = sentAt.get(token);
    if (sent === undefined) return;
    sentAt.delete(token);
    received++;
    if (received > 20) histogram.record((at - sent) * 1000);
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < LATENCY_SAMPLES + 20; i++) {
    sentAt.set(writer.send(), performance.now());
    await new Promise((resolve) => setTimeout(resolve, LATENCY_INTERVAL_MS));
  }
  const deadline = performance.now() + 5_000;
  while (sentAt.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  writer.close();
  readerWs.close();
  return { latency: histogram.summary() };
}

interface ThroughputResult {
  updatesPerSecond: number;
  latency: LatencySummary | null;
  /** CPU cores used by each server instance during the measurement. */
  instanceCpu: number[];
  /** Updates that crossed from one instance to another, per second (0 with one instance). */
  crossInstancePerSecond: number;
  /** From the instances' /metrics after the run, summed over instances. */
  relayMessagesIn: number;
  /** Relayed updates that arrived more than 100 ms after they were published. */
  relayLaterThan100ms: number;
  catchUpRows: number;
  meanRelayLagMs: number | null;
  /** Commits (batches of edits) per second, over all instances, and their mean duration. */
  commitsPerSecond: number;
  meanCommitMs: number | null;
}

/** Sum of a metric's samples over the instances (a name ending in _sum or _count works too). */
async function scrape(servers: RunningServer[], metric: string): Promise<number> {
  let total = 0;
  for (const server of servers) {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith(metric + ' ') || line.startsWith(metric + '{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/**
 * DOCUMENTS documents, each with WRITERS_PER_DOCUMENT writers and as many readers, spread round
 * robin over the instances. A writer keeps WINDOW updates in flight: one counts as delivered when
 * the reader paired with the writer (on another instance when there are two) has it.
 */
async function measureThroughput(deployment: Deployment): Promise<ThroughputResult> {
  const { servers } = deployment;
  const writers: Writer[] = [];
  const readerSockets: WebSocket[] = [];
  const histogram = new Histogram();
  let measuring = false;
  let delivered = 0;
  let crossed = 0;
  const pumps: Array<() => void> = [];
  let nextWriter = 0;

  for (let d = 0; d < DOCUMENTS; d++) {
    const name = `throughput-${d}`;
    for (let k = 0; k < WRITERS_PER_DOCUMENT; k++) {
      const writerServer = (d + k) % servers.length;
      const readerServer = (d + k + 1) % servers.length;
      const writer = new Writer(nextWriter++, await open(servers[writerServer]!.url(name)));
      const readerWs = await open(servers[readerServer]!.url(name));
      writers.push(writer);
      readerSockets.push(readerWs);
      const inFlight = new Map<string, number>();
      const pump = () => {
        while (inFlight.size < WINDOW) inFlight.set(writer.send(), performance.now());
      };
      reader(readerWs, (token, at) => {
        const sent = inFlight.get(token);
        if (sent === undefined) return; // another writer's token
        inFlight.delete(token);
        if (measuring) {
          delivered++;
          if (writerServer !== readerServer) crossed++;
          histogram.record((at - sent) * 1000);
        }
        pump();
      });
      pumps.push(pump);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const pump of pumps) pump();
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const cpuBefore = servers.map((s) => cpuSeconds(s.pid));
  const [commitsBefore, commitSecondsBefore] = await Promise.all(['collab_persist_seconds_count', 'collab_persist_seconds_sum'].map((m) => scrape(servers, m)));
  const started = performance.now();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, THROUGHPUT_SECONDS * 1000));
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  const instanceCpu = servers.map((s, i) => (cpuSeconds(s.pid) - cpuBefore[i]!) / seconds);
  const [commitsAfter, commitSecondsAfter] = await Promise.all(['collab_persist_seconds_count', 'collab_persist_seconds_sum'].map((m) => scrape(servers, m)));
  const commits = commitsAfter! - commitsBefore!;
  for (const writer of writers) writer.close();
  for (const ws of readerSockets) ws.close();
  const [relayMessagesIn, catchUpRows, lagSum, lagCount, lagUpTo100ms] = await Promise.all(
    [
      'collab_cluster_messages_in_total',
      'collab_catch_up_rows_total',
      'collab_cluster_relay_lag_seconds_sum',
      'collab_cluster_relay_lag_seconds_count',
      'collab_cluster_relay_lag_seconds_bucket{le="0.1"}',
    ].map((m) => scrape(servers, m)),
  );
  return {
    updatesPerSecond: delivered / seconds,
    latency: histogram.summary(),
    instanceCpu,
    crossInstancePerSecond: crossed / seconds,
    relayMessagesIn: relayMessagesIn!,
    relayLaterThan100ms: lagCount! - lagUpTo100ms!,
    catchUpRows: catchUpRows!,
    meanRelayLagMs: lagCount ? (lagSum! / lagCount) * 1000 : null,
    commitsPerSecond: commits / seconds,
    meanCommitMs: commits > 0 ? ((commitSecondsAfter! - commitSecondsBefore!) / commits) * 1000 : null,
  };
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number | undefined | null, digits = 1) => (n === undefined || n === null ? '–' : n.toFixed(digits));

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-bench-cluster-'));
  console.log(`cluster benchmark${quick ? ' (quick)' : ''}: ${os.cpus().length} cores, ${THROUGHPUT_SECONDS} s of throughput per setup`);
  const [postgres, redis] = await Promise.all([startPostgres({ durable: true }), startRedis()]);
  const results: Array<{ setup: Setup; latency: LatencyResult; throughput: ThroughputResult }> = [];
  try {
    for (const setup of SETUPS) {
      const deployment = await deploy(setup, postgres, redis, dataRoot);
      try {
        process.stdout.write(`- ${setup.label}: latency...`);
        const latency = await measureLatency(deployment);
        process.stdout.write(` p50 ${fmt(latency.latency?.p50, 2)} ms; throughput...`);
        const throughput = await measureThroughput(deployment);
        console.log(` ${fmt(throughput.updatesPerSecond, 0)} updates/s (p50 ${fmt(throughput.latency?.p50, 1)} ms)`);
        results.push({ setup, latency, throughput });
      } finally {
        await deployment.stop();
      }
    }
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
    fs.rmSync(dataRoot, { recursive: true, force: true });
  }

  const lines = [
    '# Cross-instance benchmark',
    '',
    `\`npm run bench:cluster${quick ? ' -- --quick' : ''}\` on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${new Date().toISOString().slice(0, 10)}.`,
    'Every process (the instances, PostgreSQL with fsync on, Redis, and the load clients) shares this one machine;',
    `load average when the run started: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} (other work on the machine makes the figures noisier).`,
    '',
    `**Latency**: one writer on the first instance, one reader on the last; an edit every ${LATENCY_INTERVAL_MS} ms, ${LATENCY_SAMPLES} samples; time from sending the edit to the reader receiving it (committed, then relayed).`,
    '',
    '| setup | p50 ms | p95 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map(({ setup, latency: { latency } }) => `| ${setup.label} | ${fmt(latency?.p50, 2)} | ${fmt(latency?.p95, 2)} | ${fmt(latency?.p99, 2)} | ${fmt(latency?.max, 1)} |`),
    '',
    `**Throughput**: ${DOCUMENTS} documents × ${WRITERS_PER_DOCUMENT} writers and ${WRITERS_PER_DOCUMENT} readers, spread round robin over the instances (with two, every writer's reader is on the other instance); each writer keeps ${WINDOW} edits in flight; ${THROUGHPUT_SECONDS} s after ${WARMUP_MS / 1000} s of warm-up. An edit counts when its reader has it.`,
    '',
    '| setup | edits/s delivered | of which across instances | p50 ms | p99 ms | commits/s | mean commit ms | CPU cores per instance |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map(
      ({ setup, throughput: t }) =>
        `| ${setup.label} | ${fmt(t.updatesPerSecond, 0)} | ${fmt(t.crossInstancePerSecond, 0)} | ${fmt(t.latency?.p50, 1)} | ${fmt(t.latency?.p99, 1)} | ${fmt(t.commitsPerSecond, 0)} | ${fmt(t.meanCommitMs, 2)} | ${t.instanceCpu.map((c) => fmt(c, 2)).join(' + ')} |`,
    ),
    '',
    'Relay health over the whole run (from the instances\' /metrics): Redis messages received; committed updates read from storage',
    'rather than taken from their message (the 5-second check finds edits whose message is still on its way; a message lost,',
    'or late by more than the 150 ms gap wait, also ends up here); and the mean publish-to-receive lag.',
    '',
    '| setup | relay messages in | of which later than 100 ms | catch-up rows from storage | mean relay lag ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results
      .filter(({ setup }) => setup.redis)
      .map(({ setup, throughput: t }) => `| ${setup.label} | ${t.relayMessagesIn} | ${t.relayLaterThan100ms} | ${t.catchUpRows} | ${fmt(t.meanRelayLagMs, 2)} |`),
    '',
  ];
  console.log('\n' + lines.join('\n'));
  // A quick run is a smoke test: it does not replace the committed results.
  if (quick) return;
  const outDir = path.join(ROOT, 'bench/cluster');
  fs.writeFileSync(path.join(outDir, 'results.md'), lines.join('\n'));
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), loadAtStart, results }, null, 2) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
