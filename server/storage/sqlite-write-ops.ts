/** The writes of the SQLite store (sqlite-writes.ts), as the event loop and the commit thread both know them. */

/** Every write the SQLite store makes; they all go through one queue, in order. */
export type WriteOp =
  | { op: 'append'; name: string; update: Uint8Array }
  | { op: 'compact'; name: string; snapshot: Uint8Array; uptoSeq: number }
  | { op: 'create'; name: string; title: string }
  | { op: 'setTitle'; name: string; title: string }
  | { op: 'setText'; name: string; text: string }
  | { op: 'delete'; name: string }
  /** Webhook outbox, file and version writes (sqlite-webhooks.ts, sqlite-files.ts, sqlite-versions.ts), sharing the group commit; they run in a savepoint of their own. */
  | { op: 'custom'; run: () => WriteResult };

/** append: the sequence number (DELETED for a deleted document); create/setTitle/setText/delete: whether a row changed; compact: null. */
export type WriteResult = number | boolean | null;

/** What an append to a deleted document returns (it never throws: the batch holds other documents' writes). */
export const DELETED = -1;

/** The writes the commit thread can make: all but custom ones, which are closures over the event loop's connection. */
export type ThreadWriteOp = Exclude<WriteOp, { op: 'custom' }>;
