import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TaskResult } from './connect.js';
import { WORK_DIR } from './fixtures.js';
import { cpuSeconds } from './proc.js';
import { isOurs, launch, ROOT, type LaunchOptions, type RunningServer, type ServerKind } from './servers.js';

export type Metrics = Record<string, number | null>;

export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  /** Also shown as a ratio to the raw relay of the same round. */
  ratio?: boolean;
  digits?: number;
}

export interface RunSettings {
  quick: boolean;
  rounds: number;
  /** Seconds of steady load in the measurement window of load scenarios. */
  windowSeconds: number;
  servers: readonly ServerKind[];
  /** Peers persist in every scenario instead of only where persistence is measured. */
  peersAlwaysPersist: boolean;
  /** Extra environment for this project's server. */
  oursEnv: Record<string, string>;
  /** Node flags for this project's server (e.g. --cpu-prof). */
  oursNodeArgs: string[];
  /** The dist directory of a baseline build of this server (server kind `baseline`), if any. */
  baselineDist: string | null;
  log(line: string): void;
}

/** One round: the metrics of each server that took part. */
export type Round = Partial<Record<ServerKind, Metrics>>;

export interface ScenarioResult {
  rounds: Round[];
  /** Lines for the report below the scenario's table (e.g. each ramp's steps). */
  notes: string[];
}

export interface Scenario {
  id: string;
  title: string;
  /** What it does and what it measures, for the report. */
  description: string;
  /** Which servers take part (the raw relay only where it can: it stores nothing). */
  servers: readonly ServerKind[];
  metrics: MetricSpec[];
  run(settings: RunSettings): Promise<ScenarioResult>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let trialCounter = 0;
/** A fresh directory under bench/.work for one server's data. */
export function freshDataDir(label: string): string {
  const dir = path.join(WORK_DIR, 'data', `${process.pid}-${++trialCounter}-${label}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeDataDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Launches a server with the run's settings applied (`env`: this server's environment for the scenario, under the run's --ours-env). */
export function launchFor(settings: RunSettings, options: Omit<LaunchOptions, 'nodeArgs'>): Promise<RunningServer> {
  return launch({
    ...options,
    persist: options.persist || (settings.peersAlwaysPersist && options.kind !== 'raw'),
    env: { ...options.env, ...settings.oursEnv },
    nodeArgs: isOurs(options.kind) ? settings.oursNodeArgs : [],
    baselineDist: settings.baselineDist ?? undefined,
  });
}

/** Runs one single-purpose client process (bench/clients/<script>.js) with `input`. */
export function runTask(script: string, input: unknown, timeoutMs = 180_000, watch?: RunningServer): Promise<TaskResult> & { child: ReturnType<typeof fork> } {
  const child = fork(path.join(ROOT, 'dist/bench/clients', script), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<TaskResult>((resolve) => {
    // A server that dies under the client fails the task at once instead of at the timeout.
    watch?.child.once('exit', (code, signal) => {
      if (child.exitCode !== null) return;
      setTimeout(() => {
        child.kill('SIGKILL');
        resolve({ ok: false, error: `server exited (${code ?? signal}):\n${watch.output()}` });
      }, 3_000);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ ok: false, error: `${script} gave no result within ${timeoutMs} ms` });
    }, timeoutMs);
    child.once('message', (message: TaskResult) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `${script} exited with ${code}` });
    });
    child.send(input as object);
  });
  return Object.assign(result, { child });
}

/** Waits until a process has used under 2% of a core for 300 ms (its background writes are done). */
export async function waitForQuiet(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = cpuSeconds(pid);
  while (performance.now() < deadline) {
    await sleep(300);
    const now = cpuSeconds(pid);
    if (now - last < 0.006) return;
    last = now;
  }
}

/** `rounds` rounds, each running every server once in the same order: A B C A B C … */
export async function interleave(
  settings: RunSettings,
  servers: readonly ServerKind[],
  trial: (kind: ServerKind, round: number) => Promise<Metrics>,
): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const metrics: Round = {};
    for (const kind of servers) {
      if (!settings.servers.includes(kind)) continue;
      try {
        metrics[kind] = await trial(kind, round);
      } catch (error) {
        settings.log(`    ${kind}: FAILED ${error instanceof Error ? error.message : String(error)}`);
        metrics[kind] = { failed: 1 };
      }
    }
    rounds.push(metrics);
  }
  return rounds;
}

export const round2 = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
