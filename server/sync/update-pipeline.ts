import * as Y from 'yjs';
import { TokenBucket } from '../limits/token-bucket.js';

export interface PipelineHooks<Origin, Commit> {
  /** Durably stores one merged update; what it returns (e.g. the sequence number) goes to `committed`. */
  commit(update: Uint8Array): Promise<Commit>;
  /** Runs after the commit, with what it returned and the origins whose updates the batch holds. */
  committed(update: Uint8Array, commit: Commit, origins: ReadonlySet<Origin>): void;
  /** A commit failed; the batch is kept and retried after `retryInMs`. */
  failed(error: unknown, retryInMs: number): void;
  /**
   * Paces commits to at most one per this many ms on average (default 0: each starts as soon as the
   * previous one is done); short bursts of up to PACING_BURST commits pass unpaced. Updates arriving
   * while a commit waits join its batch.
   */
  minSpacingMs?(): number;
}

/** Commits that may follow each other without waiting when pacing is on (see minSpacingMs). */
const PACING_BURST = 5;

const MAX_RETRY_MS = 5_000;

/**
 * Merges updates pairwise, in rounds. Y.mergeUpdates re-sorts all of its inputs for every struct
 * it emits, so one call over n updates costs O(n² log n); merging pairs costs O(size · log n).
 */
export function mergeUpdatesBalanced(updates: readonly Uint8Array[]): Uint8Array {
  let round = updates.slice();
  while (round.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < round.length; i += 2) next.push(i + 1 < round.length ? Y.mergeUpdates([round[i]!, round[i + 1]!]) : round[i]!);
    round = next;
  }
  return round[0] ?? new Uint8Array([0, 0]);
}

/**
 * Batches the updates of one tick into a single commit, one commit at a time, in order.
 * Nothing is released (`committed`) before its commit resolved: persist before relay.
 */
export class UpdatePipeline<Origin = unknown, Commit = number> {
  private pending: Uint8Array[] = [];
  private pendingOrigins = new Set<Origin>();
  private running = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = 50;
  private waiters: Array<() => void> = [];
  private watermarkWaiters: Array<{ target: number; resolve: () => void }> = [];
  private pushedCount = 0;
  private committedCount = 0;
  private stopped = false;
  /** The document is gone: nothing more is committed, and nothing waits for it. */
  private discarded = false;
  /** The pacing: commits that may start now, refilled one per minSpacingMs (its rate follows it). */
  private readonly pacing = new TokenBucket(1, PACING_BURST);
  private spacingTimer: NodeJS.Timeout | null = null;

  constructor(private readonly hooks: PipelineHooks<Origin, Commit>) {}

  /** True when nothing is waiting to be committed. */
  get idle(): boolean {
    return !this.running && this.pending.length === 0;
  }

  push(update: Uint8Array, origin: Origin): void {
    if (this.discarded) return;
    this.pushedCount++;
    this.pending.push(update);
    this.pendingOrigins.add(origin);
    this.schedule();
  }

  /** Resolves once everything pushed so far is committed (immediately when idle). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Resolves once everything pushed before this call is committed, even if more keeps arriving
   * (whenIdle could wait forever under continuous load).
   */
  whenCommitted(): Promise<void> {
    if (this.committedCount >= this.pushedCount) return Promise.resolve();
    const target = this.pushedCount;
    return new Promise((resolve) => this.watermarkWaiters.push({ target, resolve }));
  }

  /** Stops retry and spacing timers; pending updates stay uncommitted (used when storage is gone for good). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.spacingTimer) clearTimeout(this.spacingTimer);
    this.spacingTimer = null;
  }

  /**
   * The document was deleted: drops what waits to be committed, stops, and releases everyone
   * waiting (they must check why: nothing of it was committed). A commit in flight finishes or
   * fails without being retried.
   */
  discard(): void {
    this.discarded = true;
    this.stop();
    this.pending = [];
    this.pendingOrigins = new Set();
    this.committedCount = this.pushedCount;
    this.releaseWatermarkWaiters();
    if (!this.running) this.releaseWaiters();
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.retryTimer || this.stopped) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      this.spacingTimer = null;
      void this.run();
    };
    const wait = this.pacingWait();
    // setImmediate runs after this poll phase: every frame that arrived together lands in one commit.
    if (wait < 1) setImmediate(start);
    else this.spacingTimer = setTimeout(start, wait);
  }

  /** Milliseconds until the pacing allows the next commit (0 without pacing). */
  private pacingWait(): number {
    const spacing = this.hooks.minSpacingMs?.() ?? 0;
    if (spacing <= 0) return 0;
    this.pacing.setRate(1000 / spacing);
    return this.pacing.msUntil(1);
  }

  private takePacingToken(): void {
    const spacing = this.hooks.minSpacingMs?.() ?? 0;
    if (spacing <= 0) return;
    this.pacing.setRate(1000 / spacing);
    // A commit started without a token (a retry) does not delay the ones after it.
    this.pacing.takeAtMost(1);
  }

  private async run(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    this.running = true;
    this.takePacingToken();
    const batch = this.pending;
    const origins = this.pendingOrigins;
    const batchEnd = this.pushedCount;
    this.pending = [];
    this.pendingOrigins = new Set();
    const merged = mergeUpdatesBalanced(batch);
    try {
      const commit = await this.hooks.commit(merged);
      this.retryMs = 50;
      this.running = false;
      this.committedCount = batchEnd;
      this.hooks.committed(merged, commit, origins);
      this.releaseWatermarkWaiters();
    } catch (error) {
      if (this.discarded) {
        this.running = false;
        this.releaseWaiters();
        return;
      }
      // Keep the batch in front of whatever arrived meanwhile and try again later.
      this.pending = [merged, ...this.pending];
      for (const origin of this.pendingOrigins) origins.add(origin);
      this.pendingOrigins = origins;
      this.running = false;
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.hooks.failed(error, wait);
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.run();
        }, wait);
      }
      return;
    }
    if (this.pending.length > 0) this.schedule();
    else this.releaseWaiters();
  }

  private releaseWatermarkWaiters(): void {
    if (this.watermarkWaiters.length === 0) return;
    const due = this.watermarkWaiters.filter((waiter) => waiter.target <= this.committedCount);
    this.watermarkWaiters = this.watermarkWaiters.filter((waiter) => waiter.target > this.committedCount);
    for (const waiter of due) waiter.resolve();
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
