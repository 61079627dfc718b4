import pg from 'pg';
import { listPatterns, nameRange, postgresLike } from './list-patterns.js';
import type { DocumentInfo, DocumentStore, LoggedUpdate, StoredDocument } from './types.js';
import { asBytes } from './bytes.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Connections in the pool. */
  poolSize: number;
  /** Called with errors of idle pooled connections (e.g. the server restarted); they are replaced. */
  onError?: (error: Error) => void;
}

/**
 * Migrations, applied in order on start under an advisory lock, so that several instances starting
 * together neither race nor apply one twice. Append only: never edit a migration that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE documents (
     name TEXT PRIMARY KEY,
     title TEXT NOT NULL DEFAULT '',
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL,
     seq BIGINT NOT NULL DEFAULT 0,
     snapshot BYTEA,
     snapshot_seq BIGINT NOT NULL DEFAULT 0
   );
   CREATE INDEX documents_updated_at ON documents (updated_at DESC, name);
   CREATE TABLE updates (
     name TEXT NOT NULL,
     seq BIGINT NOT NULL,
     data BYTEA NOT NULL,
     PRIMARY KEY (name, seq)
   );`,
  // Lists by access pattern compare names in code point order ("C"), whatever the database's
  // collation; the primary key's index (database collation) cannot serve those ranges.
  `CREATE INDEX documents_name_c ON documents (name COLLATE "C");`,
];

/** Arbitrary but fixed key of the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 7_402_115_001;
const CHECK_TIMEOUT_MS = 3_000;

interface DocumentRow {
  name: string;
  title: string;
  created_at: string;
  updated_at: string;
}

const toInfo = (row: DocumentRow): DocumentInfo => ({
  name: row.name,
  title: row.title,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// Named queries are prepared once per pooled connection.
const Q = {
  // One statement, one implicit transaction: bumping the counter row locks it until commit, so the
  // appends of a document serialise and their sequence numbers follow commit order, without gaps.
  append: `WITH bumped AS (
             INSERT INTO documents (name, created_at, updated_at, seq) VALUES ($1, $3, $3, 1)
             ON CONFLICT (name) DO UPDATE SET seq = documents.seq + 1, updated_at = excluded.updated_at
             RETURNING seq
           )
           INSERT INTO updates (name, seq, data) SELECT $1, seq, $2 FROM bumped RETURNING seq`,
  // One statement sees one snapshot: the document row and its log rows are consistent.
  // kind 0 is the document row (with the snapshot when rows before afterSeq were compacted away).
  readSince: `SELECT 0 AS kind, seq, CASE WHEN $2 < snapshot_seq THEN snapshot END AS data
                FROM documents WHERE name = $1
              UNION ALL
              SELECT 1 AS kind, u.seq, u.data FROM updates u
                WHERE u.name = $1
                  AND u.seq > GREATEST($2, (SELECT snapshot_seq FROM documents WHERE name = $1))
              ORDER BY kind, seq`,
  lockDocument: 'SELECT snapshot_seq FROM documents WHERE name = $1 FOR UPDATE',
  writeSnapshot: 'UPDATE documents SET snapshot = $2, snapshot_seq = $3 WHERE name = $1',
  deleteUpto: 'DELETE FROM updates WHERE name = $1 AND seq <= $2',
  logLength: 'SELECT count(*)::int AS n FROM updates WHERE name = $1',
  create: `INSERT INTO documents (name, title, created_at, updated_at) VALUES ($1, $2, $3, $3)
           ON CONFLICT (name) DO NOTHING`,
  info: 'SELECT name, title, created_at, updated_at FROM documents WHERE name = $1',
  list: 'SELECT name, title, created_at, updated_at FROM documents ORDER BY updated_at DESC, name LIMIT $1',
  setTitle: 'UPDATE documents SET title = $2 WHERE name = $1',
} as const;

function query(name: keyof typeof Q, values: unknown[]): pg.QueryConfig {
  return { name, text: Q[name], values };
}

/** The list of documents `patterns` grant (see list-patterns.ts): one indexed arm per pattern. */
function listMatchingQuery(limit: number, patterns: readonly string[]): pg.QueryConfig {
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const arms = listPatterns(patterns).map((pattern) => {
    const range = nameRange(pattern);
    const select = 'SELECT name, title, created_at, updated_at FROM documents WHERE ';
    if (range.exact !== null) return select + `name = ${param(range.exact)}`;
    const conditions: string[] = [];
    if (range.prefix !== '') conditions.push(`name COLLATE "C" >= ${param(range.prefix)}`);
    if (range.prefixEnd !== null) conditions.push(`name COLLATE "C" < ${param(range.prefixEnd)}`);
    conditions.push(`name LIKE ${param(postgresLike(pattern))}`);
    return select + conditions.join(' AND ');
  });
  if (arms.length === 0) return { text: 'SELECT name, title, created_at, updated_at FROM documents WHERE false', values: [] };
  return { text: `${arms.join(' UNION ')} ORDER BY updated_at DESC, name LIMIT ${param(limit)}`, values };
}

/** Runs `fn` in a transaction on one pooled connection: committed if it returns, rolled back if it throws. */
async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS collab_schema (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM collab_schema');
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO collab_schema (version) VALUES (0)');
    if (version > MIGRATIONS.length) {
      throw new Error(`the database schema is version ${version}, newer than this server knows (${MIGRATIONS.length}); upgrade the server`);
    }
    for (; version < MIGRATIONS.length; version++) await client.query(MIGRATIONS[version]!);
    await client.query('UPDATE collab_schema SET version = $1', [version]);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * PostgreSQL backend, for several server instances sharing one database. The schema is created
 * or migrated before this resolves. Commits are synchronous (PostgreSQL's default), so an append
 * has resolved only once its row is durable.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<DocumentStore> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'collab-docs',
  });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (error) => options.onError?.(error));
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }

  const readSince = async (name: string, afterSeq: number) => {
    const { rows } = await pool.query<{ kind: number; seq: string; data: Buffer | null }>(query('readSince', [name, afterSeq]));
    const head = rows[0];
    if (!head || head.kind !== 0) return { snapshot: null, updates: [] as LoggedUpdate[], seq: 0 };
    const updates: LoggedUpdate[] = [];
    for (let i = 1; i < rows.length; i++) updates.push({ seq: Number(rows[i]!.seq), update: asBytes(rows[i]!.data!) });
    return { snapshot: head.data ? asBytes(head.data) : null, updates, seq: Number(head.seq) };
  };

  let closed = false;
  return {
    kind: 'postgres',
    async load(name): Promise<StoredDocument> {
      const { snapshot, updates, seq } = await readSince(name, -1);
      return { snapshot, updates: updates.map((row) => row.update), seq };
    },
    async append(name, update) {
      const { rows } = await pool.query<{ seq: string }>(query('append', [name, asBuffer(update), Date.now()]));
      return Number(rows[0]!.seq);
    },
    readSince,
    async compact(name, snapshot, uptoSeq) {
      await inTransaction(pool, async (client) => {
        // The row lock makes concurrent compactions (and appends) of the document wait for this one;
        // whoever comes second sees the newer snapshot_seq and does nothing.
        const { rows } = await client.query<{ snapshot_seq: string }>(query('lockDocument', [name]));
        const current = rows[0] ? Number(rows[0].snapshot_seq) : null;
        if (current === null || current >= uptoSeq) return;
        await client.query(query('writeSnapshot', [name, asBuffer(snapshot), uptoSeq]));
        await client.query(query('deleteUpto', [name, uptoSeq]));
      });
    },
    async logLength(name) {
      const { rows } = await pool.query<{ n: number }>(query('logLength', [name]));
      return rows[0]?.n ?? 0;
    },
    async create(name, title) {
      const result = await pool.query(query('create', [name, title, Date.now()]));
      return (result.rowCount ?? 0) > 0;
    },
    async info(name) {
      const { rows } = await pool.query<DocumentRow>(query('info', [name]));
      return rows[0] ? toInfo(rows[0]) : null;
    },
    async list(limit, patterns) {
      const { rows } = await pool.query<DocumentRow>(patterns === undefined ? query('list', [limit]) : listMatchingQuery(limit, patterns));
      return rows.map(toInfo);
    },
    async setTitle(name, title) {
      const result = await pool.query(query('setTitle', [name, title]));
      return (result.rowCount ?? 0) > 0;
    },
    async check() {
      if (closed) throw new Error('storage is closed');
      await withTimeout(pool.query('SELECT 1'), CHECK_TIMEOUT_MS, 'PostgreSQL');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
