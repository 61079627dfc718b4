import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DocumentInfo, DocumentStore, LoggedUpdate, StoredDocument } from './types.js';

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

const asBytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

/**
 * The embedded default backend. better-sqlite3 is synchronous, so a commit blocks the event loop
 * for its fsync; rooms batch the updates of one tick into one append, which makes that a group commit.
 */
export function createSqliteStore(options: SqliteStoreOptions): DocumentStore {
  if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);

  const statements = {
    bumpSeq: db.prepare<[string, number, number]>(
      `INSERT INTO documents (name, created_at, updated_at, seq) VALUES (?, ?, ?, 1)
       ON CONFLICT (name) DO UPDATE SET seq = seq + 1, updated_at = excluded.updated_at
       RETURNING seq`,
    ),
    insertUpdate: db.prepare<[string, number, Uint8Array]>('INSERT INTO updates (name, seq, data) VALUES (?, ?, ?)'),
    document: db.prepare<[string], { seq: number; snapshot: Buffer | null; snapshot_seq: number }>(
      'SELECT seq, snapshot, snapshot_seq FROM documents WHERE name = ?',
    ),
    updatesAfter: db.prepare<[string, number], { seq: number; data: Buffer }>(
      'SELECT seq, data FROM updates WHERE name = ? AND seq > ? ORDER BY seq',
    ),
    writeSnapshot: db.prepare<[Uint8Array, number, string, number]>(
      'UPDATE documents SET snapshot = ?, snapshot_seq = ? WHERE name = ? AND snapshot_seq < ?',
    ),
    deleteUpto: db.prepare<[string, number]>('DELETE FROM updates WHERE name = ? AND seq <= ?'),
    logLength: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM updates WHERE name = ?'),
    create: db.prepare<[string, string, number, number]>(
      'INSERT INTO documents (name, title, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
    ),
    info: db.prepare<[string], DocumentRow>('SELECT name, title, created_at, updated_at FROM documents WHERE name = ?'),
    list: db.prepare<[number], DocumentRow>(
      'SELECT name, title, created_at, updated_at FROM documents ORDER BY updated_at DESC, name LIMIT ?',
    ),
    setTitle: db.prepare<[string, string]>('UPDATE documents SET title = ? WHERE name = ?'),
    check: db.prepare('SELECT 1'),
  };

  const appendTx = db.transaction((name: string, update: Uint8Array): number => {
    const now = Date.now();
    const { seq } = statements.bumpSeq.get(name, now, now) as { seq: number };
    statements.insertUpdate.run(name, seq, update);
    return seq;
  });

  const readTx = db.transaction((name: string, afterSeq: number) => {
    const doc = statements.document.get(name);
    if (!doc) return { snapshot: null, updates: [] as LoggedUpdate[], seq: 0 };
    // Rows ≤ snapshot_seq are gone once compacted: fall back to the snapshot for them.
    const needsSnapshot = afterSeq < doc.snapshot_seq;
    const from = needsSnapshot ? doc.snapshot_seq : afterSeq;
    const updates = statements.updatesAfter.all(name, from).map((row) => ({ seq: row.seq, update: asBytes(row.data) }));
    return { snapshot: needsSnapshot && doc.snapshot ? asBytes(doc.snapshot) : null, updates, seq: doc.seq };
  });

  const compactTx = db.transaction((name: string, snapshot: Uint8Array, uptoSeq: number) => {
    const written = statements.writeSnapshot.run(snapshot, uptoSeq, name, uptoSeq);
    if (written.changes > 0) statements.deleteUpto.run(name, uptoSeq);
  });

  let closed = false;
  return {
    kind: 'sqlite',
    async load(name): Promise<StoredDocument> {
      const { snapshot, updates, seq } = readTx(name, -1);
      return { snapshot, updates: updates.map((row) => row.update), seq };
    },
    async append(name, update) {
      return appendTx(name, update);
    },
    async readSince(name, afterSeq) {
      return readTx(name, afterSeq);
    },
    async compact(name, snapshot, uptoSeq) {
      compactTx(name, snapshot, uptoSeq);
    },
    async logLength(name) {
      return statements.logLength.get(name)?.n ?? 0;
    },
    async create(name, title) {
      const now = Date.now();
      return statements.create.run(name, title, now, now).changes > 0;
    },
    async info(name) {
      const row = statements.info.get(name);
      return row ? toInfo(row) : null;
    },
    async list(limit) {
      return statements.list.all(limit).map(toInfo);
    },
    async setTitle(name, title) {
      return statements.setTitle.run(title, name).changes > 0;
    },
    async check() {
      if (closed) throw new Error('storage is closed');
      statements.check.get();
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
