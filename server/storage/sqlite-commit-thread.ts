import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { readCommitReply, writeCommitRequest, type CommitThreadOptions } from './sqlite-commit-messages.js';
import type { ThreadWriteOp, WriteResult } from './sqlite-write-ops.js';

/**
 * Commits batches of writes on a thread of their own, with its own connection to the store's file.
 * Why: on the event loop, a commit's statements and its fsync (0.3 ms typical, 10 ms at p99 on
 * this machine's disk) stop every socket meanwhile; the profile of the workspace ramp put 38% of
 * the busy event loop there. Handing a batch over and back costs ~0.1 ms, and while a batch
 * commits the next one gathers (group commit across ticks, not only within one).
 */
export interface CommitThread {
  /** Runs the batch in one transaction; resolves with each write's result once it is durable. */
  commit(batch: ThreadWriteOp[]): Promise<WriteResult[]>;
  /** False once the thread died; the store then commits on the event loop. */
  readonly alive: boolean;
  close(): Promise<void>;
}

/**
 * The built worker script: next to this file in dist/, or dist/'s when the sources run (tests
 * import them). Throws if it is missing, so that a store finds out when it opens, not at its
 * first large commit.
 */
export function commitThreadScript(): URL {
  const besideThis = new URL('./sqlite-commit-worker.js', import.meta.url);
  if (fs.existsSync(besideThis)) return besideThis;
  const built = new URL('../../dist/server/storage/sqlite-commit-worker.js', import.meta.url);
  if (fs.existsSync(built)) return built;
  throw new Error('the SQLite commit thread is not built: run `npm run build`');
}

export function startCommitThread(script: URL, options: CommitThreadOptions): CommitThread {
  const worker = new Worker(script, { workerData: options });
  const waiting = new Map<number, { resolve(results: WriteResult[]): void; reject(error: Error): void }>();
  let nextId = 1;
  let alive = true;
  let whenClosed: Promise<void> | null = null;
  let closed: (() => void) | null = null;

  const die = (error: Error) => {
    if (!alive) return;
    alive = false;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
    closed?.();
  };
  worker.on('message', (message: unknown) => {
    const reply = readCommitReply(message);
    if (reply.kind === 'closed') return closed?.();
    const entry = waiting.get(reply.id);
    if (!entry) return;
    waiting.delete(reply.id);
    if (reply.kind === 'committed') entry.resolve(reply.results);
    else entry.reject(new Error(reply.error));
  });
  worker.on('error', (error) => die(error));
  worker.on('exit', (code) => die(new Error(`the SQLite commit thread exited (code ${code})`)));
  // Idle, the thread must not keep the process alive; a commit in flight does.
  worker.unref();

  return {
    get alive() {
      return alive;
    },
    commit(batch) {
      if (!alive) return Promise.reject(new Error('the SQLite commit thread is not running'));
      const id = nextId++;
      return new Promise<WriteResult[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        if (waiting.size === 1) worker.ref();
        worker.postMessage(writeCommitRequest({ kind: 'commit', id, batch }));
      }).finally(() => {
        if (waiting.size === 0) worker.unref();
      });
    },
    close() {
      if (whenClosed) return whenClosed;
      if (!alive) return (whenClosed = Promise.resolve());
      whenClosed = new Promise<void>((resolve) => {
        closed = resolve;
        worker.ref();
        worker.postMessage(writeCommitRequest({ kind: 'close' }));
      }).then(async () => {
        alive = false;
        await worker.terminate();
      });
      return whenClosed;
    },
  };
}
