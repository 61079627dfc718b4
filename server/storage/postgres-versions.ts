import type pg from 'pg';
import { asBytes } from './bytes.js';
import { inTransaction } from './postgres-transaction.js';
import { NEWEST_FIRST, VERSION_COLUMNS as COLUMNS, toVersion, type VersionRow } from './version-rows.js';
import { mergeAuthors, type AddOutcome, type VersionStore } from './version-store.js';

/** Version tables (see version-store.ts); one migration of postgres.ts. */
export const POSTGRES_VERSION_MIGRATION = `
  CREATE TABLE document_versions (
    id TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    label TEXT,
    kind TEXT NOT NULL,
    authors TEXT NOT NULL,
    seq BIGINT NOT NULL,
    bytes INTEGER NOT NULL,
    state BYTEA NOT NULL
  );
  CREATE INDEX document_versions_by_document ON document_versions (document, created_at DESC);
  CREATE UNIQUE INDEX document_versions_automatic ON document_versions (document, seq) WHERE kind = 'automatic';`;

const Q = {
  // The document's row, locked for the transaction: version writes of one document (from any
  // instance) take turns, and a deletion (an UPDATE of the row, then the versions' DELETE) is
  // ordered before or after, never between check and insert. Appends wait too, for the
  // milliseconds of one insert (a version is recorded at most every few minutes).
  lock: 'SELECT 1 FROM documents WHERE name = $1 AND deleted_at IS NULL FOR NO KEY UPDATE',
  covering: `SELECT ${COLUMNS} FROM document_versions WHERE document = $1 AND seq >= $2 ORDER BY ${NEWEST_FIRST} LIMIT 1`,
  newest: `SELECT ${COLUMNS}, state FROM document_versions WHERE document = $1 ORDER BY ${NEWEST_FIRST} LIMIT 1`,
  recentAutomatic: `SELECT ${COLUMNS} FROM document_versions WHERE document = $1 AND kind = 'automatic' AND created_at > $2 ORDER BY ${NEWEST_FIRST} LIMIT 1`,
  setAuthors: 'UPDATE document_versions SET authors = $2 WHERE id = $1',
  insert: `INSERT INTO document_versions (id, document, created_at, label, kind, authors, seq, bytes, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
  list: `SELECT ${COLUMNS} FROM document_versions WHERE document = $1 ORDER BY ${NEWEST_FIRST} LIMIT $2`,
  read: `SELECT ${COLUMNS}, state FROM document_versions WHERE document = $1 AND id = $2`,
  setLabel: `UPDATE document_versions SET label = $3 WHERE document = $1 AND id = $2 RETURNING ${COLUMNS}`,
  thin: 'DELETE FROM document_versions WHERE document = $1 AND id = ANY($2::text[]) AND label IS NULL',
} as const;

function query(name: keyof typeof Q, values: unknown[]): pg.QueryConfig {
  return { name: `version_${name}`, text: Q[name], values };
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The PostgreSQL version store: the duplicate check and the insert run under the document row's lock. */
export function createPostgresVersionStore(pool: pg.Pool): VersionStore {
  return {
    add: (version, { minSpacingMs = 0 } = {}) =>
      inTransaction(pool, async (client): Promise<AddOutcome> => {
        const { rows: documents } = await client.query(query('lock', [version.document]));
        if (documents.length === 0) return { status: 'no-document' };
        if (version.kind === 'automatic') {
          const merged = async (row: VersionRow) => {
            const authors = mergeAuthors(JSON.parse(row.authors) as string[], version.authors);
            await client.query(query('setAuthors', [row.id, JSON.stringify(authors)]));
            return { ...toVersion(row), authors };
          };
          const { rows: covering } = await client.query<VersionRow>(query('covering', [version.document, version.seq]));
          if (covering[0]) return { status: 'covered', version: await merged(covering[0]) };
          const { rows: newest } = await client.query<VersionRow & { state: Buffer }>(query('newest', [version.document]));
          if (newest[0] && Buffer.compare(newest[0].state, version.state) === 0) return { status: 'unchanged', version: toVersion(newest[0]) };
          const { rows: recent } = await client.query<VersionRow>(query('recentAutomatic', [version.document, version.createdAt - minSpacingMs]));
          if (recent[0]) return { status: 'too-soon', version: await merged(recent[0]) };
        }
        const { rows } = await client.query<VersionRow>(
          query('insert', [
            version.id,
            version.document,
            version.createdAt,
            version.label,
            version.kind,
            JSON.stringify(version.authors),
            version.seq,
            version.state.byteLength,
            asBuffer(version.state),
          ]),
        );
        return { status: 'added', version: toVersion(rows[0]!) };
      }),
    async list(document, limit) {
      const { rows } = await pool.query<VersionRow>(query('list', [document, limit]));
      return rows.map(toVersion);
    },
    async read(document, id) {
      const { rows } = await pool.query<VersionRow & { state: Buffer }>(query('read', [document, id]));
      return rows[0] ? { version: toVersion(rows[0]), state: asBytes(rows[0].state) } : null;
    },
    async setLabel(document, id, label) {
      const { rows } = await pool.query<VersionRow>(query('setLabel', [document, id, label]));
      return rows[0] ? toVersion(rows[0]) : null;
    },
    async thin(document, ids) {
      if (ids.length === 0) return 0;
      const result = await pool.query(query('thin', [document, ids]));
      return result.rowCount ?? 0;
    },
  };
}
