/**
 * The version part of the storage contract: saved states of a document (version history). Both
 * backends keep them in the same database as the documents, and DocumentStore.delete removes them
 * with their document. Every backend passes tests/integration/storage-versions-contract.ts.
 *
 * A version stores the document's content only (server/history/version-state.ts), not its update
 * log: its size follows the content, never the length of the history.
 */

/**
 * Why a version exists: recorded by the policy while people edit (`automatic`), saved by someone
 * (`manual`, usually with a label), or recorded just before a restore (`restore`), so that the
 * restore can itself be undone.
 */
export type VersionKind = 'automatic' | 'manual' | 'restore';

export interface VersionRecord {
  id: string;
  document: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Named versions have a label and are never thinned out by retention. */
  label: string | null;
  kind: VersionKind;
  /** Who edited since the previous version (token subjects, or display names on open servers). */
  authors: string[];
  /** Size of the stored state. */
  bytes: number;
  /** The document's committed sequence number the state covers. */
  seq: number;
}

export interface NewVersion {
  id: string;
  document: string;
  createdAt: number;
  label: string | null;
  kind: VersionKind;
  authors: readonly string[];
  seq: number;
  state: Uint8Array;
}

/** What `add` did: `added`, or, for an automatic version, why not. */
export type AddOutcome =
  | { status: 'added'; version: VersionRecord }
  /** A version of this document already covers this seq (another instance recorded it): the authors were merged into it. */
  | { status: 'covered'; version: VersionRecord }
  /** The newest version has exactly this content (edits since undid each other): nothing recorded. */
  | { status: 'unchanged'; version: VersionRecord }
  /** An automatic version was recorded less than `minSpacingMs` ago (by any instance): the authors were merged into it. */
  | { status: 'too-soon'; version: VersionRecord }
  /** No such document (or it was deleted). */
  | { status: 'no-document' };

/** Most authors kept per version (a document edited by a crowd lists the first ones). */
export const MAX_VERSION_AUTHORS = 50;

export interface VersionStore {
  /**
   * Stores a version if its document exists. An automatic one is stored only if no version of
   * the document covers `seq` or later yet, the newest version's state is not the same bytes, and
   * no automatic one was created after `createdAt - minSpacingMs`: decided in the database, in
   * one transaction ordered with the document's other version writes, so that instances holding
   * the same document never record the same state twice (the one refused merges its authors into
   * the version that took its place). Manual and restore versions are always stored.
   */
  add(version: NewVersion, options?: { minSpacingMs?: number }): Promise<AddOutcome>;
  /** The document's versions, newest first, at most `limit`. */
  list(document: string, limit: number): Promise<VersionRecord[]>;
  /** One version and its stored state; null if the document has no such version. */
  read(document: string, id: string): Promise<{ version: VersionRecord; state: Uint8Array } | null>;
  /** Names a version (it is then kept forever); null if there is no such version. */
  setLabel(document: string, id: string, label: string): Promise<VersionRecord | null>;
  /** Deletes the listed versions that have no label (retention thinning); returns how many went. */
  thin(document: string, ids: readonly string[]): Promise<number>;
}

/** Authors of `a` then those of `b` not in `a`, at most MAX_VERSION_AUTHORS. */
export function mergeAuthors(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].slice(0, MAX_VERSION_AUTHORS);
}
