import type Database from 'better-sqlite3';
import { inSavepoint } from './sqlite-savepoint.js';
import { asBytes } from './bytes.js';
import { NEWEST_FIRST, VERSION_COLUMNS as COLUMNS, toVersion, type VersionRow } from './version-rows.js';

const NEWEST_ID = `SELECT id FROM document_versions WHERE document = @document ORDER BY ${NEWEST_FIRST} LIMIT 1`;
import { mergeAuthors, type AddOutcome, type VersionKind, type VersionStore } from './version-store.js';

/**
 * Version tables of the SQLite store (see version-store.ts); created with the document tables.
 * The partial unique index is the last line against duplicate automatic versions (the insert
 * checks first, in the same statement).
 */
export const SQLITE_VERSION_SCHEMA = `
CREATE TABLE IF NOT EXISTS document_versions (
  id TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  label TEXT,
  kind TEXT NOT NULL,
  authors TEXT NOT NULL,
  seq INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  state BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS document_versions_by_document ON document_versions (document, created_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS document_versions_automatic ON document_versions (document, seq) WHERE kind = 'automatic';
`;


interface InsertParams {
  id: string;
  document: string;
  createdAt: number;
  label: string | null;
  kind: VersionKind;
  authors: string;
  seq: number;
  bytes: number;
  state: Uint8Array;
  /** An automatic version is refused if another automatic one was created after this. */
  notAfter: number;
}

/** The store's write queue, as far as this file needs it (sqlite-writes.ts). */
export interface VersionWrites {
  run(write: { op: 'custom'; run: () => null }): Promise<unknown>;
}

/**
 * The SQLite version store. Writes go through the store's write queue (one transaction per tick
 * with the edits, one fsync), each in a savepoint of its own; reads go straight to the database.
 */
export function createSqliteVersionStore(db: Database.Database, writes: VersionWrites): VersionStore {
  const q = {
    // One statement decides and inserts: the document must exist; an automatic version needs no
    // version covering its seq and no automatic one newer than the spacing allows.
    insert: db.prepare<[InsertParams]>(
      `INSERT INTO document_versions (id, document, created_at, label, kind, authors, seq, bytes, state)
       SELECT @id, @document, @createdAt, @label, @kind, @authors, @seq, @bytes, @state
       WHERE EXISTS (SELECT 1 FROM documents WHERE name = @document AND deleted_at IS NULL)
         AND (@kind <> 'automatic' OR (
           NOT EXISTS (SELECT 1 FROM document_versions WHERE document = @document AND seq >= @seq)
           AND NOT EXISTS (SELECT 1 FROM document_versions WHERE id = (${NEWEST_ID}) AND state = @state)
           AND NOT EXISTS (SELECT 1 FROM document_versions WHERE document = @document AND kind = 'automatic' AND created_at > @notAfter)))
       ON CONFLICT DO NOTHING`,
    ),
    exists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM documents WHERE name = ? AND deleted_at IS NULL'),
    covering: db.prepare<[string, number], VersionRow>(
      `SELECT ${COLUMNS} FROM document_versions WHERE document = ? AND seq >= ? ORDER BY ${NEWEST_FIRST} LIMIT 1`,
    ),
    newest: db.prepare<[string], VersionRow & { state: Buffer }>(`SELECT ${COLUMNS}, state FROM document_versions WHERE document = ? ORDER BY ${NEWEST_FIRST} LIMIT 1`),
    recentAutomatic: db.prepare<[string, number], VersionRow>(
      `SELECT ${COLUMNS} FROM document_versions WHERE document = ? AND kind = 'automatic' AND created_at > ? ORDER BY ${NEWEST_FIRST} LIMIT 1`,
    ),
    setAuthors: db.prepare<[string, string]>('UPDATE document_versions SET authors = ? WHERE id = ?'),
    one: db.prepare<[string, string], VersionRow>(`SELECT ${COLUMNS} FROM document_versions WHERE document = ? AND id = ?`),
    state: db.prepare<[string, string], { state: Buffer }>('SELECT state FROM document_versions WHERE document = ? AND id = ?'),
    list: db.prepare<[string, number], VersionRow>(
      `SELECT ${COLUMNS} FROM document_versions WHERE document = ? ORDER BY ${NEWEST_FIRST} LIMIT ?`,
    ),
    setLabel: db.prepare<[string, string, string]>('UPDATE document_versions SET label = ? WHERE document = ? AND id = ?'),
    thin: db.prepare<[string, string]>('DELETE FROM document_versions WHERE document = ? AND id = ? AND label IS NULL'),
  };
  /** Runs `fn` in the write queue's next group commit, in a savepoint of its own. */
  const write = <T>(fn: () => T): Promise<T> => inSavepoint(db, writes, 'version write', fn);

  return {
    add: (version, { minSpacingMs = 0 } = {}) =>
      write((): AddOutcome => {
        const { id, document, seq } = version;
        const inserted = q.insert.run({
          id,
          document,
          createdAt: version.createdAt,
          label: version.label,
          kind: version.kind,
          authors: JSON.stringify(version.authors),
          seq,
          bytes: version.state.byteLength,
          state: version.state,
          notAfter: version.createdAt - minSpacingMs,
        });
        if (inserted.changes > 0) return { status: 'added', version: toVersion(q.one.get(document, id)!) };
        if (!q.exists.get(document)) return { status: 'no-document' };
        const merged = (row: VersionRow) => {
          const authors = mergeAuthors(JSON.parse(row.authors) as string[], version.authors);
          q.setAuthors.run(JSON.stringify(authors), row.id);
          return { ...toVersion(row), authors };
        };
        const covering = q.covering.get(document, seq);
        if (covering) return { status: 'covered', version: merged(covering) };
        const newest = q.newest.get(document);
        if (newest && Buffer.compare(newest.state, version.state) === 0) return { status: 'unchanged', version: toVersion(newest) };
        const recent = q.recentAutomatic.get(document, version.createdAt - minSpacingMs);
        if (recent) return { status: 'too-soon', version: merged(recent) };
        throw new Error('version refused for no known reason');
      }),
    async list(document, limit) {
      return q.list.all(document, limit).map(toVersion);
    },
    async read(document, id) {
      const row = q.one.get(document, id);
      const state = row && q.state.get(document, id);
      return row && state ? { version: toVersion(row), state: asBytes(state.state) } : null;
    },
    setLabel: (document, id, label) =>
      write(() => {
        if (q.setLabel.run(label, document, id).changes === 0) return null;
        return toVersion(q.one.get(document, id)!);
      }),
    thin: (document, ids) => write(() => ids.reduce((removed, id) => removed + q.thin.run(document, id).changes, 0)),
  };
}
