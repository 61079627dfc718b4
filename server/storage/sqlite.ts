import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { listPatterns, nameRange, sqliteGlob } from './list-patterns.js';
import { createWriteQueue } from './sqlite-writes.js';
import type { DocumentInfo, DocumentStore, LoggedUpdate, StoredDocument } from './types.js';
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
`;

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

  const statements = {
    document: db.prepare<[string], { seq: number; snapshot: Buffer | null; snapshot_seq: number }>(
      'SELECT seq, snapshot, snapshot_seq FROM documents WHERE name = ?',
    ),
    updatesAfter: db.prepare<[string, number], { seq: number; data: Buffer }>(
      'SELECT seq, data FROM updates WHERE name = ? AND seq > ? ORDER BY seq',
    ),
    logLength: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM updates WHERE name = ?'),
    info: db.prepare<[string], DocumentRow>('SELECT name, title, created_at, updated_at FROM documents WHERE name = ?'),
    list: db.prepare<[number], DocumentRow>(
      'SELECT name, title, created_at, updated_at FROM documents ORDER BY updated_at DESC, name LIMIT ?',
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
        arms.push('SELECT name, title, created_at, updated_at FROM documents WHERE name = ?');
        values.push(range.exact);
      } else {
        const bounds = [range.prefix === '' ? null : 'name >= ?', range.prefixEnd === null ? null : 'name < ?'].filter(Boolean);
        arms.push(`SELECT name, title, created_at, updated_at FROM documents WHERE ${[...bounds, 'name GLOB ?'].join(' AND ')}`);
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

  const readTx = db.transaction((name: string, afterSeq: number) => {
    const doc = statements.document.get(name);
    if (!doc) return { snapshot: null, updates: [] as LoggedUpdate[], seq: 0 };
    // Rows ≤ snapshot_seq are gone once compacted: fall back to the snapshot for them.
    const needsSnapshot = afterSeq < doc.snapshot_seq;
    const from = needsSnapshot ? doc.snapshot_seq : afterSeq;
    const updates = statements.updatesAfter.all(name, from).map((row) => ({ seq: row.seq, update: asBytes(row.data) }));
    return { snapshot: needsSnapshot && doc.snapshot ? asBytes(doc.snapshot) : null, updates, seq: doc.seq };
  });

  let closed = false;
  return {
    kind: 'sqlite',
    async load(name): Promise<StoredDocument> {
      const { snapshot, updates, seq } = readTx(name, -1);
      return { snapshot, updates: updates.map((row) => row.update), seq };
    },
    append(name, update) {
      return writes.run({ op: 'append', name, update }) as Promise<number>;
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
