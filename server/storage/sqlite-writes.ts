import type Database from 'better-sqlite3';
import { TokenBucket } from '../limits/token-bucket.js';
import { prepareFileDeletion } from './sqlite-files.js';
import { prepareChangeMarks } from './sqlite-webhooks.js';
import type { CommitThread } from './sqlite-commit-thread.js';
import { DELETED, type ThreadWriteOp, type WriteOp, type WriteResult } from './sqlite-write-ops.js';

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
 * Fewer writes than this commit on the event loop even with a thread: handing a batch over and
 * back costs ~0.1 ms of CPU on each side, more than a batch of one or two appends costs to write
 * (the fan-out and many-rooms benchmarks took up to 40% more CPU with every batch on the thread).
 * Batches this large only form when edits arrive faster than commits finish, which is when the
 * event loop needs the time back.
 */
const THREAD_MIN_WRITES = 8;

/**
 * Group commit: writes requested while no commit runs (appends of any number of documents,
 * compactions, titles) share one transaction and one fsync; writes requested while one runs wait
 * for it and share the next. With a commit thread (file databases), large batches commit there and
 * the event loop only hands them over; custom writes (closures over this connection) and small
 * batches run here, in order between the thread's. Without one (`:memory:`, or the thread died),
 * everything commits on the event loop, while incoming frames gather in the socket buffers.
 */
export function createWriteQueue(db: Database.Database, startThread?: () => CommitThread): WriteQueue {
  const writeBatch = createBatchWriter(db);
  /** Started at the first batch large enough for it: a server that never gets one never pays its ~10 MB. */
  let thread: CommitThread | null = null;
  const threadFor = (writes: number): CommitThread | null => {
    if (writes < THREAD_MIN_WRITES || !startThread) return null;
    thread ??= startThread();
    return thread.alive ? thread : null;
  };
  let queue: Queued[] = [];
  /**
   * What starts the next commit: an immediate, or a timeout while paced. Kept apart because each
   * must be cleared by its own function (clearImmediate on a timeout corrupts Node's count of
   * immediates, and later setImmediate callbacks of the whole process may never run).
   */
  let pending: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | null = null;
  /** The commit running now (on the thread, or its custom writes here). */
  let running: Promise<void> | null = null;
  /** Whether a write that must not wait (run(), or a runSoon() past its delay) is queued. */
  let due = false;
  let closed = false;
  const pacing = new TokenBucket(MAX_COMMITS_PER_SECOND, COMMIT_BURST);
  /** The timer of runSoon() writes waiting for a commit to join. */
  let lazy: NodeJS.Timeout | null = null;

  const settle = (items: Queued[], results: WriteResult[] | Error) => {
    if (results instanceof Error) for (const item of items) item.reject(results);
    else items.forEach((item, i) => item.resolve(results[i]!));
  };
  const onLoop = (items: Queued[]): WriteResult[] | Error => {
    try {
      return writeBatch(items.map((item) => item.write));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  /** Runs the batch in order: runs of thread writes there, custom writes here, each its own transaction. */
  const runBatch = async (batch: Queued[]) => {
    let start = 0;
    while (start < batch.length) {
      const custom = batch[start]!.write.op === 'custom';
      let end = start + 1;
      while (end < batch.length && (batch[end]!.write.op === 'custom') === custom) end++;
      const items = batch.slice(start, end);
      start = end;
      const committer = custom ? null : threadFor(items.length);
      if (!committer) {
        settle(items, onLoop(items));
        continue;
      }
      try {
        settle(items, await committer.commit(items.map((item) => item.write as ThreadWriteOp)));
      } catch (error) {
        settle(items, error instanceof Error ? error : new Error(String(error)));
      }
    }
  };

  const commit = () => {
    pending = null;
    if (lazy) clearTimeout(lazy);
    lazy = null;
    due = false;
    // A commit forced by close() may run without a token; it does not delay the ones after it.
    pacing.takeAtMost(1);
    const batch = queue;
    queue = [];
    running = runBatch(batch).finally(() => {
      running = null;
      if (due && !closed) schedule();
    });
  };

  const schedule = () => {
    if (pending || running) return;
    const wait = pacing.msUntil(1);
    pending = wait === 0 ? { immediate: setImmediate(commit) } : { timeout: setTimeout(commit, wait) };
  };

  return {
    run(write) {
      return new Promise<WriteResult>((resolve, reject) => {
        if (closed) return reject(new Error('storage is closed'));
        queue.push({ write, resolve, reject });
        due = true;
        schedule();
      });
    },
    runSoon(write, maxDelayMs) {
      return new Promise<WriteResult>((resolve, reject) => {
        if (closed) return reject(new Error('storage is closed'));
        queue.push({ write, resolve, reject });
        if (due || lazy) return;
        lazy = setTimeout(() => {
          lazy = null;
          if (queue.length === 0) return;
          due = true;
          schedule();
        }, maxDelayMs);
      });
    },
    async close() {
      closed = true;
      if (lazy) clearTimeout(lazy);
      lazy = null;
      if (pending) {
        if ('immediate' in pending) clearImmediate(pending.immediate);
        else clearTimeout(pending.timeout);
        pending = null;
      }
      await running;
      if (queue.length > 0) {
        commit();
        await running;
      }
      await thread?.close();
    },
  };
}
