import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import { DocumentDeletedError, type DocumentStore } from '../storage/types.js';

/** How long an out-of-order committed update waits for the ones before it before storage is asked. */
const GAP_WAIT_MS = 150;
/** More updates than this waiting for a gap to fill: stop waiting and read storage. */
const MAX_AHEAD = 1_000;

export interface CommittedOrderOptions {
  name: string;
  store: Pick<DocumentStore, 'readSince'>;
  metrics: SyncMetrics;
  logger: Logger;
  /** Applies committed updates (or a snapshot and updates, from storage) to the document, in order. */
  apply(updates: readonly Uint8Array[]): void;
  /** Storage says the document was deleted (e.g. on another instance, with the message about it lost). */
  deleted?(): void;
}

/**
 * Puts committed updates into a room's document in sequence-number order. Relay messages from
 * several instances may arrive out of order or not at all: one that is ahead of the document is
 * held until the ones before it arrive; a gap that stays open GAP_WAIT_MS (or more than MAX_AHEAD
 * held) is filled from storage.
 */
export class CommittedOrder {
  /** Every log row up to this sequence number is in the document. */
  private seq: number;
  /** Committed updates with seq > this.seq + 1; null marks a local commit (already in the document). */
  private readonly ahead = new Map<number, Uint8Array | null>();
  private gapTimer: NodeJS.Timeout | null = null;
  private catchingUp: Promise<number> | null = null;
  private stopped = false;

  constructor(
    seq: number,
    private readonly options: CommittedOrderOptions,
  ) {
    this.seq = seq;
  }

  get committedSeq(): number {
    return this.seq;
  }

  /** Resolves when a running catch-up is done. */
  get settled(): Promise<unknown> {
    return this.catchingUp ?? Promise.resolve();
  }

  get isCatchingUp(): boolean {
    return this.catchingUp !== null;
  }

  /** An update committed by another instance. */
  received(update: Uint8Array, seq: number): void {
    if (this.stopped || seq <= this.seq) return;
    this.ahead.set(seq, update);
    this.advance();
  }

  /** An update this instance committed (it is in the document already). */
  committedHere(seq: number): void {
    if (this.stopped || seq <= this.seq) return;
    this.ahead.set(seq, null);
    this.advance();
  }

  /** Reads everything committed after what the document has; resolves with the rows (or snapshots) applied. */
  catchUp(): Promise<number> {
    if (this.catchingUp) return this.catchingUp.then(() => 0);
    const running = this.readFromStorage().finally(() => {
      this.catchingUp = null;
      if (!this.stopped) this.advance();
    });
    this.catchingUp = running;
    return running;
  }

  stop(): void {
    this.stopped = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.ahead.clear();
  }

  private async readFromStorage(): Promise<number> {
    const { store, name, metrics, logger } = this.options;
    try {
      const since = await store.readSince(name, this.seq);
      if (this.stopped || since.seq <= this.seq) return 0;
      const rows = since.updates.filter((row) => row.seq > this.seq).map((row) => row.update);
      this.options.apply(since.snapshot ? [since.snapshot, ...rows] : rows);
      this.seq = since.seq;
      const applied = rows.length + (since.snapshot ? 1 : 0);
      metrics.catchUpRows.inc(applied);
      return applied;
    } catch (error) {
      if (error instanceof DocumentDeletedError) {
        this.options.deleted?.();
        return 0;
      }
      logger.error({ err: error, document: name }, 'catching up from storage failed');
      return 0;
    }
  }

  /** Applies held updates that are next in sequence; schedules a catch-up for a gap that stays open. */
  private advance(): void {
    if (this.catchingUp) return;
    const next: Uint8Array[] = [];
    for (let held = this.ahead.get(this.seq + 1); held !== undefined; held = this.ahead.get(this.seq + 1)) {
      this.ahead.delete(this.seq + 1);
      if (held) next.push(held);
      this.seq++;
    }
    if (next.length > 0) this.options.apply(next);
    for (const seq of this.ahead.keys()) if (seq <= this.seq) this.ahead.delete(seq);
    if (this.ahead.size === 0) {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.gapTimer = null;
    } else if (this.ahead.size > MAX_AHEAD) {
      void this.catchUp();
    } else if (!this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (!this.stopped && this.ahead.size > 0) void this.catchUp();
      }, GAP_WAIT_MS);
      this.gapTimer.unref();
    }
  }
}
