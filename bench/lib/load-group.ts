import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Histogram, type LatencySummary } from './histogram.js';
import type { ConnectionPlan, ConnectionReport, LoadCommand, LoadEvent, SeqRanges } from './load-protocol.js';
import { ROOT } from './servers.js';

const LOAD_CLIENT = path.join(ROOT, 'dist/bench/clients/load.js');

type EventOf<E extends LoadEvent['event']> = Extract<LoadEvent, { event: E }>;

class LoadProcess {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (event: LoadEvent) => void>();
  private exitError: Error | null = null;
  readonly ready: Promise<void>;
  readonly pid: number;

  constructor() {
    // BENCH_CLIENT_PROF=<dir> profiles the load clients themselves (to keep them cheap).
    const prof = process.env.BENCH_CLIENT_PROF;
    this.child = fork(LOAD_CLIENT, [], { execArgv: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.pid = this.child.pid!;
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
  private readonly plans: ConnectionPlan[];
  /** Plans dealt so far (the next one goes to process dealt % processes). */
  private dealt = 0;
  private sentEdits: Record<number, number> = {};
  private sentCursors: Record<number, number> = {};
  private openMs = 0;
  private openFailures = 0;
  private openErrors: string[] = [];

  /** Without plans (a ramp adds them later with add()), `processCount` processes start. */
  constructor(plans: ConnectionPlan[], processCount: number) {
    const count = plans.length === 0 ? processCount : Math.max(1, Math.min(processCount, plans.length));
    this.processes = Array.from({ length: count }, () => new LoadProcess());
    this.assignment = Array.from({ length: count }, () => []);
    this.plans = [];
    this.deal(plans);
  }

  /** The load processes' ids, to measure their own CPU. */
  get pids(): number[] {
    return this.processes.map((p) => p.pid);
  }

  private deal(plans: ConnectionPlan[]): ConnectionPlan[][] {
    const dealt: ConnectionPlan[][] = this.processes.map(() => []);
    for (const plan of plans) {
      const index = this.dealt++ % this.processes.length;
      this.assignment[index]!.push(plan);
      dealt[index]!.push(plan);
    }
    this.plans.push(...plans);
    return dealt;
  }

  /**
   * Opens more connections while the others keep going (after start(), they start writing as soon
   * as they are open); resolves when every one of them finished its handshake or failed.
   */
  async add(plans: ConnectionPlan[], concurrency: number): Promise<{ openMs: number; failures: number; errors: string[] }> {
    await Promise.all(this.processes.map((p) => p.ready));
    const dealt = this.deal(plans);
    const per = Math.max(1, Math.ceil(concurrency / this.processes.length));
    const opened = await Promise.all(
      this.processes.map((p, i) => {
        if (dealt[i]!.length === 0) return { openMs: 0, failures: 0, errors: [] };
        const done = p.next('opened', 300_000);
        p.command({ cmd: 'open', connections: dealt[i]!, concurrency: per });
        return done;
      }),
    );
    return { openMs: Math.max(...opened.map((o) => o.openMs)), failures: opened.reduce((sum, o) => sum + o.failures, 0), errors: opened.flatMap((o) => o.errors) };
  }

  /** The edits every writer has sent so far; `reset` starts new latency histograms and frame counts. */
  async mark(reset: boolean): Promise<Record<number, number>> {
    const marked = await Promise.all(
      this.processes.map((p) => {
        const done = p.next('marked');
        p.command({ cmd: 'mark', reset });
        return done;
      }),
    );
    return Object.assign({}, ...marked.map((m) => m.edits)) as Record<number, number>;
  }

  /**
   * Whether the edits of `ranges` reached every other client of their rooms, and the latencies and
   * frames measured since the last mark(true).
   */
  async check(ranges: SeqRanges): Promise<{ expected: number; missing: number; editLatency: LatencySummary | null; cursorLatency: LatencySummary | null; framesToClients: number; unexpectedCloses: number; errors: string[] }> {
    const writersByDoc: Record<string, number[]> = {};
    for (const plan of this.plans) if (plan.writerId !== null) (writersByDoc[plan.doc] ??= []).push(plan.writerId);
    const checked = await Promise.all(
      this.processes.map((p) => {
        const done = p.next('checked');
        p.command({ cmd: 'check', ranges, writersByDoc });
        return done;
      }),
    );
    const edits = new Histogram();
    const cursors = new Histogram();
    for (const c of checked) {
      edits.merge(c.editLatency);
      cursors.merge(c.cursorLatency);
    }
    return {
      expected: checked.reduce((sum, c) => sum + c.expected, 0),
      missing: checked.reduce((sum, c) => sum + c.missing, 0),
      editLatency: edits.summary(),
      cursorLatency: cursors.summary(),
      framesToClients: checked.reduce((sum, c) => sum + c.framesIn, 0),
      unexpectedCloses: checked.reduce((sum, c) => sum + c.unexpectedCloses, 0),
      errors: checked.flatMap((c) => c.errors).slice(0, 10),
    };
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
