import type pg from 'pg';
import { asBytes } from './bytes.js';
import type { FileStore } from './file-store.js';
import { inTransaction } from './postgres-transaction.js';
import { FILE_INFO_COLUMNS as INFO_COLUMNS, toFileInfo as toInfo, type FileRow } from './file-rows.js';

/** Files of the PostgreSQL store (file-store.ts): one migration, appended to postgres.ts's list. */
export const POSTGRES_FILE_MIGRATION = `
CREATE TABLE files (
  document TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  unreferenced_since BIGINT,
  data BYTEA NOT NULL,
  PRIMARY KEY (document, id)
);
-- The sweep walks documents in code point order, as SQLite does (documentsWithFiles).
CREATE INDEX files_document_c ON files (document COLLATE "C");
`;

/** Run by DocumentStore.delete in its transaction: the document's files go with it. */
export async function deleteFilesOf(client: pg.ClientBase, document: string): Promise<void> {
  await client.query({ name: 'deleteFilesOf', text: 'DELETE FROM files WHERE document = $1', values: [document] });
}

const Q = {
  // FOR SHARE holds the document row until commit: a concurrent deletion (which updates that row,
  // then deletes the files) waits for this insert, or this insert sees the deletion and inserts nothing.
  insert: `INSERT INTO files (document, id, type, size, width, height, created_at, unreferenced_since, data)
           SELECT d.name, $2, $3, $4, $5, $6, $7, $7, $8 FROM (SELECT name FROM documents WHERE name = $1 AND deleted_at IS NULL FOR SHARE) d
           ON CONFLICT (document, id) DO UPDATE SET unreferenced_since = CASE WHEN files.unreferenced_since IS NULL THEN NULL ELSE excluded.unreferenced_since END
           RETURNING ${INFO_COLUMNS}, (xmax = 0) AS inserted`,
  get: `SELECT ${INFO_COLUMNS}, data FROM files WHERE document = $1 AND id = $2`,
  list: `SELECT ${INFO_COLUMNS} FROM files WHERE document = $1 ORDER BY created_at, id`,
  documents: 'SELECT DISTINCT document COLLATE "C" AS document FROM files WHERE document COLLATE "C" > $1 ORDER BY 1 LIMIT $2',
  lockIds: 'SELECT id, unreferenced_since FROM files WHERE document = $1 FOR UPDATE',
  markReferenced: 'UPDATE files SET unreferenced_since = NULL WHERE document = $1 AND id = ANY($2::text[]) AND unreferenced_since IS NOT NULL',
  markUnreferenced: 'UPDATE files SET unreferenced_since = $3 WHERE document = $1 AND id = ANY($2::text[]) AND unreferenced_since IS NULL',
  delete: 'DELETE FROM files WHERE document = $1 AND id = ANY($2::text[])',
} as const;

const query = (name: keyof typeof Q, values: unknown[]): pg.QueryConfig => ({ name: `files.${name}`, text: Q[name], values });
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The PostgreSQL file store; several instances may sweep at once (the sweep locks the document's file rows). */
export function createPostgresFileStore(pool: pg.Pool): FileStore {
  return {
    async put(file, now) {
      const { rows } = await pool.query<FileRow & { inserted: boolean }>(
        query('insert', [file.document, file.id, file.type, file.bytes.byteLength, file.width, file.height, now, asBuffer(file.bytes)]),
      );
      return rows[0] ? { info: toInfo(rows[0]), created: rows[0].inserted } : null;
    },
    async get(document, id) {
      const { rows } = await pool.query<FileRow & { data: Buffer }>(query('get', [document, id]));
      return rows[0] ? { ...toInfo(rows[0]), bytes: asBytes(rows[0].data) } : null;
    },
    async list(document) {
      const { rows } = await pool.query<FileRow>(query('list', [document]));
      return rows.map(toInfo);
    },
    async documentsWithFiles(after, limit) {
      const { rows } = await pool.query<{ document: string }>(query('documents', [after, limit]));
      return rows.map((row) => row.document);
    },
    sweep: (document, referenced, now, deleteUnreferencedBefore) =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ id: string; unreferenced_since: string | null }>(query('lockIds', [document]));
        const back: string[] = [];
        const unreferenced: string[] = [];
        const deleted: string[] = [];
        let pending = 0;
        for (const row of rows) {
          const since = row.unreferenced_since === null ? null : Number(row.unreferenced_since);
          if (referenced.has(row.id)) {
            if (since !== null) back.push(row.id);
          } else if (since !== null && since <= deleteUnreferencedBefore) {
            deleted.push(row.id);
          } else {
            if (since === null) unreferenced.push(row.id);
            pending++;
          }
        }
        if (back.length > 0) await client.query(query('markReferenced', [document, back]));
        if (unreferenced.length > 0) await client.query(query('markUnreferenced', [document, unreferenced, now]));
        if (deleted.length > 0) await client.query(query('delete', [document, deleted]));
        return { deleted, pending };
      }),
  };
}
