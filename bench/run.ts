/**
 * `npm run bench [-- options]`: every scenario against this server, the peers and the raw relay,
 * interleaved round by round; prints a table and JSON and saves both under bench/results/.
 *
 *   --quick                 short smoke run (1 round, 3 s windows, smaller documents)
 *   --rounds N              rounds per scenario (default 3)
 *   --window S              seconds of steady load per measurement (default 8)
 *   --only a,b              scenario ids: fanout-20 fanout-300 awareness-storm many-rooms idle workspace-ramp idle-docs cold-load durability
 *   --servers a,b           ours ours-hocuspocus reference hocuspocus raw (default all; ours-hocuspocus
 *                           is this server driven by the Hocuspocus load client, on /sync; baseline
 *                           with --baseline)
 *   --baseline DIR          also run this server as built in DIR (a dist/ directory of another
 *                           commit, holding server/main.js), to measure a change in the same run
 *   --peers-persist         peers persist in every scenario, not only where persistence is measured
 *   --ours-env KEY=VALUE    extra environment for this server (repeatable)
 *   --ours-prof DIR         run this server with --cpu-prof, profiles written to DIR
 *   --no-save               print only
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WORK_DIR } from './lib/fixtures.js';
import { type Metrics, type RunSettings, type Scenario, type ScenarioResult } from './lib/scenario.js';
import { ROOT, SERVER_KINDS, SERVER_LABELS, type ServerKind } from './lib/servers.js';
import { idleDocuments, workspaceRamp } from './scenarios/capacity.js';
import { awarenessStorm, fanOut20, fanOut300, idleConnections, manyRooms } from './scenarios/load.js';
import { coldLoad, durability } from './scenarios/persistence.js';
import { evaluateTargets, type Summary } from './targets.js';

const SCENARIOS: Scenario[] = [fanOut20, fanOut300, awarenessStorm, manyRooms, idleConnections, workspaceRamp, idleDocuments, coldLoad, durability];

interface Args {
  quick: boolean;
  rounds: number | null;
  window: number | null;
  only: string[] | null;
  servers: ServerKind[];
  peersPersist: boolean;
  oursEnv: Record<string, string>;
  oursProf: string | null;
  baseline: string | null;
  save: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, rounds: null, window: null, only: null, servers: SERVER_KINDS.filter((k) => k !== 'baseline'), peersPersist: false, oursEnv: {}, oursProf: null, baseline: null, save: true };
  let serversGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--quick':
        args.quick = true;
        break;
      case '--rounds':
        args.rounds = Number(value());
        break;
      case '--window':
        args.window = Number(value());
        break;
      case '--only':
        args.only = value().split(',');
        break;
      case '--servers':
        args.servers = value().split(',') as ServerKind[];
        serversGiven = true;
        break;
      case '--baseline':
        args.baseline = path.resolve(value());
        break;
      case '--peers-persist':
        args.peersPersist = true;
        break;
      case '--ours-env': {
        const [key, ...rest] = value().split('=');
        args.oursEnv[key!] = rest.join('=');
        break;
      }
      case '--ours-prof':
        args.oursProf = path.resolve(value());
        break;
      case '--no-save':
        args.save = false;
        break;
      default:
        throw new Error(`unknown option ${arg} (see the comment at the top of bench/run.ts)`);
    }
  }
  if (args.baseline && !serversGiven) args.servers = [...SERVER_KINDS];
  if (args.baseline && !fs.existsSync(path.join(args.baseline, 'server/main.js'))) throw new Error(`--baseline: no server/main.js in ${args.baseline}`);
  for (const server of args.servers) if (!SERVER_KINDS.includes(server)) throw new Error(`unknown server ${server}`);
  if (args.servers.includes('baseline') && !args.baseline) throw new Error('--servers baseline needs --baseline DIR');
  if (args.only) for (const id of args.only) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id}`);
  return args;
}

function machine() {
  const run = (command: string) => {
    try {
      return execSync(command, { encoding: 'utf8' }).trim();
    } catch {
      return 'unavailable';
    }
  };
  const cpuModel = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return {
    nproc: run('nproc'),
    cpuModel,
    free: run('free -g'),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: run('git -C ' + JSON.stringify(ROOT) + ' rev-parse --short HEAD'),
    dirty: run('git -C ' + JSON.stringify(ROOT) + ' status --porcelain server shared').length > 0,
  };
}

/**
 * How long this machine's disk takes to make a small write durable (write + fdatasync of 4 KB in
 * the bench's work directory, 300 times): the floor under every latency of this server, which
 * commits each edit durably before relaying it, while the peers keep edits in memory only.
 */
function diskSyncMs(dir: string): { p50: number; p99: number; max: number } {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      fs.writeSync(fd, block, 0, block.length, (i % 16) * block.length);
      fs.fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 100) / 100;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** What the baseline build is: the commit recorded next to it (BASELINE_COMMIT), else its directory name. */
function baselineCommit(dist: string): string {
  const file = path.join(dist, 'BASELINE_COMMIT');
  return fs.existsSync(file) ? `commit ${fs.readFileSync(file, 'utf8').trim()}` : path.basename(path.dirname(dist));
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Medians over rounds, and medians of the per-round ratios to the raw relay. */
function summarise(scenario: Scenario, result: ScenarioResult): Summary {
  const summary: Summary = {};
  for (const kind of scenario.servers) {
    const rounds = result.rounds.map((r) => r[kind]).filter((m): m is Metrics => m !== undefined && !m.failed);
    if (rounds.length === 0) continue;
    const keys = new Set(rounds.flatMap((m) => Object.keys(m)));
    const entry: Summary[string] = {};
    for (const key of keys) {
      const values = rounds.map((m) => m[key]).filter((v): v is number => typeof v === 'number');
      const ratios = result.rounds
        .map((r) => {
          const mine = r[kind]?.[key];
          const raw = r.raw?.[key];
          return typeof mine === 'number' && typeof raw === 'number' && raw > 0 ? mine / raw : null;
        })
        .filter((v): v is number => v !== null);
      entry[key] = { median: median(values), max: values.length ? Math.max(...values) : null, ratio: median(ratios), values };
    }
    summary[kind] = entry;
  }
  return summary;
}

function format(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function table(scenario: Scenario, summary: Summary): string {
  const kinds = scenario.servers.filter((k) => summary[k]);
  const lines = [`| ${scenario.title} | ${kinds.map((k) => SERVER_LABELS[k]).join(' | ')} |`, `|---|${kinds.map(() => '---:').join('|')}|`];
  for (const metric of scenario.metrics) {
    const cells = kinds.map((kind) => {
      const stat = summary[kind]?.[metric.key];
      if (!stat || stat.median === null) return '–';
      const value = `${format(stat.median, metric.digits ?? 2)}${metric.unit && metric.unit !== '/s' ? ' ' + metric.unit : metric.unit}`;
      return metric.ratio && kind !== 'raw' && stat.ratio !== null ? `${value} (${format(stat.ratio, 2)}×)` : value;
    });
    if (cells.every((c) => c === '–')) continue;
    lines.push(`| ${metric.label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const settings: RunSettings = {
    quick: args.quick,
    rounds: args.rounds ?? (args.quick ? 1 : 3),
    windowSeconds: args.window ?? (args.quick ? 3 : 8),
    servers: args.servers,
    peersAlwaysPersist: args.peersPersist,
    oursEnv: args.oursEnv,
    oursNodeArgs: args.oursProf ? ['--cpu-prof', `--cpu-prof-dir=${args.oursProf}`] : [],
    baselineDist: args.baseline,
    log: (line) => process.stdout.write(line + '\n'),
  };
  const info = machine();
  const selected = SCENARIOS.filter((s) => !args.only || args.only.includes(s.id));
  // A run of some scenarios or servers, or of this server with other settings, is not a full run.
  const partial =
    selected.length < SCENARIOS.length || SERVER_KINDS.some((k) => k !== 'baseline' && !args.servers.includes(k)) || Object.keys(args.oursEnv).length > 0;
  const mode = args.quick ? 'quick' : partial ? 'partial' : 'full';
  settings.log(`collab-docs benchmark — ${mode} run, ${settings.rounds} round(s), ${settings.windowSeconds} s windows`);
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const diskSync = diskSyncMs(WORK_DIR);
  settings.log(`machine: ${info.nproc} cores (${info.cpuModel}), node ${info.node}, load ${info.loadAverageAtStart.join(' ')}`);
  settings.log(`disk: a 4 KB write made durable (fdatasync) takes p50 ${diskSync.p50} ms, p99 ${diskSync.p99} ms, max ${diskSync.max} ms`);

  const results: Record<string, { title: string; description: string; summary: Summary; rounds: ScenarioResult['rounds']; notes: string[]; seconds: number }> = {};
  for (const scenario of selected) {
    settings.log(`\n== ${scenario.title} (${scenario.id})`);
    const scenarioStarted = Date.now();
    const result = await scenario.run(settings);
    const summary = summarise(scenario, result);
    results[scenario.id] = { title: scenario.title, description: scenario.description, summary, rounds: result.rounds, notes: result.notes, seconds: Math.round((Date.now() - scenarioStarted) / 1000) };
    settings.log('\n' + table(scenario, summary));
    for (const note of result.notes) settings.log(note);
  }

  const targets = evaluateTargets(Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r.summary])));
  const report = {
    generatedAt: new Date().toISOString(),
    mode,
    settings: { rounds: settings.rounds, windowSeconds: settings.windowSeconds, servers: settings.servers, peersAlwaysPersist: settings.peersAlwaysPersist, oursEnv: settings.oursEnv, baseline: args.baseline ? baselineCommit(args.baseline) : null },
    machine: { ...info, diskSyncMs: diskSync, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    servers: SERVER_LABELS,
    scenarios: results,
    targets,
  };

  const targetLines = targets.map((t) => `| ${t.met === null ? '?' : t.met ? 'met' : 'NOT met'} | ${t.scenario} | ${t.target} | ${t.measured} |`);
  const markdown = [
    `# Benchmark results (${report.mode} run, ${report.generatedAt})`,
    '',
    `Machine: ${info.nproc} cores, ${info.cpuModel}; node ${info.node}; ${info.kernel}; load average ${info.loadAverageAtStart.join(' ')} at start, ${report.machine.loadAverageAtEnd.join(' ')} at end. Server code at ${info.commit}${info.dirty ? ' (with uncommitted changes)' : ''}.`,
    '',
    `Disk: a 4 KB write made durable (fdatasync) took p50 ${diskSync.p50} ms, p99 ${diskSync.p99} ms, max ${diskSync.max} ms (300 tries at the start). This server commits every edit that durably before relaying it; the peers persist nothing.`,
    '',
    '```',
    '$ free -g',
    info.free,
    '```',
    '',
    ...(args.baseline ? [`"${SERVER_LABELS.baseline}" is this server built from ${report.settings.baseline} (the same settings), run in the same rounds to measure a change.`, ''] : []),
    ...(Object.keys(settings.oursEnv).length > 0 ? [`This server ran with ${Object.entries(settings.oursEnv).map(([key, value]) => `\`${key}=${value}\``).join(', ')}.`, ''] : []),
    `${settings.rounds} round(s) per scenario, servers interleaved within each round; ${settings.windowSeconds} s measurement windows. Values are medians over rounds; (N×) is the median of the per-round ratios to the raw relay of the same round. Took ${report.durationSeconds} s.`,
    '',
    '## Targets',
    '',
    '| | scenario | target | measured |',
    '|---|---|---|---|',
    ...targetLines,
    '',
    ...Object.entries(results).flatMap(([id, r]) => [
      `## ${r.title} (\`${id}\`)`,
      '',
      r.description,
      '',
      table(SCENARIOS.find((s) => s.id === id)!, r.summary),
      '',
      ...r.notes.flatMap((note) => [`- ${note}`]),
      ...(r.notes.length > 0 ? [''] : []),
    ]),
  ].join('\n');

  settings.log('\n## Targets\n' + targetLines.join('\n'));
  settings.log('\nJSON:\n' + JSON.stringify({ machine: report.machine, targets, summary: Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r.summary])) }));
  if (args.save) {
    const dir = path.join(ROOT, 'bench/results');
    fs.mkdirSync(dir, { recursive: true });
    const stamp = report.generatedAt.replace(/[:T]/g, '-').slice(0, 19);
    const base = path.join(dir, `${report.mode}-${stamp}`);
    fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(`${base}.md`, markdown + '\n');
    settings.log(`\nsaved ${path.relative(ROOT, base)}.json and .md`);
  }
  fs.rmSync(path.join(WORK_DIR, 'data'), { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
