import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { listPatterns, nameRange, sqliteGlob } from './list-patterns.js';
import { fts5Query, queryWords } from './search-query.js';
import { DELETED, createWriteQueue } from './sqlite-writes.js';
import { SQLITE_VERSION_SCHEMA, createSqliteVersionStore } from './sqlite-versions.js';
import { SQLITE_WEBHOOK_SCHEMA, createSqliteWebhookStore } from './sqlite-webhooks.js';
import { SQLITE_FILE_SCHEMA, createSqliteFileStore } from './sqlite-files.js';
import { DocumentDeletedError, type DocumentInfo, type DocumentStore, type LoggedUpdate, type StoredDocument } from './types.js';
import { asBytes } from './bytes.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. */
  file: string;
  synchronous: 'full' | 'normal';
}

interface DocumentRow {
  name: string;
  title: string;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  name TEXT PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,
  snapshot BLOB,
  snapshot_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_updated_at ON documents (updated_at DESC);
CREATE TABLE IF NOT EXISTS updates (
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (name, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS document_text (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(
  title, body, content = 'document_text', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS document_text_ai AFTER INSERT ON document_text BEGIN
  INSERT INTO documents_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS document_text_ad AFTER DELETE ON document_text BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER IF NOT EXISTS document_text_au AFTER UPDATE ON document_text BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO documents_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
`;

/** Columns added after the first release (SQLite has no migrations here: each is added if missing). */
function addMissingColumns(db: Database.Database): void {
  const columns = new Set(db.prepare<[], { name: string }>('PRAGMA table_info(documents)').all().map((column) => column.name));
  // Set when the document was deleted; the row stays, reserving the name (see DocumentStore.delete).
  if (!columns.has('deleted_at')) db.exec('ALTER TABLE documents ADD COLUMN deleted_at INTEGER');
}

const toInfo = (row: DocumentRow): DocumentInfo => ({
  name: row.name,
  title: row.title,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});


/**
 * The embedded default backend: an update log plus snapshots in one SQLite file (WAL mode). Writes
 * are group-committed (sqlite-writes.ts); a write resolves once its transaction is durable.
 */
export function createSqliteStore(options: SqliteStoreOptions): DocumentStore {
  if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  addMissingColumns(db);
  db.exec(SQLITE_WEBHOOK_SCHEMA);
  db.exec(SQLITE_FILE_SCHEMA);
  db.exec(SQLITE_VERSION_SCHEMA);

  const statements = {
    document: db.prepare<[string], { seq: number; snapshot: Buffer | null; snapshot_seq: number; deleted_at: number | null }>(
      'SELECT seq, snapshot, snapshot_seq, deleted_at FROM documents WHERE name = ?',
    ),
    updatesAfter: db.prepare<[string, number], { seq: number; data: Buffer }>(
      'SELECT seq, data FROM updates WHERE name = ? AND seq > ? ORDER BY seq',
    ),
    logLength: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM updates WHERE name = ?'),
    info: db.prepare<[string], DocumentRow>('SELECT name, title, created_at, updated_at FROM documents WHERE name = ? AND deleted_at IS NULL'),
    list: db.prepare<[number], DocumentRow>(
      'SELECT name, title, created_at, updated_at FROM documents WHERE deleted_at IS NULL ORDER BY updated_at DESC, name LIMIT ?',
    ),
    check: db.prepare('SELECT 1'),
  };

  const writes = createWriteQueue(db);

  // One arm per pattern, each an index range on the primary key (never the updated_at index,
  // which would walk every document in edit order); UNION drops documents two patterns share.
  const listStatements = new Map<string, Database.Statement<unknown[], DocumentRow>>();
  const listMatching = (limit: number, patterns: readonly string[]): DocumentRow[] => {
    const distinct = listPatterns(patterns);
    if (distinct.length === 0) return [];
    const arms: string[] = [];
    const values: unknown[] = [];
    for (const pattern of distinct) {
      const range = nameRange(pattern);
      if (range.exact !== null) {
        arms.push('SELECT name, title, created_at, updated_at FROM documents WHERE name = ? AND deleted_at IS NULL');
        values.push(range.exact);
      } else {
        const bounds = [range.prefix === '' ? null : 'name >= ?', range.prefixEnd === null ? null : 'name < ?'].filter(Boolean);
        arms.push(`SELECT name, title, created_at, updated_at FROM documents WHERE ${[...bounds, 'name GLOB ?', 'deleted_at IS NULL'].join(' AND ')}`);
        if (range.prefix !== '') values.push(range.prefix);
        if (range.prefixEnd !== null) values.push(range.prefixEnd);
        values.push(sqliteGlob(pattern));
      }
    }
    const sql = `${arms.join(' UNION ')} ORDER BY updated_at DESC, name LIMIT ?`;
    // Cached by text (it depends on the patterns' shapes only, not their values).
    let statement = listStatements.get(sql);
    if (!statement) {
      if (listStatements.size >= 256) listStatements.clear();
      statement = db.prepare<unknown[], DocumentRow>(sql);
      listStatements.set(sql, statement);
    }
    return statement.all(...values, limit);
  };

  // The index finds the matches; the token's patterns (if any) filter them, each an index range on
  // the name plus GLOB. Cost: proportional to the documents matching the words, whoever owns them.
  const searchStatements = new Map<string, Database.Statement<unknown[], DocumentRow>>();
  const search = (query: string, limit: number, patterns?: readonly string[]): DocumentRow[] => {
    const words = queryWords(query);
    if (words.length === 0) return [];
    const values: unknown[] = [fts5Query(words)];
    let filter = '';
    if (patterns !== undefined) {
      const distinct = listPatterns(patterns);
      if (distinct.length === 0) return [];
      const arms = distinct.map((pattern) => {
        const range = nameRange(pattern);
        if (range.exact !== null) {
          values.push(range.exact);
          return 'd.name = ?';
        }
        const conditions: string[] = [];
        if (range.prefix !== '') {
          conditions.push('d.name >= ?');
          values.push(range.prefix);
        }
        if (range.prefixEnd !== null) {
          conditions.push('d.name < ?');
          values.push(range.prefixEnd);
        }
        conditions.push('d.name GLOB ?');
        values.push(sqliteGlob(pattern));
        return `(${conditions.join(' AND ')})`;
      });
      filter = ` AND (${arms.join(' OR ')})`;
    }
    // Title words weigh ten times as much as text words.
    const sql =
      'SELECT d.name, d.title, d.created_at, d.updated_at FROM documents_fts f' +
      ' JOIN document_text t ON t.id = f.rowid JOIN documents d ON d.name = t.name' +
      ` WHERE documents_fts MATCH ? AND d.deleted_at IS NULL${filter}` +
      ' ORDER BY bm25(documents_fts, 10.0, 1.0), d.updated_at DESC LIMIT ?';
    let statement = searchStatements.get(sql);
    if (!statement) {
      if (searchStatements.size >= 256) searchStatements.clear();
      statement = db.prepare<unknown[], DocumentRow>(sql);
      searchStatements.set(sql, statement);
    }
    return statement.all(...values, limit);
  };

  const readTx = db.transaction((name: string, afterSeq: number) => {
    const doc = statements.document.get(name);
    if (!doc) return { snapshot: null, updates: [] as LoggedUpdate[], seq: 0 };
    if (doc.deleted_at !== null) throw new DocumentDeletedError(name);
    // Rows ≤ snapshot_seq are gone once compacted: fall back to the snapshot for them.
    const needsSnapshot = afterSeq < doc.snapshot_seq;
    const from = needsSnapshot ? doc.snapshot_seq : afterSeq;
    const updates = statements.updatesAfter.all(name, from).map((row) => ({ seq: row.seq, update: asBytes(row.data) }));
    return { snapshot: needsSnapshot && doc.snapshot ? asBytes(doc.snapshot) : null, updates, seq: doc.seq };
  });

  let closed = false;
  return {
    kind: 'sqlite',
    webhooks: createSqliteWebhookStore(db, writes),
    files: createSqliteFileStore(db, writes),
    versions: createSqliteVersionStore(db, writes),
    async load(name): Promise<StoredDocument> {
      const { snapshot, updates, seq } = readTx(name, -1);
      return { snapshot, updates: updates.map((row) => row.update), seq };
    },
    async append(name, update) {
      const seq = (await writes.run({ op: 'append', name, update })) as number;
      if (seq === DELETED) throw new DocumentDeletedError(name);
      return seq;
    },
    async readSince(name, afterSeq) {
      return readTx(name, afterSeq);
    },
    async compact(name, snapshot, uptoSeq) {
      await writes.run({ op: 'compact', name, snapshot, uptoSeq });
    },
    async logLength(name) {
      return statements.logLength.get(name)?.n ?? 0;
    },
    async create(name, title) {
      return (await writes.run({ op: 'create', name, title })) as boolean;
    },
    async info(name) {
      const row = statements.info.get(name);
      return row ? toInfo(row) : null;
    },
    async list(limit, patterns) {
      return (patterns === undefined ? statements.list.all(limit) : listMatching(limit, patterns)).map(toInfo);
    },
    async setTitle(name, title) {
      return (await writes.run({ op: 'setTitle', name, title })) as boolean;
    },
    async setText(name, text) {
      return (await writes.run({ op: 'setText', name, text })) as boolean;
    },
    async search(query, limit, patterns) {
      return search(query, limit, patterns).map(toInfo);
    },
    async delete(name) {
      return (await writes.run({ op: 'delete', name })) as boolean;
    },
    async check() {
      if (closed) throw new Error('storage is closed');
      statements.check.get();
    },
    async close() {
      if (closed) return;
      closed = true;
      await writes.close();
      db.close();
    },
  };
}
