import type Database from 'better-sqlite3';
import { TokenBucket } from '../limits/token-bucket.js';
import { prepareFileDeletion } from './sqlite-files.js';
import { prepareChangeMarks } from './sqlite-webhooks.js';

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

/** Runs a batch of writes in one transaction (one fsync) and returns each one's result. */
export function createBatchWriter(db: Database.Database): (batch: readonly WriteOp[]) => WriteResult[] {
  const bumpSeq = db.prepare<[string, number, number], { seq: number }>(
    `INSERT INTO documents (name, created_at, updated_at, seq) VALUES (?, ?, ?, 1)
     ON CONFLICT (name) DO UPDATE SET seq = seq + 1, updated_at = excluded.updated_at WHERE deleted_at IS NULL
     RETURNING seq`,
  );
  const insertUpdate = db.prepare<[string, number, Uint8Array]>('INSERT INTO updates (name, seq, data) VALUES (?, ?, ?)');
  const writeSnapshot = db.prepare<[Uint8Array, number, string, number]>(
    'UPDATE documents SET snapshot = ?, snapshot_seq = ? WHERE name = ? AND snapshot_seq < ? AND deleted_at IS NULL',
  );
  const deleteUpto = db.prepare<[string, number]>('DELETE FROM updates WHERE name = ? AND seq <= ?');
  // Creating a deleted document undoes the deletion (explicitly: stale clients only append).
  const create = db.prepare<[string, string, number, number]>(
    `INSERT INTO documents (name, title, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET title = excluded.title, created_at = excluded.created_at, updated_at = excluded.updated_at, deleted_at = NULL
     WHERE deleted_at IS NOT NULL`,
  );
  const setTitle = db.prepare<[string, string]>('UPDATE documents SET title = ? WHERE name = ? AND deleted_at IS NULL');
  const exists = db.prepare<[string], { n: number }>('SELECT 1 AS n FROM documents WHERE name = ? AND deleted_at IS NULL');
  // The search index (documents_fts) follows document_text through triggers.
  const indexTitle = db.prepare<[string, string]>(
    'INSERT INTO document_text (name, title) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET title = excluded.title',
  );
  const indexText = db.prepare<[string, string]>(
    'INSERT INTO document_text (name, body) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET body = excluded.body',
  );
  // The row stays as the reservation of the name: snapshot and log go, seq stays (it never goes back).
  const markDeleted = db.prepare<[number, string]>(
    "UPDATE documents SET deleted_at = ?, title = '', snapshot = NULL, snapshot_seq = seq WHERE name = ? AND deleted_at IS NULL",
  );
  const deleteLog = db.prepare<[string]>('DELETE FROM updates WHERE name = ?');
  const deleteText = db.prepare<[string]>('DELETE FROM document_text WHERE name = ?');
  const deleteVersions = db.prepare<[string]>('DELETE FROM document_versions WHERE document = ?');
  // Webhooks: the mark of changes not yet told, in the same transaction as the change (sqlite-webhooks.ts).
  const changeMarks = prepareChangeMarks(db);
  // Files go with their document, in the transaction that deletes it (sqlite-files.ts).
  const deleteFiles = prepareFileDeletion(db);
  return db.transaction((batch: readonly WriteOp[]): WriteResult[] => {
    const now = Date.now();
    // Whether change marks are wanted (an endpoint exists): read at the first append or create, and
    // again after a webhook write, which may have saved or deleted an endpoint.
    let marking: boolean | null = null;
    const marks = () => (marking ??= changeMarks.wanted());
    return batch.map((write): WriteResult => {
      switch (write.op) {
        case 'append': {
          const isNew = marks() && changeMarks.isNew(write.name);
          const bumped = bumpSeq.get(write.name, now, now);
          if (!bumped) return DELETED;
          insertUpdate.run(write.name, bumped.seq, write.update);
          if (marks()) changeMarks.appended(write.name, bumped.seq, isNew, now);
          return bumped.seq;
        }
        case 'compact':
          if (writeSnapshot.run(write.snapshot, write.uptoSeq, write.name, write.uptoSeq).changes > 0) deleteUpto.run(write.name, write.uptoSeq);
          return null;
        case 'create': {
          const created = create.run(write.name, write.title, now, now).changes > 0;
          if (created) indexTitle.run(write.name, write.title);
          if (created && marks()) changeMarks.created(write.name, now);
          return created;
        }
        case 'setTitle': {
          const changed = setTitle.run(write.title, write.name).changes > 0;
          if (changed) indexTitle.run(write.name, write.title);
          return changed;
        }
        case 'setText':
          if (!exists.get(write.name)) return false;
          indexText.run(write.name, write.text);
          return true;
        case 'custom':
          marking = null;
          return write.run();
        case 'delete': {
          const deleted = markDeleted.run(now, write.name).changes > 0;
          if (deleted) {
            deleteLog.run(write.name);
            deleteText.run(write.name);
            deleteFiles(write.name);
            deleteVersions.run(write.name);
          }
          return deleted;
        }
      }
    });
  });
}

export interface WriteQueue {
  run(write: WriteOp): Promise<WriteResult>;
  /**
   * For writes that may wait (webhook bookkeeping): joins the next commit, and starts one itself
   * only if none started within `maxDelayMs`. While edits commit, it costs no fsync and no commit
   * of the pacing budget of its own.
   */
  runSoon(write: WriteOp, maxDelayMs: number): Promise<WriteResult>;
  /** Resolves once everything queued is committed; later writes are refused. */
  close(): Promise<void>;
}

interface Queued {
  write: WriteOp;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

/**
 * Commits per second the queue starts at most, on average; short bursts pass unpaced. Each commit
 * costs an fsync (~0.1 ms of CPU here, more on a busy disk): when many small rooms commit one edit
 * each, pacing lets a few milliseconds' worth of edits share one transaction instead.
 */
const MAX_COMMITS_PER_SECOND = 250;
const COMMIT_BURST = 25;

/**
 * Group commit: writes requested in the same event-loop turn (appends of any number of documents,
 * compactions, titles) share one transaction and one fsync. The transaction runs on the event loop:
 * an fsync here takes a fraction of a millisecond, less than handing each batch to a thread and back
 * costs, and while it runs incoming frames gather in the socket buffers for the next batch.
 */
export function createWriteQueue(db: Database.Database): WriteQueue {
  const writeBatch = createBatchWriter(db);
  let queue: Queued[] = [];
  /**
   * What starts the next commit: an immediate, or a timeout while paced. Kept apart because each
   * must be cleared by its own function (clearImmediate on a timeout corrupts Node's count of
   * immediates, and later setImmediate callbacks of the whole process may never run).
   */
  let pending: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | null = null;
  let closed = false;
  const pacing = new TokenBucket(MAX_COMMITS_PER_SECOND, COMMIT_BURST);
  /** The timer of runSoon() writes waiting for a commit to join. */
  let lazy: NodeJS.Timeout | null = null;

  const commit = () => {
    pending = null;
    if (lazy) clearTimeout(lazy);
    lazy = null;
    // A commit forced by close() may run without a token; it does not delay the ones after it.
    pacing.takeAtMost(1);
    const batch = queue;
    queue = [];
    let results: WriteResult[];
    try {
      results = writeBatch(batch.map((item) => item.write));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]!));
  };

  const schedule = () => {
    const wait = pacing.msUntil(1);
    pending = wait === 0 ? { immediate: setImmediate(commit) } : { timeout: setTimeout(commit, wait) };
  };

  return {
    run(write) {
      return new Promise<WriteResult>((resolve, reject) => {
        if (closed) return reject(new Error('storage is closed'));
        queue.push({ write, resolve, reject });
        if (!pending) schedule();
      });
    },
    runSoon(write, maxDelayMs) {
      return new Promise<WriteResult>((resolve, reject) => {
        if (closed) return reject(new Error('storage is closed'));
        queue.push({ write, resolve, reject });
        if (pending || lazy) return;
        lazy = setTimeout(() => {
          lazy = null;
          if (!pending && queue.length > 0) schedule();
        }, maxDelayMs);
      });
    },
    async close() {
      closed = true;
      if (lazy) clearTimeout(lazy);
      lazy = null;
      if (!pending && queue.length === 0) return;
      if (pending) {
        if ('immediate' in pending) clearImmediate(pending.immediate);
        else clearTimeout(pending.timeout);
      }
      commit();
    },
  };
}
