import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
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

const WRITER = new URL('./sqlite-writer.js', import.meta.url);

/**
 * Group commit: writes requested in the same event-loop turn (appends of any number of documents,
 * compactions, titles) share one transaction, and while one commit is in flight the next batch
 * gathers. For a database file the commits run on a worker thread, so the event loop neither waits
 * for an fsync nor for the write lock; a write still resolves only once its transaction is durable.
 */
export function createWriteQueue(db: Database.Database, file: string, synchronous: 'full' | 'normal'): WriteQueue {
  const useWorker = file !== ':memory:' && fs.existsSync(fileURLToPath(WRITER));
  const inThread = useWorker ? null : createBatchWriter(db);
  let queue: Queued[] = [];
  let inFlight: Queued[] | null = null;
  let scheduled = false;
  let closed = false;
  let worker: Worker | null = null;
  let idle: Array<() => void> = [];

  const settle = (batch: Queued[], results: WriteResult[] | null, error: unknown) => {
    batch.forEach((item, i) => (results ? item.resolve(results[i]!) : item.reject(error)));
  };
  const afterBatch = () => {
    inFlight = null;
    if (queue.length > 0) pump();
    else {
      for (const resolve of idle) resolve();
      idle = [];
    }
  };
  const startWorker = (): Worker => {
    const created = new Worker(WRITER, { workerData: { file, synchronous } });
    created.unref();
    created.on('message', (reply: { results?: WriteResult[]; error?: string }) => {
      const batch = inFlight ?? [];
      settle(batch, reply.results ?? null, new Error(reply.error ?? 'write failed'));
      afterBatch();
    });
    const fail = (error: unknown) => {
      if (worker !== created) return;
      worker = null;
      settle(inFlight ?? [], null, error);
      afterBatch();
    };
    created.on('error', fail);
    created.on('exit', (code) => fail(new Error(`SQLite writer thread exited with ${code}`)));
    return created;
  };
  const pump = () => {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const batch = queue;
    queue = [];
    inFlight = batch;
    if (inThread) {
      let results: WriteResult[] | null = null;
      let failure: unknown = null;
      try {
        results = inThread(batch.map((item) => item.write));
      } catch (error) {
        failure = error;
      }
      settle(batch, results, failure);
      afterBatch();
      return;
    }
    worker ??= startWorker();
    worker.postMessage(batch.map((item) => item.write));
  };

  return {
    run(write) {
      return new Promise<WriteResult>((resolve, reject) => {
        if (closed) return reject(new Error('storage is closed'));
        queue.push({ write, resolve, reject });
        if (!scheduled && !inFlight) {
          scheduled = true;
          setImmediate(pump);
        }
      });
    },
    async close() {
      closed = true;
      if (inFlight || queue.length > 0) await new Promise<void>((resolve) => idle.push(resolve));
      const stopping = worker;
      worker = null;
      await stopping?.terminate();
    },
  };
}
