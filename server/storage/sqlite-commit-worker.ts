import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createBatchWriter } from './sqlite-writes.js';
import { readCommitRequest, writeCommitReply, type CommitThreadOptions } from './sqlite-commit-messages.js';

/**
 * The commit thread's side (sqlite-commit-thread.ts): its own connection to the store's file, the
 * same batch writer as the event loop's, one batch at a time. The store created the schema before
 * starting this thread.
 */
const options = workerData as CommitThreadOptions;
const port = parentPort!;
const db = new Database(options.file);
db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 5000');
const writeBatch = createBatchWriter(db);

port.on('message', (message: unknown) => {
  const request = readCommitRequest(message);
  if (request.kind === 'close') {
    db.close();
    port.postMessage(writeCommitReply({ kind: 'closed' }));
    return;
  }
  try {
    port.postMessage(writeCommitReply({ kind: 'committed', id: request.id, results: writeBatch(request.batch) }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    port.postMessage(writeCommitReply({ kind: 'failed', id: request.id, error: message }));
  }
});
