import type Database from 'better-sqlite3';
import { inSavepoint, type CustomWrites } from './sqlite-savepoint.js';
import type {
  ChangeMark,
  ClaimedDelivery,
  DocumentHead,
  OutboxEvent,
  WebhookStore,
} from './webhook-store.js';
import { toDelivery, toEndpoint, type EndpointRow, type OutboxRow } from './webhook-rows.js';

/** Webhook tables of the SQLite store (see webhook-store.ts); created with the document tables. */
export const SQLITE_WEBHOOK_SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_changes (
  document TEXT PRIMARY KEY,
  created INTEGER NOT NULL DEFAULT 0,
  first_seq INTEGER NOT NULL,
  opened_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS webhook_changes_opened_at ON webhook_changes (opened_at);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT NOT NULL,
  documents TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  failing_since INTEGER,
  disabled_at INTEGER,
  disabled_reason TEXT
);
CREATE TABLE IF NOT EXISTS webhook_outbox (
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  type TEXT NOT NULL,
  document TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER,
  PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_outbox_endpoint ON webhook_outbox (endpoint_id, created_at);
CREATE INDEX IF NOT EXISTS webhook_outbox_finished ON webhook_outbox (updated_at) WHERE status <> 'pending';
`;

/**
 * The change marks `append` and `create` write inside their own transaction (sqlite-writes.ts).
 * A mark only serves to tell endpoints, so none is written while no endpoint exists: then an append
 * costs nothing here. With an endpoint, per append: one primary-key probe before the counter bump
 * and one insert that is a no-op while the mark exists (~2 µs together, against ~100 µs for the
 * commit's fsync). Whether an endpoint exists is read in the transaction itself, once per batch and
 * again after any webhook write of the batch (which may have created the first endpoint): an
 * endpoint created by any process gets the marks of every append committed after it.
 */
export function prepareChangeMarks(db: Database.Database) {
  const anyEndpoint = db.prepare<[], { one: number }>('SELECT 1 AS one FROM webhook_endpoints LIMIT 1');
  const exists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM documents WHERE name = ?');
  const mark = db.prepare<[string, number, number, number]>(
    `INSERT INTO webhook_changes (document, created, first_seq, opened_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (document) DO UPDATE SET created = 1 WHERE excluded.created = 1 AND webhook_changes.created = 0`,
  );
  // A created (or re-created) document's changes start at the seq its next append gets.
  const markCreated = db.prepare<[number, string]>(
    `INSERT INTO webhook_changes (document, created, first_seq, opened_at) SELECT name, 1, seq + 1, ? FROM documents WHERE name = ?
     ON CONFLICT (document) DO UPDATE SET created = 1`,
  );
  return {
    /** Whether any endpoint exists now, in the running transaction (a mark would tell somebody). */
    wanted: (): boolean => anyEndpoint.get() !== undefined,
    /** Whether `name` has no document row yet (call before the append creates it). */
    isNew: (name: string): boolean => exists.get(name) === undefined,
    appended: (name: string, seq: number, created: boolean, now: number): void => void mark.run(name, created ? 1 : 0, seq, now),
    created: (name: string, now: number): void => void markCreated.run(now, name),
  };
}

interface MarkRow {
  document: string;
  created: number;
  first_seq: number;
  opened_at: number;
}

interface ClaimedRow {
  event_id: string;
  endpoint_id: string;
  type: string;
  document: string;
  payload: string;
  attempts: number;
  created_at: number;
  url: string;
  secret: string;
}
const toMark = (row: MarkRow): ChangeMark => ({ document: row.document, created: row.created === 1, firstSeq: row.first_seq, openedAt: row.opened_at });

/**
 * Webhook writes join the next commit of edits rather than commit on their own: at 400 edits/s
 * over 20 documents, giving each document's debounced event its own commit took 200+ commits a
 * second of the 250 the queue paces to, and edits waited for them (p99 ×10 in bench/webhooks.ts).
 * Without edits to join, they commit after this long.
 */
const JOIN_COMMIT_WITHIN_MS = 50;

/**
 * The SQLite webhook store. Its writes go through the store's write queue, so they share the
 * group commit (and its fsync) with the appends of the same tick; each runs in a savepoint, so a
 * failing webhook write rolls back alone and never takes the appends of its batch with it.
 */
export function createSqliteWebhookStore(db: Database.Database, writes: CustomWrites): WebhookStore {
  const q = {
    markOf: db.prepare<[string], MarkRow>('SELECT document, created, first_seq, opened_at FROM webhook_changes WHERE document = ?'),
    deleteMark: db.prepare<[string]>('DELETE FROM webhook_changes WHERE document = ?'),
    clearCreated: db.prepare<[string]>('UPDATE webhook_changes SET created = 0 WHERE document = ?'),
    head: db.prepare<[string], { seq: number; title: string }>('SELECT seq, title FROM documents WHERE name = ? AND deleted_at IS NULL'),
    stale: db.prepare<[number, number], { document: string }>('SELECT document FROM webhook_changes WHERE opened_at < ? ORDER BY opened_at LIMIT ?'),
    insert: db.prepare<[string, string, string, string, string, number, number, number]>(
      `INSERT INTO webhook_outbox (event_id, endpoint_id, type, document, payload, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    due: db.prepare<[number, number, string, number], { event_id: string; endpoint_id: string }>(
      `SELECT o.event_id, o.endpoint_id FROM webhook_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id AND e.disabled_at IS NULL
       WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until < ?)
         AND o.endpoint_id NOT IN (SELECT value FROM json_each(?))
       ORDER BY o.next_attempt_at LIMIT ?`,
    ),
    lease: db.prepare<[string, number, string, string, number]>(
      `UPDATE webhook_outbox SET lease_owner = ?, lease_until = ?
       WHERE event_id = ? AND endpoint_id = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until < ?)`,
    ),
    claimed: db.prepare<[string, string], ClaimedRow>(
      `SELECT o.event_id, o.endpoint_id, o.type, o.document, o.payload, o.attempts, o.created_at, e.url, e.secret
       FROM webhook_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id WHERE o.event_id = ? AND o.endpoint_id = ?`,
    ),
    settle: db.prepare<[string, number, number | null, string | null, number, number | null, string, string, string]>(
      `UPDATE webhook_outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ?,
         updated_at = ?, delivered_at = ?, lease_owner = NULL, lease_until = NULL
       WHERE event_id = ? AND endpoint_id = ? AND lease_owner = ?`,
    ),
    release: db.prepare<[string, string, string]>(
      'UPDATE webhook_outbox SET lease_owner = NULL, lease_until = NULL WHERE event_id = ? AND endpoint_id = ? AND lease_owner = ?',
    ),
    endpointSucceeded: db.prepare<[string]>('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?'),
    endpointFailed: db.prepare<[number, string], { failing_since: number | null }>(
      'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ? RETURNING failing_since',
    ),
    saveEndpoint: db.prepare<[string, string, string, string, string, number, number | null, number | null, string | null]>(
      `INSERT INTO webhook_endpoints (id, url, secret, events, documents, created_at, failing_since, disabled_at, disabled_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events, documents = excluded.documents,
         failing_since = excluded.failing_since, disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason`,
    ),
    endpoints: db.prepare<[], EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY created_at, id'),
    deleteEndpoint: db.prepare<[string]>('DELETE FROM webhook_endpoints WHERE id = ?'),
    deleteEndpointRows: db.prepare<[string]>('DELETE FROM webhook_outbox WHERE endpoint_id = ?'),
    disable: db.prepare<[number, string, string]>('UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ? AND disabled_at IS NULL'),
    failPending: db.prepare<[string, number, string]>(
      `UPDATE webhook_outbox SET status = 'failed', last_error = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL
       WHERE endpoint_id = ? AND status = 'pending'`,
    ),
    enable: db.prepare<[string]>('UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL WHERE id = ?'),
    deliveries: db.prepare<[string, number], OutboxRow>('SELECT * FROM webhook_outbox WHERE endpoint_id = ? ORDER BY created_at DESC, event_id DESC LIMIT ?'),
    deliveriesWith: db.prepare<[string, string, number], OutboxRow>(
      'SELECT * FROM webhook_outbox WHERE endpoint_id = ? AND status = ? ORDER BY created_at DESC, event_id DESC LIMIT ?',
    ),
    stats: db.prepare<[], { pending: number; retrying: number }>(
      `SELECT count(*) AS pending, coalesce(sum(o.attempts > 0), 0) AS retrying FROM webhook_outbox o
       JOIN webhook_endpoints e ON e.id = o.endpoint_id AND e.disabled_at IS NULL WHERE o.status = 'pending'`,
    ),
    prune: db.prepare<[number]>("DELETE FROM webhook_outbox WHERE status <> 'pending' AND updated_at < ?"),
  };

  const insertEvents = (events: readonly OutboxEvent[]) => {
    for (const event of events) {
      for (const endpointId of event.endpointIds) q.insert.run(event.id, endpointId, event.type, event.document, event.payload, event.createdAt, event.createdAt, event.createdAt);
    }
  };
  const headOf = (document: string): DocumentHead | null => q.head.get(document) ?? null;

  /** Runs `fn` in the write queue's next group commit (`now`: one that starts at once), in a savepoint of its own. */
  const write = <T>(fn: () => T, now = false): Promise<T> => inSavepoint(db, writes, 'webhook write', fn, now ? undefined : JOIN_COMMIT_WITHIN_MS);

  return {
    takeCreated: (document, build) =>
      write(() => {
        const row = q.markOf.get(document);
        if (!row || row.created !== 1) return [];
        const mark = toMark(row);
        const head = headOf(document);
        if (head === null || head.seq < mark.firstSeq) q.deleteMark.run(document);
        else q.clearCreated.run(document);
        const events = build(mark, head);
        insertEvents(events);
        return events;
      }),
    closeChanges: (document, build) =>
      write(() => {
        const row = q.markOf.get(document);
        if (!row) return [];
        q.deleteMark.run(document);
        const events = build(toMark(row), headOf(document));
        insertEvents(events);
        return events;
      }),
    async staleChanges(openedBefore, limit) {
      return q.stale.all(openedBefore, limit).map((row) => row.document);
    },
    enqueue: (events, options = {}) =>
      write(() => {
        if (options.dropChangesOf !== undefined) q.deleteMark.run(options.dropChangesOf);
        insertEvents(events);
      }),
    async claim(owner, now, leaseMs, limit, skipEndpoints) {
      // A read first: most polls find nothing due and then cost no write (and no fsync).
      const due = q.due.all(now, now, JSON.stringify(skipEndpoints), limit);
      if (due.length === 0) return [];
      return write(() => {
        const claimed: ClaimedDelivery[] = [];
        for (const row of due) {
          if (q.lease.run(owner, now + leaseMs, row.event_id, row.endpoint_id, now).changes === 0) continue;
          const full = q.claimed.get(row.event_id, row.endpoint_id);
          if (!full) continue;
          claimed.push({
            eventId: full.event_id,
            endpointId: full.endpoint_id,
            type: full.type,
            document: full.document,
            payload: full.payload,
            attempts: Number(full.attempts),
            createdAt: Number(full.created_at),
            url: full.url,
            secret: full.secret,
          });
        }
        return claimed;
      });
    },
    settle: (eventId, endpointId, owner, outcome) =>
      write(() => {
        if (!outcome.attempted) return q.release.run(eventId, endpointId, owner).changes === 0 ? null : { failingSince: null };
        const delivered = outcome.status === 'delivered';
        const changes = q.settle.run(
          outcome.status,
          outcome.nextAttemptAt,
          outcome.httpStatus,
          outcome.error,
          outcome.at,
          delivered ? outcome.at : null,
          eventId,
          endpointId,
          owner,
        ).changes;
        if (changes === 0) return null;
        if (delivered) {
          q.endpointSucceeded.run(endpointId);
          return { failingSince: null };
        }
        return { failingSince: q.endpointFailed.get(outcome.at, endpointId)?.failing_since ?? null };
      }),
    saveEndpoint: (e) =>
      write(() => {
        q.saveEndpoint.run(e.id, e.url, e.secret, JSON.stringify(e.events), JSON.stringify(e.documents), e.createdAt, e.failingSince, e.disabledAt, e.disabledReason);
      }, true),
    async listEndpoints() {
      return q.endpoints.all().map(toEndpoint);
    },
    deleteEndpoint: (id) =>
      write(() => {
        q.deleteEndpointRows.run(id);
        return q.deleteEndpoint.run(id).changes > 0;
      }, true),
    disableEndpoint: (id, reason, at) =>
      write(() => {
        if (q.disable.run(at, reason, id).changes === 0) return false;
        q.failPending.run(`endpoint disabled: ${reason}`, at, id);
        return true;
      }),
    enableEndpoint: (id) => write(() => q.enable.run(id).changes > 0, true),
    async deliveries(endpointId, limit, status) {
      const rows = status ? q.deliveriesWith.all(endpointId, status, limit) : q.deliveries.all(endpointId, limit);
      return rows.map(toDelivery);
    },
    async outboxStats() {
      const row = q.stats.get()!;
      return { pending: Number(row.pending), retrying: Number(row.retrying) };
    },
    prune: (before) => write(() => q.prune.run(before).changes),
  };
}
