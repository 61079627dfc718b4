import type Database from 'better-sqlite3';
import { asBytes } from './bytes.js';
import type { FileStore, StoredFile } from './file-store.js';
import { inSavepoint, type CustomWrites } from './sqlite-savepoint.js';
import { FILE_INFO_COLUMNS as INFO_COLUMNS, toFileInfo as toInfo, type FileRow } from './file-rows.js';

/** Files of the SQLite store (see file-store.ts); created with the document tables. */
export const SQLITE_FILE_SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  document TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  unreferenced_since INTEGER,
  data BLOB NOT NULL,
  PRIMARY KEY (document, id)
);
`;

/** What DocumentStore.delete runs in its own transaction (sqlite-writes.ts): the document's files go with it. */
export function prepareFileDeletion(db: Database.Database): (document: string) => void {
  const deleteFiles = db.prepare<[string]>('DELETE FROM files WHERE document = ?');
  return (document) => void deleteFiles.run(document);
}

/**
 * The SQLite file store. Writes go through the store's write queue (one writer, group commit), each
 * in a savepoint of its own so that a failing one never takes the appends of its batch with it.
 * Reads run directly: WAL readers never wait for the writer. Cost: the commit that holds an upload
 * writes its bytes on the event loop; a 10 MiB file took 45–340 ms (median ~95 ms, 8 runs) and a
 * 512 KiB one 11–61 ms (median ~24 ms, 12 runs), fsync included (SQLITE_SYNCHRONOUS=full, on the
 * shared 2-core test machine); edits of the same commit wait that long. Screenshots
 * are mostly well under 1 MiB; where large uploads are frequent, lower MAX_FILE_BYTES or use
 * PostgreSQL (whose writes do not hold the event loop).
 */
export function createSqliteFileStore(db: Database.Database, writes: CustomWrites): FileStore {
  const q = {
    documentExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM documents WHERE name = ? AND deleted_at IS NULL'),
    info: db.prepare<[string, string], FileRow>(`SELECT ${INFO_COLUMNS} FROM files WHERE document = ? AND id = ?`),
    get: db.prepare<[string, string], FileRow & { data: Buffer }>(`SELECT ${INFO_COLUMNS}, data FROM files WHERE document = ? AND id = ?`),
    insert: db.prepare<[string, string, string, number, number, number, number, number, Uint8Array]>(
      'INSERT INTO files (document, id, type, size, width, height, created_at, unreferenced_since, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    restartGrace: db.prepare<[number, string, string]>('UPDATE files SET unreferenced_since = ? WHERE document = ? AND id = ? AND unreferenced_since IS NOT NULL'),
    list: db.prepare<[string], FileRow>(`SELECT ${INFO_COLUMNS} FROM files WHERE document = ? ORDER BY created_at, id`),
    documents: db.prepare<[string, number], { document: string }>('SELECT DISTINCT document FROM files WHERE document > ? ORDER BY document LIMIT ?'),
    ids: db.prepare<[string], { id: string; unreferenced_since: number | null }>('SELECT id, unreferenced_since FROM files WHERE document = ?'),
    markReferenced: db.prepare<[string, string]>('UPDATE files SET unreferenced_since = NULL WHERE document = ? AND id = ?'),
    markUnreferenced: db.prepare<[number, string, string]>('UPDATE files SET unreferenced_since = ? WHERE document = ? AND id = ? AND unreferenced_since IS NULL'),
    delete: db.prepare<[string, string]>('DELETE FROM files WHERE document = ? AND id = ?'),
  };

  /** Runs `fn` in the next group commit, in a savepoint, and returns what it returned. */
  const write = <T>(fn: () => T): Promise<T> => inSavepoint(db, writes, 'file write', fn);

  return {
    put: (file, now) =>
      write(() => {
        if (!q.documentExists.get(file.document)) return null;
        const existing = q.info.get(file.document, file.id);
        if (existing) {
          q.restartGrace.run(now, file.document, file.id);
          return { info: toInfo(q.info.get(file.document, file.id)!), created: false };
        }
        q.insert.run(file.document, file.id, file.type, file.bytes.byteLength, file.width, file.height, now, now, file.bytes);
        return { info: toInfo(q.info.get(file.document, file.id)!), created: true };
      }),
    async get(document, id) {
      const row = q.get.get(document, id);
      if (!row) return null;
      const stored: StoredFile = { ...toInfo(row), bytes: asBytes(row.data) };
      return stored;
    },
    async list(document) {
      return q.list.all(document).map(toInfo);
    },
    async documentsWithFiles(after, limit) {
      return q.documents.all(after, limit).map((row) => row.document);
    },
    sweep: (document, referenced, now, deleteUnreferencedBefore) =>
      write(() => {
        const deleted: string[] = [];
        let pending = 0;
        for (const { id, unreferenced_since: since } of q.ids.all(document)) {
          if (referenced.has(id)) {
            if (since !== null) q.markReferenced.run(document, id);
          } else if (since !== null && since <= deleteUnreferencedBefore) {
            q.delete.run(document, id);
            deleted.push(id);
          } else {
            if (since === null) q.markUnreferenced.run(now, document, id);
            pending++;
          }
        }
        return { deleted, pending };
      }),
  };
}
