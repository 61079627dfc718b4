/** Worker thread of the SQLite store: commits batches of writes (and waits out their fsync). */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createBatchWriter, type WriteOp } from './sqlite-writes.js';

const { file, synchronous } = workerData as { file: string; synchronous: 'full' | 'normal' };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 5000');
const write = createBatchWriter(db);

parentPort!.on('message', (batch: WriteOp[]) => {
  try {
    parentPort!.postMessage({ results: write(batch) });
  } catch (error) {
    parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
