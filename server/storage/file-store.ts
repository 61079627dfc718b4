/**
 * The files part of the storage contract: images uploaded into documents, kept in the same
 * database as the documents (one backup holds everything). Files belong to one document and go
 * with it: `DocumentStore.delete` removes them in the transaction that deletes the document, and
 * `put` refuses a document that does not exist (or was deleted), in the transaction that inserts.
 * Every backend passes tests/integration/storage-files-contract.ts.
 */

export interface NewFile {
  document: string;
  /** SHA-256 of the bytes, base64url (shared/images.ts FILE_ID): the same bytes are one file. */
  id: string;
  /** The media type found in the bytes (never the one declared). */
  type: string;
  width: number;
  height: number;
  bytes: Uint8Array;
}

export interface FileInfo {
  document: string;
  id: string;
  type: string;
  size: number;
  width: number;
  height: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /**
   * Since when no sweep has found the file referenced by its document's content (set at upload:
   * nothing references a file yet); null while it is referenced.
   */
  unreferencedSince: number | null;
}

export interface StoredFile extends FileInfo {
  bytes: Uint8Array;
}

export interface FileSweepResult {
  /** Files deleted: unreferenced for longer than the grace period. */
  deleted: string[];
  /** Files kept although unreferenced (still within the grace period). */
  pending: number;
}

export interface FileStore {
  /**
   * Stores a file of an existing document at `now`. Resolves with its info (`created` false when
   * the document already had these bytes: an unreferenced one then starts its grace period
   * again, since someone is about to use it), or null when there is no such document.
   */
  put(file: NewFile, now: number): Promise<{ info: FileInfo; created: boolean } | null>;
  /** The file with its bytes, or null. */
  get(document: string, id: string): Promise<StoredFile | null>;
  /** A document's files (no bytes), oldest first. */
  list(document: string): Promise<FileInfo[]>;
  /** Names of documents that have files, in name order after `after`, at most `limit`: the sweep's walk. */
  documentsWithFiles(after: string, limit: number): Promise<string[]>;
  /**
   * The cleanup of one document's files, in one transaction: files in `referenced` are marked
   * referenced; others are marked unreferenced since `now` unless they already are, and deleted
   * if they have been unreferenced since `deleteUnreferencedBefore` or earlier.
   */
  sweep(document: string, referenced: ReadonlySet<string>, now: number, deleteUnreferencedBefore: number): Promise<FileSweepResult>;
}
