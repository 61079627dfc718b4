import pg from 'pg';
import { listPatterns, nameRange, postgresLike } from './list-patterns.js';
import { queryWords, tsQuery } from './search-query.js';
import { DocumentDeletedError, type DocumentInfo, type DocumentStore, type LoggedUpdate, type StoredDocument } from './types.js';
import { asBytes } from './bytes.js';
import { inTransaction } from './postgres-transaction.js';
import { MARK_APPEND_CTE, POSTGRES_WEBHOOK_MIGRATION, createPostgresWebhookStore, markCreated } from './postgres-webhooks.js';
import { POSTGRES_VERSION_MIGRATION, createPostgresVersionStore } from './postgres-versions.js';
import { withTimeout } from '../with-timeout.js';
import { POSTGRES_FILE_MIGRATION, createPostgresFileStore, deleteFilesOf } from './postgres-files.js';

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
  // Deletion keeps the row as the reservation of the name (deleted_at set). Search: a document's
  // title and plain text in a table of their own, so that the tsvectors are recomputed only when
  // they change (an append updates the documents row on every commit); 'simple' config: no
  // stemming or stop words, like SQLite's unicode61 tokenizer.
  `ALTER TABLE documents ADD COLUMN deleted_at BIGINT;
   CREATE TABLE document_text (
     name TEXT PRIMARY KEY,
     title TEXT NOT NULL DEFAULT '',
     body TEXT NOT NULL DEFAULT '',
     title_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED,
     body_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
   );
   CREATE INDEX document_text_title ON document_text USING GIN (title_vector);
   CREATE INDEX document_text_body ON document_text USING GIN (body_vector);`,
  // Webhooks: change marks, endpoints and the outbox (postgres-webhooks.ts).
  POSTGRES_WEBHOOK_MIGRATION,
  // Files (images) uploaded into documents (postgres-files.ts).
  POSTGRES_FILE_MIGRATION,
  // Version history (postgres-versions.ts).
  POSTGRES_VERSION_MIGRATION,
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
  // A deleted document's row stays (deleted_at set): the conflict's update is skipped, nothing is
  // returned, and the append is refused; the row lock orders it after a concurrent deletion.
  append: `WITH bumped AS (
             INSERT INTO documents (name, created_at, updated_at, seq) VALUES ($1, $3, $3, 1)
             ON CONFLICT (name) DO UPDATE SET seq = documents.seq + 1, updated_at = excluded.updated_at
             WHERE documents.deleted_at IS NULL
             RETURNING seq, (xmax = 0) AS inserted
           ),
           -- webhooks: the mark of changes not yet told commits with the change (postgres-webhooks.ts)
           marked AS (${MARK_APPEND_CTE})
           INSERT INTO updates (name, seq, data) SELECT $1, seq, $2 FROM bumped RETURNING seq`,
  // One statement sees one snapshot: the document row and its log rows are consistent.
  // kind 0 is the document row (with the snapshot when rows before afterSeq were compacted away).
  readSince: `SELECT 0 AS kind, seq, CASE WHEN $2 < snapshot_seq THEN snapshot END AS data, deleted_at
                FROM documents WHERE name = $1
              UNION ALL
              SELECT 1 AS kind, u.seq, u.data, NULL FROM updates u
                WHERE u.name = $1
                  AND u.seq > GREATEST($2, (SELECT snapshot_seq FROM documents WHERE name = $1))
              ORDER BY kind, seq`,
  lockDocument: 'SELECT snapshot_seq FROM documents WHERE name = $1 AND deleted_at IS NULL FOR UPDATE',
  writeSnapshot: 'UPDATE documents SET snapshot = $2, snapshot_seq = $3 WHERE name = $1',
  deleteUpto: 'DELETE FROM updates WHERE name = $1 AND seq <= $2',
  logLength: 'SELECT count(*)::int AS n FROM updates WHERE name = $1',
  // Creating a deleted document undoes the deletion (explicitly: stale clients only append).
  create: `INSERT INTO documents (name, title, created_at, updated_at) VALUES ($1, $2, $3, $3)
           ON CONFLICT (name) DO UPDATE SET title = excluded.title, created_at = excluded.created_at,
             updated_at = excluded.updated_at, deleted_at = NULL
           WHERE documents.deleted_at IS NOT NULL`,
  info: 'SELECT name, title, created_at, updated_at FROM documents WHERE name = $1 AND deleted_at IS NULL',
  list: 'SELECT name, title, created_at, updated_at FROM documents WHERE deleted_at IS NULL ORDER BY updated_at DESC, name LIMIT $1',
  setTitle: 'UPDATE documents SET title = $2 WHERE name = $1 AND deleted_at IS NULL',
  indexTitle: `INSERT INTO document_text (name, title) VALUES ($1, $2)
               ON CONFLICT (name) DO UPDATE SET title = excluded.title`,
  indexText: `INSERT INTO document_text (name, body)
                SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM documents WHERE name = $1 AND deleted_at IS NULL)
              ON CONFLICT (name) DO UPDATE SET body = excluded.body`,
  markDeleted: `UPDATE documents SET deleted_at = $2, title = '', snapshot = NULL, snapshot_seq = seq
                WHERE name = $1 AND deleted_at IS NULL`,
  deleteLog: 'DELETE FROM updates WHERE name = $1',
  deleteText: 'DELETE FROM document_text WHERE name = $1',
  deleteVersions: 'DELETE FROM document_versions WHERE document = $1',
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
    const select = 'SELECT name, title, created_at, updated_at FROM documents WHERE deleted_at IS NULL AND ';
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

/**
 * Search (see DocumentStore.search): each word through the GIN indexes on title and text, the
 * token's patterns (if any) as a filter on the matches; title matches rank first.
 */
function searchQuery(words: readonly string[], limit: number, patterns?: readonly string[]): pg.QueryConfig | null {
  const values: unknown[] = [tsQuery(words)];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  let filter = '';
  if (patterns !== undefined) {
    const distinct = listPatterns(patterns);
    if (distinct.length === 0) return null;
    const arms = distinct.map((pattern) => {
      const range = nameRange(pattern);
      if (range.exact !== null) return `d.name = ${param(range.exact)}`;
      const conditions: string[] = [];
      if (range.prefix !== '') conditions.push(`d.name COLLATE "C" >= ${param(range.prefix)}`);
      if (range.prefixEnd !== null) conditions.push(`d.name COLLATE "C" < ${param(range.prefixEnd)}`);
      conditions.push(`d.name LIKE ${param(postgresLike(pattern))}`);
      return `(${conditions.join(' AND ')})`;
    });
    filter = ` AND (${arms.join(' OR ')})`;
  }
  return {
    text: `SELECT d.name, d.title, d.created_at, d.updated_at
           FROM document_text t JOIN documents d ON d.name = t.name, to_tsquery('simple', $1) q
           WHERE (t.title_vector @@ q OR t.body_vector @@ q) AND d.deleted_at IS NULL${filter}
           ORDER BY (t.title_vector @@ q) DESC, ts_rank(t.body_vector, q) DESC, d.updated_at DESC
           LIMIT ${param(limit)}`,
    values,
  };
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
    const { rows } = await pool.query<{ kind: number; seq: string; data: Buffer | null; deleted_at: string | null }>(query('readSince', [name, afterSeq]));
    const head = rows[0];
    if (!head || head.kind !== 0) return { snapshot: null, updates: [] as LoggedUpdate[], seq: 0 };
    if (head.deleted_at !== null) throw new DocumentDeletedError(name);
    const updates: LoggedUpdate[] = [];
    for (let i = 1; i < rows.length; i++) updates.push({ seq: Number(rows[i]!.seq), update: asBytes(rows[i]!.data!) });
    return { snapshot: head.data ? asBytes(head.data) : null, updates, seq: Number(head.seq) };
  };

  let closed = false;
  return {
    kind: 'postgres',
    webhooks: createPostgresWebhookStore(pool),
    files: createPostgresFileStore(pool),
    versions: createPostgresVersionStore(pool),
    async load(name): Promise<StoredDocument> {
      const { snapshot, updates, seq } = await readSince(name, -1);
      return { snapshot, updates: updates.map((row) => row.update), seq };
    },
    async append(name, update) {
      const { rows } = await pool.query<{ seq: string }>(query('append', [name, asBuffer(update), Date.now()]));
      if (rows.length === 0) throw new DocumentDeletedError(name);
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
      return inTransaction(pool, async (client) => {
        const result = await client.query(query('create', [name, title, Date.now()]));
        const created = (result.rowCount ?? 0) > 0;
        if (created) await client.query(query('indexTitle', [name, title]));
        if (created) await markCreated(client, name, Date.now());
        return created;
      });
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
      return inTransaction(pool, async (client) => {
        const result = await client.query(query('setTitle', [name, title]));
        const changed = (result.rowCount ?? 0) > 0;
        if (changed) await client.query(query('indexTitle', [name, title]));
        return changed;
      });
    },
    async setText(name, text) {
      const result = await pool.query(query('indexText', [name, text]));
      return (result.rowCount ?? 0) > 0;
    },
    async search(text, limit, patterns) {
      const words = queryWords(text);
      const config = words.length === 0 ? null : searchQuery(words, limit, patterns);
      if (!config) return [];
      const { rows } = await pool.query<DocumentRow>(config);
      return rows.map(toInfo);
    },
    async delete(name) {
      return inTransaction(pool, async (client) => {
        const result = await client.query(query('markDeleted', [name, Date.now()]));
        if ((result.rowCount ?? 0) === 0) return false;
        await client.query(query('deleteLog', [name]));
        await client.query(query('deleteText', [name]));
        await deleteFilesOf(client, name);
        await client.query(query('deleteVersions', [name]));
        return true;
      });
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
