import type Database from 'better-sqlite3';

/** Every write the SQLite store makes; they all go through one queue, in order. */
export type WriteOp =
  | { op: 'append'; name: string; update: Uint8Array }
  | { op: 'compact'; name: string; snapshot: Uint8Array; uptoSeq: number }
  | { op: 'create'; name: string; title: string }
  | { op: 'setTitle'; name: string; title: string };

/** append: the sequence number; create/setTitle: whether a row changed; compact: null. */
export type WriteResult = number | boolean | null;

/** Runs a batch of writes in one transaction (one fsync) and returns each one's result. */
export function createBatchWriter(db: Database.Database): (batch: readonly WriteOp[]) => WriteResult[] {
  const bumpSeq = db.prepare<[string, number, number], { seq: number }>(
    `INSERT INTO documents (name, created_at, updated_at, seq) VALUES (?, ?, ?, 1)
     ON CONFLICT (name) DO UPDATE SET seq = seq + 1, updated_at = excluded.updated_at
     RETURNING seq`,
  );
  const insertUpdate = db.prepare<[string, number, Uint8Array]>('INSERT INTO updates (name, seq, data) VALUES (?, ?, ?)');
  const writeSnapshot = db.prepare<[Uint8Array, number, string, number]>(
    'UPDATE documents SET snapshot = ?, snapshot_seq = ? WHERE name = ? AND snapshot_seq < ?',
  );
  const deleteUpto = db.prepare<[string, number]>('DELETE FROM updates WHERE name = ? AND seq <= ?');
  const create = db.prepare<[string, string, number, number]>(
    'INSERT INTO documents (name, title, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
  );
  const setTitle = db.prepare<[string, string]>('UPDATE documents SET title = ? WHERE name = ?');
  return db.transaction((batch: readonly WriteOp[]): WriteResult[] => {
    const now = Date.now();
    return batch.map((write): WriteResult => {
      switch (write.op) {
        case 'append': {
          const { seq } = bumpSeq.get(write.name, now, now)!;
          insertUpdate.run(write.name, seq, write.update);
          return seq;
        }
        case 'compact':
          if (writeSnapshot.run(write.snapshot, write.uptoSeq, write.name, write.uptoSeq).changes > 0) deleteUpto.run(write.name, write.uptoSeq);
          return null;
        case 'create':
          return create.run(write.name, write.title, now, now).changes > 0;
        case 'setTitle':
          return setTitle.run(write.title, write.name).changes > 0;
      }
    });
  });
}

export interface WriteQueue {
  run(write: WriteOp): Promise<WriteResult>;
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
  const spacingMs = 1000 / MAX_COMMITS_PER_SECOND;
  let queue: Queued[] = [];
  let pending: NodeJS.Immediate | NodeJS.Timeout | null = null;
  let closed = false;
  let tokens = COMMIT_BURST;
  let refilledAt = performance.now();

  const refill = () => {
    const now = performance.now();
    tokens = Math.min(COMMIT_BURST, tokens + (now - refilledAt) / spacingMs);
    refilledAt = now;
  };

  const commit = () => {
    pending = null;
    refill();
    tokens = Math.max(0, tokens - 1);
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
    refill();
    pending = tokens >= 1 ? setImmediate(commit) : setTimeout(commit, (1 - tokens) * spacingMs);
  };

  return {
    run(write) {
      return new Promise<WriteResult>((resolve, reject) => {
        if (closed) return reject(new Error('storage is closed'));
        queue.push({ write, resolve, reject });
        if (!pending) schedule();
      });
    },
    async close() {
      closed = true;
      if (!pending) return;
      clearImmediate(pending as NodeJS.Immediate);
      clearTimeout(pending as NodeJS.Timeout);
      commit();
    },
  };
}
