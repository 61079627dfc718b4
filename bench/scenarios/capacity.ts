/**
 * Capacity scenarios: how many typists one server process carries before it slows down (a ramp
 * over a realistic team workspace), and what thousands of loaded, idle documents cost in memory.
 */
import { random, randomEditsFixture, seedFile, typedTextFixture } from '../lib/fixtures.js';
import { LoadGroup } from '../lib/load-group.js';
import type { ConnectionPlan, SeqRanges } from '../lib/load-protocol.js';
import { ProcessSampler, rssBytes } from '../lib/proc.js';
import { freshDataDir, interleave, launchFor, removeDataDir, round2, sleep, waitForQuiet, type Metrics, type RunSettings, type Scenario } from '../lib/scenario.js';
import { FLAVORS, SERVER_KINDS, SERVER_LABELS, type RunningServer, type ServerKind } from '../lib/servers.js';

interface RampShape {
  /** Typists at the first step; every step multiplies them by `growth` (whole documents are added). */
  firstTypists: number;
  growth: number;
  maxTypists: number;
  maxSteps: number;
  /** After a step's editors are open and before its measurement window. */
  settleMs: number;
  /** Large documents carry the history of this many single edits (bench/lib/fixtures.ts). */
  largeEdits: number;
  largeShare: number;
  minEditors: number;
  maxEditors: number;
  /** Each typist's long-run rate, and how fast a burst goes. */
  charactersPerSecond: number;
  burstCharactersPerSecond: number;
  burstMin: number;
  burstMax: number;
  cursorsPerSecond: number;
  /** A step fails when p99 passes this, when an edit is lost, or when the server's RSS passes rssLimitMB. */
  p99LimitMs: number;
  rssLimitMB: number;
  /** CPU of one load process (cores) beyond which the generator, not the server, may be the limit. */
  loadCpuLimit: number;
  processes: number;
  seed: number;
}

const RAMP: RampShape = {
  firstTypists: 40,
  growth: 1.3,
  maxTypists: 5000,
  maxSteps: 24,
  settleMs: 1000,
  largeEdits: 50_000,
  largeShare: 0.2,
  minEditors: 2,
  maxEditors: 5,
  charactersPerSecond: 5,
  burstCharactersPerSecond: 10,
  burstMin: 5,
  burstMax: 25,
  cursorsPerSecond: 2,
  p99LimitMs: 100,
  rssLimitMB: 2048,
  loadCpuLimit: 0.9,
  processes: 2,
  seed: 0x5eed,
};

/** Smoke run: bigger steps, smaller large documents. */
const RAMP_QUICK: Partial<RampShape> = { growth: 1.6, largeEdits: 5_000, maxSteps: 12 };

/** The documents of the workspace, always the same sequence: 2–5 editors each, a fifth of them large. */
function* workspace(shape: RampShape): Generator<{ editors: number; large: boolean }> {
  const next = random(shape.seed);
  for (;;) {
    const editors = shape.minEditors + Math.floor(next() * (shape.maxEditors - shape.minEditors + 1));
    yield { editors, large: next() < shape.largeShare };
  }
}

interface StepResult {
  typists: number;
  documents: number;
  p50: number | null;
  p99: number | null;
  expected: number;
  lost: number;
  cpu: number;
  rssMB: number;
  loadCpu: number;
  openMs: number;
  failure: string | null;
  /** A failure on latency or loss (measured again once), not a crash, a closed connection or RSS. */
  retryable: boolean;
}

interface RampOutcome {
  metrics: Metrics;
  steps: StepResult[];
  stopReason: string;
}

/** Adds documents step by step until a step fails; returns the last step that passed. */
async function rampTrial(settings: RunSettings, server: RunningServer, shape: RampShape, largeSeed: string): Promise<RampOutcome> {
  const flavor = FLAVORS[server.kind];
  const group = new LoadGroup([], shape.processes);
  const rss = new ProcessSampler(server.pid, 100);
  rss.start();
  const documents = workspace(shape);
  const steps: StepResult[] = [];
  let typists = 0;
  let documentCount = 0;
  let cursors = 0;
  let stopReason = `reached ${shape.maxSteps} steps`;
  let lastGood: StepResult | null = null;
  const windowMs = settings.windowSeconds * 1000;
  // Edits sent in the first part of the window must have reached everyone by its end (≥ 1.5 s later).
  const checkedMs = Math.max(1000, windowMs - 1500);
  try {
    for (let step = 0; step < shape.maxSteps; step++) {
      const target = Math.min(shape.maxTypists, Math.round(shape.firstTypists * shape.growth ** step));
      if (target <= typists) {
        stopReason = `reached the ramp's cap of ${shape.maxTypists} typists`;
        break;
      }
      const seeders: ConnectionPlan[] = [];
      const others: ConnectionPlan[] = [];
      while (typists < target) {
        const { editors, large } = documents.next().value!;
        const doc = `ramp-${documentCount++}`;
        for (let editor = 0; editor < editors; editor++) {
          const writerId = typists++;
          const plan: ConnectionPlan = {
            url: server.url(doc),
            doc,
            flavor,
            writerId,
            updatesPerSecond: shape.charactersPerSecond,
            cursorId: ++cursors,
            cursorsPerSecond: shape.cursorsPerSecond,
            typing: { burstCharsPerSecond: shape.burstCharactersPerSecond, burstMin: shape.burstMin, burstMax: shape.burstMax, seed: shape.seed + writerId },
          };
          // The first editor of a large document brings its history, before the others join.
          if (large && editor === 0) seeders.push({ ...plan, seedFile: largeSeed });
          else others.push(plan);
        }
      }
      const opened = performance.now();
      const seeded = await group.add(seeders, 8);
      const joined = await group.add(others, 100);
      const openMs = performance.now() - opened;
      const failures = seeded.failures + joined.failures;
      if (failures > 0) {
        stopReason = `${failures} connections failed to open at ${typists} typists: ${[...seeded.errors, ...joined.errors].slice(0, 2).join('; ')}`;
        break;
      }
      if (step === 0) group.start();
      await sleep(shape.settleMs);
      if (server.exited) {
        stopReason = `the server exited at ${typists} typists`;
        break;
      }

      // A step that fails on latency or loss is measured once more before the ramp stops: on a
      // shared machine another process can take the cores for a moment, a server at its limit
      // fails both windows.
      let result: StepResult | null = null;
      for (let attempt = 0; attempt < 2 && (result === null || (result.failure !== null && result.retryable)); attempt++) {
        const from = await group.mark(true);
        const serverCpu = new ProcessSampler(server.pid, 1000);
        const loadCpu = group.pids.map((pid) => new ProcessSampler(pid, 1000));
        serverCpu.start();
        for (const sampler of loadCpu) sampler.start();
        await sleep(checkedMs);
        const upto = await group.mark(false);
        await sleep(windowMs - checkedMs);
        const ranges: SeqRanges = {};
        for (const [writer, seq] of Object.entries(upto)) ranges[Number(writer)] = [from[Number(writer)] ?? 0, seq];
        const checked = await group.check(ranges);
        const cpu = serverCpu.stop();
        const loadCores = Math.max(...loadCpu.map((sampler) => sampler.stop().cpuCores));
        const rssMB = Math.max(rssBytes(server.pid), rss.peakBytes) / 1048576;

        const p99 = checked.editLatency?.p99 ?? null;
        const fatal =
          server.exited ? 'the server exited'
          : checked.unexpectedCloses > 0 ? `${checked.unexpectedCloses} connections closed (${checked.errors.slice(0, 2).join('; ')})`
          : rssMB > shape.rssLimitMB ? `RSS ${Math.round(rssMB)} MB > ${shape.rssLimitMB} MB`
          : null;
        const slow =
          p99 === null ? 'no edit was delivered'
          : p99 > shape.p99LimitMs ? `p99 ${round2(p99, 1)} ms > ${shape.p99LimitMs} ms`
          : checked.missing > 0 ? `${checked.missing} of ${checked.expected} edits lost or later than ${round2((windowMs - checkedMs) / 1000, 1)} s`
          : null;
        result = {
          typists,
          documents: documentCount,
          p50: checked.editLatency?.p50 ?? null,
          p99,
          expected: checked.expected,
          lost: checked.missing,
          cpu: round2(cpu.cpuCores, 3),
          rssMB: round2(rssMB, 0),
          loadCpu: round2(loadCores, 2),
          openMs: round2(openMs, 0),
          failure: fatal ?? slow,
          retryable: fatal === null,
        };
        steps.push(result);
        settings.log(
          `      ${server.kind.padEnd(10)} ${String(typists).padStart(5)} typists in ${documentCount} docs: p50/p99/max ${round2(checked.editLatency?.p50 ?? NaN, 1)}/${p99 === null ? '–' : round2(p99, 1)}/${round2(checked.editLatency?.max ?? NaN, 0)} ms, lost ${checked.missing}/${checked.expected}, server ${result.cpu} cores, ${result.rssMB} MB, load ≤ ${result.loadCpu} cores/process${result.failure ? ` — FAILS: ${result.failure}` : ''}`,
        );
      }
      const { failure, loadCpu: loadCores } = result!;
      if (failure) {
        stopReason = `${failure} at ${typists} typists`;
        break;
      }
      lastGood = result;
      if (loadCores >= shape.loadCpuLimit) {
        stopReason = `the load generator used ${round2(loadCores, 2)} cores in one process at ${typists} typists: the figure is a lower bound`;
        break;
      }
    }
  } finally {
    rss.stop();
    await group.close();
  }
  // Efficiency, which contention on a shared machine disturbs far less than latency: typists per
  // core of server CPU at the highest step measured.
  const top = steps.at(-1);
  return {
    steps,
    stopReason,
    metrics: {
      typists: lastGood?.typists ?? 0,
      typistsPerCore: top && top.cpu > 0 ? round2(top.typists / top.cpu, 0) : null,
      documents: lastGood?.documents ?? 0,
      p99AtLimit: lastGood?.p99 ?? null,
      cpuAtLimit: lastGood?.cpu ?? null,
      rssAtLimitMB: lastGood?.rssMB ?? null,
      loadCpuAtLimit: lastGood?.loadCpu ?? null,
      loadCpuMax: steps.length ? Math.max(...steps.map((s) => s.loadCpu)) : null,
      steps: steps.length,
    },
  };
}

export const workspaceRamp: Scenario = {
  id: 'workspace-ramp',
  title: 'Workspace ramp',
  description:
    'A team workspace that grows until the server slows down. Documents have 2–5 editors each (a seeded mix, the same for every server); a fifth of them are large (the first editor brings a 50,000-edit history in one message before the others join). Every editor types 5 characters a second on average, in bursts of 5–25 characters at 10 a second with pauses between, each character its own update, and moves its cursor twice a second. Editors are added in steps (×1.3 typists per step, whole documents); each step settles for 1 s, then is measured for one window (a step that fails on latency or loss is measured once more, so that a moment of contention on a shared machine does not end the ramp): latency from an edit being sent to each other editor of its document receiving it, and whether every edit sent in the window\'s first part (up to 1.5 s before its end) reached every other editor. The ramp stops at the first step where p99 passes 100 ms, an edit is missing, a connection is closed, or the server\'s RSS passes 2 GB. **Typists sustained** is the last step that passed; **typists per core** divides the typists of the highest step measured by the server\'s CPU there (cores), a measure of efficiency that contention on a shared machine disturbs far less than latency. This server runs with `SQLITE_SYNCHRONOUS=full` (every commit fsynced before anyone receives the edit); the peers do not persist. The load generator\'s CPU (the busier of its two processes) shows whether it, rather than the server, was the limit.',
  servers: SERVER_KINDS,
  metrics: [
    { key: 'typists', label: 'typists sustained', unit: '', ratio: true, digits: 0 },
    { key: 'typistsPerCore', label: 'typists per core of server CPU (highest step)', unit: '', ratio: true, digits: 0 },
    { key: 'documents', label: 'documents open at that step', unit: '', digits: 0 },
    { key: 'p99AtLimit', label: 'edit p99 at that step', unit: 'ms', digits: 1 },
    { key: 'cpuAtLimit', label: 'server CPU at that step', unit: 'cores', digits: 2 },
    { key: 'rssAtLimitMB', label: 'server RSS at that step', unit: 'MB', ratio: true, digits: 0 },
    { key: 'loadCpuAtLimit', label: 'load generator CPU at that step (busier process)', unit: 'cores', digits: 2 },
    { key: 'loadCpuMax', label: 'load generator CPU, highest step', unit: 'cores', digits: 2 },
  ],
  async run(settings: RunSettings) {
    const shape: RampShape = settings.quick ? { ...RAMP, ...RAMP_QUICK } : RAMP;
    const largeSeed = seedFile(randomEditsFixture(shape.largeEdits));
    const notes: string[] = [];
    const rounds = await interleave(settings, SERVER_KINDS, async (kind: ServerKind, round) => {
      const dataDir = freshDataDir(`ramp-${kind}`);
      const server = await launchFor(settings, { kind, dataDir, persist: false, env: { SQLITE_SYNCHRONOUS: 'full' } });
      try {
        const outcome = await rampTrial(settings, server, shape, largeSeed);
        const steps = outcome.steps.map((s) => `${s.typists}${s.failure ? '✗' : ''} (p99 ${s.p99 === null ? '–' : round2(s.p99, 1)} ms, ${s.cpu} cores)`).join(', ');
        notes.push(`Round ${round + 1}, ${SERVER_LABELS[kind]}: ${outcome.metrics.typists} typists sustained; stopped: ${outcome.stopReason}. Steps: ${steps}.`);
        settings.log(`    round ${round + 1} ${kind.padEnd(10)} ${outcome.metrics.typists} typists sustained (${outcome.stopReason})`);
        return outcome.metrics;
      } finally {
        await server.stop();
        removeDataDir(dataDir);
      }
    });
    return { rounds, notes };
  },
};

interface IdleDocumentsShape {
  documents: number;
  characters: number;
  /** How long the documents stay loaded and idle, connections open. */
  idleSeconds: number;
  /** How long RSS is watched after the connections closed (this server unloads a document after ROOM_IDLE_MS, 30 s by default). */
  releaseSeconds: number;
  processes: number;
  concurrency: number;
}

export const idleDocuments: Scenario = {
  id: 'idle-docs',
  title: 'Idle documents',
  description:
    '2,000 documents, each opened by one connection that brings ~10 KB of typed text (a history of ~2,000 word-sized edits, one message) and then stays idle. Memory per loaded document is the server\'s RSS growth from before the first connection to 2 s after the last, divided by the documents. The documents then stay idle, connections open, for 10 s; then every connection closes and RSS is watched for 40 s: how long until half of the growth was given back, and how much was given back by the end.',
  servers: SERVER_KINDS,
  metrics: [
    { key: 'kbPerDocument', label: 'memory per loaded document', unit: 'KB', ratio: true, digits: 1 },
    { key: 'rssLoadedMB', label: 'RSS with all loaded', unit: 'MB', ratio: true, digits: 0 },
    { key: 'rssIdleMB', label: 'RSS after the idle period, connections open', unit: 'MB', ratio: true, digits: 0 },
    { key: 'openMs', label: 'time to open and fill all', unit: 'ms', ratio: true, digits: 0 },
    { key: 'halfReleasedMs', label: 'time until half the growth was released, after the connections closed', unit: 'ms', digits: 0 },
    { key: 'releasedPct', label: 'growth released at the end of the watch', unit: '%', digits: 0 },
  ],
  async run(settings) {
    const shape: IdleDocumentsShape = settings.quick
      ? { documents: 500, characters: 10_000, idleSeconds: 3, releaseSeconds: 35, processes: 2, concurrency: 200 }
      : { documents: 2000, characters: 10_000, idleSeconds: 10, releaseSeconds: 40, processes: 2, concurrency: 200 };
    const content = seedFile(typedTextFixture(shape.characters));
    const rounds = await interleave(settings, SERVER_KINDS, async (kind, round) => {
      const dataDir = freshDataDir(`idle-docs-${kind}`);
      const server = await launchFor(settings, { kind, dataDir, persist: false });
      const plans: ConnectionPlan[] = Array.from({ length: shape.documents }, (_, i) => {
        const doc = `idle-doc-${i}`;
        return { url: server.url(doc), doc, flavor: FLAVORS[kind], writerId: null, updatesPerSecond: 0, cursorId: null, cursorsPerSecond: 0, seedFile: content };
      });
      const group = new LoadGroup([], shape.processes);
      try {
        // Measured once the process has finished starting (on a busy machine that takes longer than a
        // fixed pause, and RSS still grows while it does).
        await waitForQuiet(server.pid);
        const before = rssBytes(server.pid);
        const opened = await group.add(plans, shape.concurrency);
        if (opened.failures > 0) throw new Error(`${opened.failures} connections failed: ${opened.errors.slice(0, 3).join('; ')}`);
        await sleep(2000);
        const loaded = rssBytes(server.pid);
        await sleep(shape.idleSeconds * 1000);
        const idle = rssBytes(server.pid);
        await group.close();
        const closedAt = performance.now();
        const growth = loaded - before;
        let halfReleasedMs: number | null = null;
        let now = idle;
        while (performance.now() - closedAt < shape.releaseSeconds * 1000) {
          await sleep(250);
          now = rssBytes(server.pid);
          if (halfReleasedMs === null && now <= loaded - growth / 2) halfReleasedMs = performance.now() - closedAt;
          // Nearly all of it back: nothing more to see.
          if (now <= before + growth * 0.1) break;
        }
        const metrics: Metrics = {
          kbPerDocument: round2(growth / 1024 / shape.documents, 2),
          rssLoadedMB: round2(loaded / 1048576, 1),
          rssIdleMB: round2(idle / 1048576, 1),
          openMs: round2(opened.openMs, 0),
          halfReleasedMs: halfReleasedMs === null ? null : round2(halfReleasedMs, 0),
          releasedPct: growth > 0 ? round2((100 * (loaded - now)) / growth, 0) : null,
        };
        settings.log(
          `    round ${round + 1} ${kind.padEnd(10)} ${metrics.kbPerDocument} KB/doc, ${metrics.rssLoadedMB} MB loaded, ${metrics.rssIdleMB} MB idle, half released ${metrics.halfReleasedMs ?? 'never'} ms, ${metrics.releasedPct}% released`,
        );
        return metrics;
      } finally {
        await group.close();
        await server.stop();
        removeDataDir(dataDir);
      }
    });
    return { rounds, notes: [] };
  },
};
