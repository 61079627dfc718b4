import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import type { DocumentStore } from '../storage/types.js';

const TITLE_REFRESH_MS = 2_000;
/**
 * The search text is stored this long after the first edit since it was last stored (and at every
 * compaction, and when the room unloads). Extracting and indexing it costs about a millisecond per
 * 10,000 characters (bench/content.ts), so a document edited nonstop costs a small fraction of a
 * core for its index, and search lags edits by at most this much.
 */
const TEXT_REFRESH_MS = 10_000;

/**
 * Folding the log costs a re-encode of the whole document (about 25–70 ms on the event loop for an
 * 860 KB document of 100,000 items here), while a row left in the log costs its share of a load
 * (tens of microseconds for a keystroke). So a document is folded once its log holds
 * `compactAfterRows` rows AND a quarter of its snapshot's bytes: a small document folds every
 * `compactAfterRows` rows as before; a large one typed into a keystroke at a time folds about 15×
 * less often. Past `MAX_ROWS_FACTOR` × `compactAfterRows` rows it folds regardless, which bounds
 * the load's row count.
 */
const LOG_SHARE_OF_SNAPSHOT = 0.25;
const MAX_ROWS_FACTOR = 10;

/** The update log as a room finds it at load. */
export interface LogSize {
  rows: number;
  bytes: number;
  /** Bytes of the snapshot the rows follow (0 when never compacted). */
  snapshotBytes: number;
}

export interface RoomUpkeepOptions {
  name: string;
  store: Pick<DocumentStore, 'compact' | 'setTitle' | 'setText'>;
  metrics: SyncMetrics;
  logger: Logger;
  compactAfterRows: number;
  /** The document's title as it reads now. */
  title(): string;
  /** The document's plain text for the search index. */
  text(): string;
  /** The whole document as one update (without content Yjs holds back), and the seq it contains. */
  snapshot(): { update: Uint8Array; seq: number };
  /** Resolves when nothing is waiting to be committed or caught up; compaction waits for it. */
  settled(): Promise<unknown>;
  /** False while the document must not be folded (e.g. a catch-up is running). */
  mayCompact(): boolean;
}

/**
 * What a room does besides syncing: folds its update log into a snapshot once it has
 * `compactAfterRows` rows, and stores its derived title a little after edits. Neither ever throws
 * into the room: failures are logged and tried again at the next occasion.
 */
export class RoomUpkeep {
  private rowsSinceCompaction: number;
  private bytesSinceCompaction: number;
  private snapshotBytes: number;
  private compacting: Promise<void> | null = null;
  private titleTimer: NodeJS.Timeout | null = null;
  private textTimer: NodeJS.Timeout | null = null;
  /** Committed changes whose text is not in the search index yet (the text itself is not kept: it can be large). */
  private textDirty = false;
  private savedTitle = '';
  private stopped = false;

  constructor(
    log: LogSize,
    private readonly options: RoomUpkeepOptions,
  ) {
    this.rowsSinceCompaction = log.rows;
    this.bytesSinceCompaction = log.bytes;
    this.snapshotBytes = log.snapshotBytes;
    this.savedTitle = this.readTitle();
  }

  /** Resolves when a running compaction is done. */
  get settled(): Promise<void> {
    return this.compacting ?? Promise.resolve();
  }

  /** A row of `bytes` was appended to the log: compacts when due, refreshes the title soon. */
  committed(bytes: number): void {
    if (this.stopped) return;
    this.rowsSinceCompaction++;
    this.bytesSinceCompaction += bytes;
    if (this.compactionDue() && !this.compacting) {
      setImmediate(() => {
        if (!this.stopped) void this.compact();
      });
    }
    if (!this.titleTimer) {
      this.titleTimer = setTimeout(() => void this.saveTitle(), TITLE_REFRESH_MS);
      this.titleTimer.unref();
    }
    this.textDirty = true;
    if (!this.textTimer) {
      this.textTimer = setTimeout(() => void this.saveText(), TEXT_REFRESH_MS);
      this.textTimer.unref();
    }
  }

  private compactionDue(): boolean {
    const rows = this.rowsSinceCompaction;
    const { compactAfterRows } = this.options;
    if (rows < compactAfterRows) return false;
    return this.bytesSinceCompaction >= this.snapshotBytes * LOG_SHARE_OF_SNAPSHOT || rows >= compactAfterRows * MAX_ROWS_FACTOR;
  }

  /** Stores the plain text for search now if it changed since it was last stored. */
  async saveText(): Promise<void> {
    if (this.textTimer) clearTimeout(this.textTimer);
    this.textTimer = null;
    if (this.stopped || !this.textDirty) return;
    this.textDirty = false;
    try {
      await this.options.store.setText(this.options.name, this.options.text());
    } catch (error) {
      this.textDirty = true;
      this.options.logger.warn({ err: error, document: this.options.name }, 'saving the search text failed');
    }
  }

  /** Folds the update log into a snapshot now (if there is anything to fold). */
  async compact(): Promise<void> {
    await this.options.settled();
    if (this.compacting) return this.compacting;
    if (this.stopped || !this.options.mayCompact()) return;
    if (this.rowsSinceCompaction === 0) return this.saveText();
    const { update, seq } = this.options.snapshot();
    const rows = this.rowsSinceCompaction;
    const bytes = this.bytesSinceCompaction;
    this.compacting = this.options.store
      .compact(this.options.name, update, seq)
      .then(() => {
        this.rowsSinceCompaction = Math.max(0, this.rowsSinceCompaction - rows);
        this.bytesSinceCompaction = Math.max(0, this.bytesSinceCompaction - bytes);
        this.snapshotBytes = update.byteLength;
        this.options.metrics.compactions.inc();
      })
      .then(() => this.saveText())
      .catch((error: unknown) => this.options.logger.error({ err: error, document: this.options.name }, 'compaction failed'))
      .finally(() => {
        this.compacting = null;
      });
    return this.compacting;
  }

  /** Stores the derived title now if it changed. */
  async saveTitle(): Promise<void> {
    if (this.titleTimer) clearTimeout(this.titleTimer);
    this.titleTimer = null;
    if (this.stopped) return;
    const title = this.readTitle();
    if (title === this.savedTitle) return;
    this.savedTitle = title;
    try {
      await this.options.store.setTitle(this.options.name, title);
    } catch (error) {
      this.options.logger.warn({ err: error, document: this.options.name }, 'saving the title failed');
    }
  }

  /** Nothing more is compacted or saved (the room is going, or its document can't be trusted). */
  stop(): void {
    this.stopped = true;
    if (this.titleTimer) clearTimeout(this.titleTimer);
    this.titleTimer = null;
    if (this.textTimer) clearTimeout(this.textTimer);
    this.textTimer = null;
  }

  private readTitle(): string {
    try {
      return this.options.title();
    } catch (error) {
      this.options.logger.warn({ err: error, document: this.options.name }, 'reading the title failed');
      return this.savedTitle;
    }
  }
}
