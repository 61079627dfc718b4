import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Histogram, type LatencySummary } from './histogram.js';
import type { ConnectionPlan, ConnectionReport, LoadCommand, LoadEvent } from './load-protocol.js';
import { ROOT } from './servers.js';

const LOAD_CLIENT = path.join(ROOT, 'dist/bench/clients/load.js');

type EventOf<E extends LoadEvent['event']> = Extract<LoadEvent, { event: E }>;

class LoadProcess {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (event: LoadEvent) => void>();
  private exitError: Error | null = null;
  readonly ready: Promise<void>;

  constructor() {
    // BENCH_CLIENT_PROF=<dir> profiles the load clients themselves (to keep them cheap).
    const prof = process.env.BENCH_CLIENT_PROF;
    this.child = fork(LOAD_CLIENT, [], { execArgv: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (event: LoadEvent) => {
      const resolve = this.waiting.get(event.event);
      this.waiting.delete(event.event);
      resolve?.(event);
    });
    this.child.on('exit', (code) => {
      this.exitError = new Error(`load client exited with ${code}`);
      for (const resolve of this.waiting.values()) resolve({ event: 'opened', openMs: 0, failures: -1, errors: [this.exitError.message] });
      this.waiting.clear();
    });
    this.ready = this.next('ready').then(() => undefined);
  }

  next<E extends LoadEvent['event']>(event: E, timeoutMs = 120_000): Promise<EventOf<E>> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load client: no '${event}' within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(event, (received) => {
        clearTimeout(timer);
        if (received.event !== event) reject(this.exitError ?? new Error(`load client sent ${received.event}`));
        else resolve(received as EventOf<E>);
      });
    });
  }

  command(command: LoadCommand): void {
    if (this.child.connected) this.child.send(command);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.command({ cmd: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface LoadResult {
  openMs: number;
  openFailures: number;
  /** Edits that should have reached someone: each edit × the other clients of its room. */
  editsExpected: number;
  editsDelivered: number;
  editsLost: number;
  editLatency: LatencySummary | null;
  cursorLatency: LatencySummary | null;
  /** (client, other cursor owner in its room) pairs where the client's last view is not the latest. */
  staleCursors: number;
  cursorsSent: number;
  framesToClients: number;
  awarenessFramesToClients: number;
  bytesToClients: number;
  unexpectedCloses: number;
  errors: string[];
}

/**
 * Several load-client processes sharing one plan: connections are dealt round-robin so that
 * writers and readers spread over the processes.
 */
export class LoadGroup {
  private readonly processes: LoadProcess[];
  private readonly assignment: ConnectionPlan[][];
  private sentEdits: Record<number, number> = {};
  private sentCursors: Record<number, number> = {};
  private openMs = 0;
  private openFailures = 0;
  private openErrors: string[] = [];

  constructor(private readonly plans: ConnectionPlan[], processCount: number) {
    const count = Math.max(1, Math.min(processCount, plans.length));
    this.processes = Array.from({ length: count }, () => new LoadProcess());
    this.assignment = Array.from({ length: count }, () => []);
    plans.forEach((plan, index) => this.assignment[index % count]!.push(plan));
  }

  /** Opens every connection and waits for each handshake; returns the slowest process's time. */
  async open(concurrency: number): Promise<void> {
    await Promise.all(this.processes.map((p) => p.ready));
    const per = Math.max(1, Math.ceil(concurrency / this.processes.length));
    const opened = await Promise.all(
      this.processes.map((p, i) => {
        const done = p.next('opened');
        p.command({ cmd: 'open', connections: this.assignment[i]!, concurrency: per });
        return done;
      }),
    );
    this.openMs = Math.max(...opened.map((o) => o.openMs));
    this.openFailures = opened.reduce((sum, o) => sum + o.failures, 0);
    this.openErrors = opened.flatMap((o) => o.errors);
  }

  get opening(): { openMs: number; failures: number; errors: string[] } {
    return { openMs: this.openMs, failures: this.openFailures, errors: this.openErrors };
  }

  start(): void {
    for (const p of this.processes) p.command({ cmd: 'start' });
  }

  async stop(): Promise<void> {
    const stopped = await Promise.all(
      this.processes.map((p) => {
        const done = p.next('stopped');
        p.command({ cmd: 'stop' });
        return done;
      }),
    );
    for (const s of stopped) {
      Object.assign(this.sentEdits, s.edits);
      Object.assign(this.sentCursors, s.cursors);
    }
  }

  async report(): Promise<LoadResult> {
    const reports = await Promise.all(
      this.processes.map((p) => {
        const done = p.next('report');
        p.command({ cmd: 'report' });
        return done;
      }),
    );
    const edits = new Histogram();
    const cursors = new Histogram();
    const byConnection = new Map<ConnectionPlan, ConnectionReport>();
    reports.forEach((report, i) => {
      edits.merge(report.editLatency);
      cursors.merge(report.cursorLatency);
      report.connections.forEach((c, j) => byConnection.set(this.assignment[i]![j]!, c));
    });
    // Who writes and who moves a cursor in each room.
    const writersByDoc = new Map<string, number[]>();
    const cursorOwnersByDoc = new Map<string, number[]>();
    for (const plan of this.plans) {
      if (plan.writerId !== null) writersByDoc.set(plan.doc, [...(writersByDoc.get(plan.doc) ?? []), plan.writerId]);
      if (plan.cursorId !== null) cursorOwnersByDoc.set(plan.doc, [...(cursorOwnersByDoc.get(plan.doc) ?? []), plan.cursorId]);
    }
    let expected = 0;
    let delivered = 0;
    let stale = 0;
    for (const plan of this.plans) {
      const report = byConnection.get(plan);
      for (const writer of writersByDoc.get(plan.doc) ?? []) if (writer !== plan.writerId) expected += this.sentEdits[writer] ?? 0;
      delivered += report?.editsReceived ?? 0;
      for (const owner of cursorOwnersByDoc.get(plan.doc) ?? []) {
        if (owner === plan.cursorId) continue;
        const latest = this.sentCursors[owner] ?? 0;
        if (latest > 0 && (report?.cursors[owner] ?? 0) < latest) stale++;
      }
    }
    return {
      openMs: this.openMs,
      openFailures: this.openFailures,
      editsExpected: expected,
      editsDelivered: delivered,
      editsLost: expected - delivered,
      editLatency: edits.summary(),
      cursorLatency: cursors.summary(),
      staleCursors: stale,
      cursorsSent: Object.values(this.sentCursors).reduce((a, b) => a + b, 0),
      framesToClients: reports.reduce((sum, r) => sum + r.framesIn, 0),
      awarenessFramesToClients: reports.reduce((sum, r) => sum + r.awarenessFramesIn, 0),
      bytesToClients: reports.reduce((sum, r) => sum + r.bytesIn, 0),
      unexpectedCloses: reports.reduce((sum, r) => sum + r.unexpectedCloses, 0),
      errors: [...this.openErrors, ...reports.flatMap((r) => r.errors)].slice(0, 10),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.close()));
  }
}
