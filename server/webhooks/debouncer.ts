import { MAX_EDITORS } from './payload.js';

/** The changes of one document since its last document.updated, as this instance saw them. */
export interface Batch {
  document: string;
  firstAt: number;
  lastAt: number;
  editors: Set<string>;
}

export interface DebouncerOptions {
  /** Quiet time after the last change before the batch goes. */
  debounceMs: number;
  /** Time after the first change at which the batch goes however busy the document is. */
  maxWaitMs: number;
  /** Called once per batch, when it is due. */
  due(batch: Batch): void;
  now?: () => number;
}

/**
 * Trailing debounce per document, bounded by a maximum wait. A change costs a map lookup and two
 * assignments: the batch's one timer is not reset per change; when it fires early it is set again
 * for the batch's current due time (at most once per debounce interval).
 */
export class Debouncer {
  private readonly batches = new Map<string, { batch: Batch; timer: NodeJS.Timeout }>();
  private readonly now: () => number;

  constructor(private readonly options: DebouncerOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.batches.size;
  }

  has(document: string): boolean {
    return this.batches.has(document);
  }

  /** A change of `document` by `editors`. */
  touch(document: string, editors: Iterable<string>): void {
    const now = this.now();
    let entry = this.batches.get(document);
    if (!entry) {
      const batch: Batch = { document, firstAt: now, lastAt: now, editors: new Set() };
      entry = { batch, timer: this.schedule(batch) };
      this.batches.set(document, entry);
    }
    entry.batch.lastAt = now;
    for (const editor of editors) if (entry.batch.editors.size < MAX_EDITORS) entry.batch.editors.add(editor);
  }

  /** Forgets a document's batch (e.g. it was deleted) and returns it. */
  cancel(document: string): Batch | undefined {
    const entry = this.batches.get(document);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.batches.delete(document);
    return entry.batch;
  }

  /** Every pending batch, now (e.g. at shutdown); none is left. */
  takeAll(): Batch[] {
    return [...this.batches.keys()].map((document) => this.cancel(document)!);
  }

  private dueAt(batch: Batch): number {
    return Math.min(batch.lastAt + this.options.debounceMs, batch.firstAt + this.options.maxWaitMs);
  }

  private schedule(batch: Batch): NodeJS.Timeout {
    const timer = setTimeout(() => this.fire(batch), Math.max(0, this.dueAt(batch) - this.now()));
    timer.unref();
    return timer;
  }

  private fire(batch: Batch): void {
    const entry = this.batches.get(batch.document);
    if (!entry || entry.batch !== batch) return;
    if (this.dueAt(batch) > this.now()) {
      entry.timer = this.schedule(batch);
      return;
    }
    this.batches.delete(batch.document);
    this.options.due(batch);
  }
}
