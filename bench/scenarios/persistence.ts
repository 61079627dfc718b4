import fs from 'node:fs';
import path from 'node:path';
import { random, randomEditsFixture, traceFixture, type Fixture } from '../lib/fixtures.js';
import { freshDataDir, interleave, launchFor, removeDataDir, round2, runTask, waitForQuiet, type Metrics, type RunSettings, type Scenario } from '../lib/scenario.js';
import { FLAVORS, type RunningServer, type ServerKind } from '../lib/servers.js';

/** Servers that store documents; the raw relay has nothing to load or lose. */
const PERSISTENT: readonly ServerKind[] = ['ours', 'baseline', 'reference', 'hocuspocus'];

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : fs.statSync(full).size;
  }
  return total;
}

/** Sends a fixture's updates through a running server and waits until it stored them. */
async function populate(server: RunningServer, doc: string, fixture: Fixture): Promise<number> {
  const result = await runTask('doc-client.js', { task: 'populate', url: server.url(doc), flavor: FLAVORS[server.kind], doc, updatesFile: fixture.updatesFile }, 300_000, server);
  if (!result.ok) throw new Error(`populating ${doc}: ${result.error}\n${server.output()}`);
  await waitForQuiet(server.pid);
  return result.ms as number;
}

export const coldLoad: Scenario = {
  id: 'cold-load',
  title: 'Cold load',
  description:
    'Two documents are written through each server and persisted: one built from 50,000 single edits (four users, random inserts and deletes, one message each) and the automerge-paper trace (259,778 transactions, sent 1,000 per message). The server is stopped and started again; the time is from a fresh client opening its socket until its Y.Doc holds exactly the expected text (the client decodes what it receives; "bytes" is the time the completing message arrived, before the client applied it).',
  servers: PERSISTENT,
  metrics: [
    { key: 'editsContentMs', label: '50k-edit doc: time to full content', unit: 'ms', digits: 0 },
    { key: 'editsBytesMs', label: '50k-edit doc: time to last byte', unit: 'ms', digits: 0 },
    { key: 'paperContentMs', label: 'automerge-paper: time to full content', unit: 'ms', digits: 0 },
    { key: 'paperBytesMs', label: 'automerge-paper: time to last byte', unit: 'ms', digits: 0 },
    { key: 'populateEditsPerSecond', label: '50k-edit doc: edits written per second', unit: '/s', digits: 0 },
    { key: 'diskMB', label: 'data on disk', unit: 'MB', digits: 1 },
  ],
  async run(settings: RunSettings) {
    const editCount = settings.quick ? 5_000 : 50_000;
    const docs = [
      { key: 'edits', doc: 'cold-edits', fixture: randomEditsFixture(editCount) },
      { key: 'paper', doc: 'cold-paper', fixture: traceFixture(1000) },
    ];
    const dirs = new Map<ServerKind, string>();
    const populated = new Map<ServerKind, Metrics>();
    const notes: string[] = [];
    for (const kind of PERSISTENT) {
      if (!settings.servers.includes(kind)) continue;
      const dataDir = freshDataDir(`cold-${kind}`);
      dirs.set(kind, dataDir);
      const server = await launchFor(settings, { kind, dataDir, persist: true });
      try {
        const editsMs = await populate(server, 'cold-edits', docs[0]!.fixture);
        await populate(server, 'cold-paper', docs[1]!.fixture);
        populated.set(kind, { populateEditsPerSecond: round2(editCount / (editsMs / 1000), 0) });
        settings.log(`    populated ${kind}: ${editCount} edits in ${Math.round(editsMs)} ms`);
      } finally {
        await server.stop();
      }
      populated.get(kind)!.diskMB = round2(dirBytes(dataDir) / 1048576, 1);
    }
    try {
      const rounds = await interleave(settings, PERSISTENT, async (kind, round) => {
        const metrics: Metrics = { ...populated.get(kind) };
        for (const { key, doc, fixture } of docs) {
          const server = await launchFor(settings, { kind, dataDir: dirs.get(kind)!, persist: true });
          try {
            const result = await runTask('doc-client.js', { task: 'load', url: server.url(doc), flavor: FLAVORS[kind], doc, textFile: fixture.textFile, updatesFile: fixture.updatesFile, timeoutMs: 60_000 }, 90_000, server);
            if (!result.ok) throw new Error(`${doc}: ${result.error}`);
            metrics[`${key}ContentMs`] = round2(result.contentMs as number, 1);
            metrics[`${key}BytesMs`] = round2(result.bytesMs as number, 1);
          } finally {
            await server.stop();
          }
        }
        settings.log(`    round ${round + 1} ${kind.padEnd(10)} 50k ${metrics.editsContentMs} ms, paper ${metrics.paperContentMs} ms`);
        return metrics;
      });
      return { rounds, notes };
    } finally {
      for (const dir of dirs.values()) removeDataDir(dir);
    }
  },
};

/** Restarts on the same data and returns which numbered edits the document still holds. */
async function restoredSeqs(settings: RunSettings, kind: ServerKind, dataDir: string, doc: string): Promise<Set<number>> {
  const server = await launchFor(settings, { kind, dataDir, persist: true });
  try {
    const result = await runTask('doc-client.js', { task: 'restore', url: server.url(doc), flavor: FLAVORS[kind], doc, quietMs: 1500, timeoutMs: 20_000 }, 60_000, server);
    if (!result.ok) throw new Error(`restore: ${result.error}`);
    return new Set(result.seqs as number[]);
  } finally {
    await server.stop();
  }
}

function lostOf(observed: number[], restored: Set<number>): number {
  return observed.filter((seq) => !restored.has(seq)).length;
}

export const durability: Scenario = {
  id: 'durability',
  title: 'Durability',
  description:
    'A writer streams numbered edits (100/s) and an observer on a second connection records the ones it receives. (1) SIGKILL at a random moment 1–4 s into the stream; (2) SIGKILL the moment the observer has received the last edit of a 1,000-edit burst. The server is restarted on its data and a fresh client reads the document back: "lost" counts edits the observer had seen that the document no longer holds. (3) Throughput: edits the observer receives per second when the writer keeps 100 edits in flight; for this server each one received is already committed with fsync.',
  servers: PERSISTENT,
  metrics: [
    { key: 'killLost', label: 'random kill: seen but lost', unit: '', digits: 0 },
    { key: 'killObserved', label: 'random kill: edits seen', unit: '', digits: 0 },
    { key: 'burstLost', label: 'kill after burst: seen but lost', unit: '', digits: 0 },
    { key: 'burstObserved', label: 'kill after burst: edits seen', unit: '', digits: 0 },
    { key: 'editsPerSecond', label: 'edits per second (in-flight 100)', unit: '/s', digits: 0 },
  ],
  async run(settings: RunSettings) {
    const burst = settings.quick ? 300 : 1000;
    const throughputCount = settings.quick ? 1000 : 4000;
    const rounds = await interleave(settings, PERSISTENT, async (kind, round) => {
      const metrics: Metrics = {};
      const flavor = FLAVORS[kind];
      const doc = 'durable';
      // (1) random moment, the same for every server of this round
      {
        const killAfterMs = 1000 + random(0xd00d + round)() * 3000;
        const dataDir = freshDataDir(`kill-${kind}`);
        const server = await launchFor(settings, { kind, dataDir, persist: true });
        const result = await runTask('durability.js', { mode: 'stream', url: server.url(doc), flavor, doc, serverPid: server.pid, rate: 100, killAfterMs, count: 0, window: 0, leadMs: 0 });
        await server.kill();
        if (!result.ok) throw new Error(`stream: ${result.error}`);
        const restored = await restoredSeqs(settings, kind, dataDir, doc);
        metrics.killObserved = (result.observed as number[]).length;
        metrics.killLost = lostOf(result.observed as number[], restored);
        removeDataDir(dataDir);
      }
      // (2) right after a burst
      {
        const dataDir = freshDataDir(`burst-${kind}`);
        const server = await launchFor(settings, { kind, dataDir, persist: true });
        const result = await runTask('durability.js', { mode: 'burst', url: server.url(doc), flavor, doc, serverPid: server.pid, rate: 100, killAfterMs: 0, count: burst, window: 0, leadMs: 1000 });
        await server.kill();
        if (!result.ok) throw new Error(`burst: ${result.error}`);
        const restored = await restoredSeqs(settings, kind, dataDir, doc);
        metrics.burstObserved = (result.observed as number[]).length;
        metrics.burstLost = lostOf(result.observed as number[], restored);
        removeDataDir(dataDir);
      }
      // (3) throughput
      {
        const dataDir = freshDataDir(`throughput-${kind}`);
        const server = await launchFor(settings, { kind, dataDir, persist: true });
        try {
          const result = await runTask('durability.js', { mode: 'throughput', url: server.url(doc), flavor, doc, serverPid: server.pid, rate: 0, killAfterMs: 0, count: throughputCount, window: 100, leadMs: 0 }, 180_000, server);
          if (!result.ok) throw new Error(`throughput: ${result.error}`);
          metrics.editsPerSecond = round2(result.throughput as number, 0);
        } finally {
          await server.stop();
          removeDataDir(dataDir);
        }
      }
      settings.log(
        `    round ${round + 1} ${kind.padEnd(10)} kill: lost ${metrics.killLost}/${metrics.killObserved}, burst: lost ${metrics.burstLost}/${metrics.burstObserved}, ${metrics.editsPerSecond} edits/s`,
      );
      return metrics;
    });
    return { rounds, notes: [] };
  },
};
