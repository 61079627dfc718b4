import type { FileStore } from './file-store.js';
import type { VersionStore } from './version-store.js';
import type { WebhookStore } from './webhook-store.js';

/**
 * The document was deleted (DocumentStore.delete): it loads, catches up and appends no more until
 * it is created again explicitly. Stale clients reconnecting must not bring it back.
 */
export class DocumentDeletedError extends Error {
  override name = 'DocumentDeletedError';
  constructor(readonly document: string) {
    super('document deleted');
  }
}

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
  /** The webhook outbox and change marks, in the same database (webhook-store.ts). */
  readonly webhooks?: WebhookStore;
  /** Files (images) uploaded into documents, in the same database; deleted with their document (file-store.ts). */
  readonly files?: FileStore;
  /** Version history (version-store.ts), in the same database; deleted with their document. */
  readonly versions?: VersionStore;
  /**
   * Loads the snapshot and all later rows. A document that does not exist loads empty; a deleted
   * one throws DocumentDeletedError (so does readSince; append rejects with it).
   */
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
  /** Creates the document if it does not exist (or was deleted: that is undone); resolves true if it was created. */
  create(name: string, title: string): Promise<boolean>;
  info(name: string): Promise<DocumentInfo | null>;
  /**
   * Most recently edited first. With `patterns` (document patterns of a token, `*` for any run of
   * characters), only the documents they grant: matched in the query through an index on the
   * name, so documents outside the patterns never take the place of granted ones.
   */
  list(limit: number, patterns?: readonly string[]): Promise<DocumentInfo[]>;
  setTitle(name: string, title: string): Promise<boolean>;
  /**
   * Stores the plain text of an existing document for search (what `search` matches besides the
   * title); resolves false if there is no such document.
   */
  setText(name: string, text: string): Promise<boolean>;
  /**
   * Documents whose title or text contain every word of `query` (words are letters and digits;
   * the last may be a prefix), best matches first, at most `limit`; with `patterns`, only the
   * documents they grant (as `list`). Served by a full-text index (SQLite FTS5, PostgreSQL GIN).
   */
  search(query: string, limit: number, patterns?: readonly string[]): Promise<DocumentInfo[]>;
  /**
   * Deletes the document, its history (log, snapshot, title, text, versions) and its files for good; resolves true if
   * it existed. The name stays reserved: loading it throws DocumentDeletedError and appends are
   * refused, so a client still holding the document cannot bring it back, until `create`.
   */
  delete(name: string): Promise<boolean>;
  /** Throws if the backend cannot serve requests. */
  check(): Promise<void>;
  close(): Promise<void>;
}
