/** What storage returns for a document when a room loads it. */
export interface StoredDocument {
  /** Compacted state (a Yjs update), or null if the document was never compacted. */
  snapshot: Uint8Array | null;
  /** Log rows after the snapshot, in commit order. */
  updates: Uint8Array[];
  /** Sequence number of the last row included; 0 for a new document. */
  seq: number;
}

export interface LoggedUpdate {
  seq: number;
  update: Uint8Array;
}

export interface DocumentInfo {
  name: string;
  title: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * Durable per-document storage: an append-only update log plus a compacted snapshot.
 * Every backend passes the same suite (tests/integration/storage-contract.ts).
 */
export interface DocumentStore {
  readonly kind: string;
  /** Loads the snapshot and all later rows. A document that does not exist loads empty. */
  load(name: string): Promise<StoredDocument>;
  /**
   * Appends one update and resolves with its sequence number once it is durably committed.
   * Sequence numbers are gap-free per document and follow commit order.
   */
  append(name: string, update: Uint8Array): Promise<number>;
  /** Rows with seq > afterSeq, for catching up; if compaction removed some, a snapshot is returned instead. */
  readSince(name: string, afterSeq: number): Promise<{ snapshot: Uint8Array | null; updates: LoggedUpdate[]; seq: number }>;
  /**
   * Replaces the log rows up to `uptoSeq` by `snapshot`, which must contain every row ≤ uptoSeq.
   * A no-op if a snapshot at least that recent exists, so concurrent compactions are safe.
   */
  compact(name: string, snapshot: Uint8Array, uptoSeq: number): Promise<void>;
  /** Number of log rows not yet folded into the snapshot. */
  logLength(name: string): Promise<number>;
  /** Creates the document if it does not exist; resolves true if it was created. */
  create(name: string, title: string): Promise<boolean>;
  info(name: string): Promise<DocumentInfo | null>;
  /**
   * Most recently edited first. With `patterns` (document patterns of a token, `*` for any run of
   * characters), only the documents they grant: matched in the query through an index on the
   * name, so documents outside the patterns never take the place of granted ones.
   */
  list(limit: number, patterns?: readonly string[]): Promise<DocumentInfo[]>;
  setTitle(name: string, title: string): Promise<boolean>;
  /** Throws if the backend cannot serve requests. */
  check(): Promise<void>;
  close(): Promise<void>;
}
