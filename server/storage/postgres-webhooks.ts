import type pg from 'pg';
import { inTransaction } from './postgres-transaction.js';
import { toDelivery, toEndpoint } from './webhook-rows.js';
import type { ChangeMark, ClaimedDelivery, DocumentHead, EventBuilder, OutboxEvent, WebhookStore } from './webhook-store.js';

/** Webhook tables (see webhook-store.ts); one migration of postgres.ts. */
export const POSTGRES_WEBHOOK_MIGRATION = `
  CREATE TABLE webhook_changes (
    document TEXT PRIMARY KEY,
    created BOOLEAN NOT NULL DEFAULT false,
    first_seq BIGINT NOT NULL,
    opened_at BIGINT NOT NULL
  );
  CREATE INDEX webhook_changes_opened_at ON webhook_changes (opened_at);
  CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    documents TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    failing_since BIGINT,
    disabled_at BIGINT,
    disabled_reason TEXT
  );
  CREATE TABLE webhook_outbox (
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    type TEXT NOT NULL,
    document TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    PRIMARY KEY (event_id, endpoint_id)
  );
  CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, created_at);
  CREATE INDEX webhook_outbox_finished ON webhook_outbox (updated_at) WHERE status <> 'pending';`;

/**
 * The change mark, as a data-modifying CTE of the append statement (postgres.ts), so that it
 * commits with the append: `bumped` returns the new seq and whether the row was inserted
 * (`xmax = 0`). While the mark exists the conflict updates nothing (the row is only locked, and
 * the document's counter row serialises appends anyway): one index probe per append. A mark only
 * serves to tell endpoints: while none exists the CTE inserts nothing and costs one probe of the
 * (empty) endpoint table. The statement's own snapshot decides, so an endpoint created on any
 * instance gets the marks of every append that starts after it committed.
 */
export const MARK_APPEND_CTE = `INSERT INTO webhook_changes (document, created, first_seq, opened_at)
             SELECT $1, inserted, seq, $3 FROM bumped WHERE EXISTS (SELECT 1 FROM webhook_endpoints)
             ON CONFLICT (document) DO UPDATE SET created = true WHERE excluded.created AND NOT webhook_changes.created`;

/** The mark of a created (or re-created) document, in create's transaction: its changes start at the next seq (none without an endpoint). */
export async function markCreated(client: pg.ClientBase, name: string, now: number): Promise<void> {
  await client.query({
    name: 'webhookMarkCreated',
    text: `INSERT INTO webhook_changes (document, created, first_seq, opened_at)
           SELECT name, true, seq + 1, $2 FROM documents WHERE name = $1 AND EXISTS (SELECT 1 FROM webhook_endpoints)
           ON CONFLICT (document) DO UPDATE SET created = true`,
    values: [name, now],
  });
}

const Q = {
  markOf: 'SELECT document, created, first_seq, opened_at FROM webhook_changes WHERE document = $1 FOR UPDATE',
  deleteMark: 'DELETE FROM webhook_changes WHERE document = $1',
  takeMark: 'DELETE FROM webhook_changes WHERE document = $1 RETURNING document, created, first_seq, opened_at',
  clearCreated: 'UPDATE webhook_changes SET created = false WHERE document = $1',
  head: 'SELECT seq, title FROM documents WHERE name = $1 AND deleted_at IS NULL',
  stale: 'SELECT document FROM webhook_changes WHERE opened_at < $1 ORDER BY opened_at LIMIT $2',
  insert: `INSERT INTO webhook_outbox (event_id, endpoint_id, type, document, payload, next_attempt_at, created_at, updated_at)
           SELECT $1, unnest($2::text[]), $3, $4, $5, $6, $6, $6 ON CONFLICT DO NOTHING`,
  // One statement: rows another instance is claiming at this instant are skipped (SKIP LOCKED), and
  // rows it leased are skipped until the lease expires (it may have died: then they are taken over).
  claim: `UPDATE webhook_outbox o SET lease_owner = $1, lease_until = $2::bigint + $3::bigint
          FROM (
            SELECT o2.event_id, o2.endpoint_id FROM webhook_outbox o2
            JOIN webhook_endpoints e2 ON e2.id = o2.endpoint_id AND e2.disabled_at IS NULL
            WHERE o2.status = 'pending' AND o2.next_attempt_at <= $2 AND (o2.lease_until IS NULL OR o2.lease_until < $2)
              AND NOT (o2.endpoint_id = ANY($5::text[]))
            ORDER BY o2.next_attempt_at LIMIT $4
            FOR UPDATE OF o2 SKIP LOCKED
          ) due, webhook_endpoints e
          WHERE o.event_id = due.event_id AND o.endpoint_id = due.endpoint_id AND e.id = o.endpoint_id
          RETURNING o.event_id, o.endpoint_id, o.type, o.document, o.payload, o.attempts, o.created_at, e.url, e.secret`,
  settle: `UPDATE webhook_outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_status = $3, last_error = $4,
             updated_at = $5, delivered_at = $6, lease_owner = NULL, lease_until = NULL
           WHERE event_id = $7 AND endpoint_id = $8 AND lease_owner = $9`,
  release: 'UPDATE webhook_outbox SET lease_owner = NULL, lease_until = NULL WHERE event_id = $1 AND endpoint_id = $2 AND lease_owner = $3',
  endpointSucceeded: 'UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL',
  endpointFailed: 'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2 RETURNING failing_since',
  saveEndpoint: `INSERT INTO webhook_endpoints (id, url, secret, events, documents, created_at, failing_since, disabled_at, disabled_reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events, documents = excluded.documents,
                   failing_since = excluded.failing_since, disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason`,
  endpoints: 'SELECT * FROM webhook_endpoints ORDER BY created_at, id',
  deleteEndpoint: 'DELETE FROM webhook_endpoints WHERE id = $1',
  deleteEndpointRows: 'DELETE FROM webhook_outbox WHERE endpoint_id = $1',
  disable: 'UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2 WHERE id = $3 AND disabled_at IS NULL',
  failPending: `UPDATE webhook_outbox SET status = 'failed', last_error = $1, updated_at = $2, lease_owner = NULL, lease_until = NULL
                WHERE endpoint_id = $3 AND status = 'pending'`,
  enable: 'UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL WHERE id = $1',
  deliveries: 'SELECT * FROM webhook_outbox WHERE endpoint_id = $1 AND ($3::text IS NULL OR status = $3) ORDER BY created_at DESC, event_id DESC LIMIT $2',
  stats: `SELECT count(*)::int AS pending, count(*) FILTER (WHERE o.attempts > 0)::int AS retrying FROM webhook_outbox o
          JOIN webhook_endpoints e ON e.id = o.endpoint_id AND e.disabled_at IS NULL WHERE o.status = 'pending'`,
  prune: "DELETE FROM webhook_outbox WHERE status <> 'pending' AND updated_at < $1",
} as const;

const query = (name: keyof typeof Q, values: unknown[]): pg.QueryConfig => ({ name: `webhook_${name}`, text: Q[name], values });

interface MarkRow {
  document: string;
  created: boolean;
  first_seq: string;
  opened_at: string;
}
const toMark = (row: MarkRow): ChangeMark => ({ document: row.document, created: row.created, firstSeq: Number(row.first_seq), openedAt: Number(row.opened_at) });


async function insertEvents(client: pg.ClientBase, events: readonly OutboxEvent[]): Promise<void> {
  for (const event of events) {
    if (event.endpointIds.length === 0) continue;
    await client.query(query('insert', [event.id, event.endpointIds, event.type, event.document, event.payload, event.createdAt]));
  }
}

async function headOf(client: pg.ClientBase, document: string): Promise<DocumentHead | null> {
  const { rows } = await client.query<{ seq: string; title: string }>(query('head', [document]));
  return rows[0] ? { seq: Number(rows[0].seq), title: rows[0].title } : null;
}

/**
 * The PostgreSQL webhook store. Closing a mark deletes its row first: an append racing with it
 * waits on that row lock and then opens a new mark, so every change is either covered by the seq
 * read here or by the next mark. Several instances claim deliveries with FOR UPDATE SKIP LOCKED.
 */
export function createPostgresWebhookStore(pool: pg.Pool): WebhookStore {
  const build = async (client: pg.ClientBase, row: MarkRow | undefined, builder: EventBuilder) => {
    if (!row) return [];
    const events = builder(toMark(row), await headOf(client, row.document));
    await insertEvents(client, events);
    return events;
  };
  return {
    takeCreated: (document, builder) =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<MarkRow>(query('markOf', [document]));
        const row = rows[0];
        if (!row || !row.created) return [];
        const head = await headOf(client, document);
        if (head === null || head.seq < Number(row.first_seq)) await client.query(query('deleteMark', [document]));
        else await client.query(query('clearCreated', [document]));
        const events = builder(toMark(row), head);
        await insertEvents(client, events);
        return events;
      }),
    closeChanges: (document, builder) =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<MarkRow>(query('takeMark', [document]));
        return build(client, rows[0], builder);
      }),
    async staleChanges(openedBefore, limit) {
      const { rows } = await pool.query<{ document: string }>(query('stale', [openedBefore, limit]));
      return rows.map((row) => row.document);
    },
    enqueue: (events, options = {}) =>
      inTransaction(pool, async (client) => {
        if (options.dropChangesOf !== undefined) await client.query(query('deleteMark', [options.dropChangesOf]));
        await insertEvents(client, events);
      }),
    async claim(owner, now, leaseMs, limit, skipEndpoints) {
      const { rows } = await pool.query(query('claim', [owner, now, leaseMs, limit, [...skipEndpoints]]));
      return rows.map(
        (row): ClaimedDelivery => ({
          eventId: row.event_id,
          endpointId: row.endpoint_id,
          type: row.type,
          document: row.document,
          payload: row.payload,
          attempts: Number(row.attempts),
          createdAt: Number(row.created_at),
          url: row.url,
          secret: row.secret,
        }),
      );
    },
    async settle(eventId, endpointId, owner, outcome) {
      if (!outcome.attempted) {
        const released = await pool.query(query('release', [eventId, endpointId, owner]));
        return (released.rowCount ?? 0) === 0 ? null : { failingSince: null };
      }
      return inTransaction(pool, async (client) => {
        const delivered = outcome.status === 'delivered';
        const settled = await client.query(
          query('settle', [outcome.status, outcome.nextAttemptAt, outcome.httpStatus, outcome.error, outcome.at, delivered ? outcome.at : null, eventId, endpointId, owner]),
        );
        if ((settled.rowCount ?? 0) === 0) return null;
        if (delivered) {
          await client.query(query('endpointSucceeded', [endpointId]));
          return { failingSince: null };
        }
        const { rows } = await client.query<{ failing_since: string | null }>(query('endpointFailed', [outcome.at, endpointId]));
        return { failingSince: rows[0]?.failing_since == null ? null : Number(rows[0].failing_since) };
      });
    },
    async saveEndpoint(e) {
      await pool.query(
        query('saveEndpoint', [e.id, e.url, e.secret, JSON.stringify(e.events), JSON.stringify(e.documents), e.createdAt, e.failingSince, e.disabledAt, e.disabledReason]),
      );
    },
    async listEndpoints() {
      const { rows } = await pool.query(query('endpoints', []));
      return rows.map(toEndpoint);
    },
    deleteEndpoint: (id) =>
      inTransaction(pool, async (client) => {
        await client.query(query('deleteEndpointRows', [id]));
        return ((await client.query(query('deleteEndpoint', [id]))).rowCount ?? 0) > 0;
      }),
    disableEndpoint: (id, reason, at) =>
      inTransaction(pool, async (client) => {
        if (((await client.query(query('disable', [at, reason, id]))).rowCount ?? 0) === 0) return false;
        await client.query(query('failPending', [`endpoint disabled: ${reason}`, at, id]));
        return true;
      }),
    async enableEndpoint(id) {
      return ((await pool.query(query('enable', [id]))).rowCount ?? 0) > 0;
    },
    async deliveries(endpointId, limit, status) {
      const { rows } = await pool.query(query('deliveries', [endpointId, limit, status ?? null]));
      return rows.map(toDelivery);
    },
    async outboxStats() {
      const { rows } = await pool.query<{ pending: number; retrying: number }>(query('stats', []));
      return { pending: rows[0]?.pending ?? 0, retrying: rows[0]?.retrying ?? 0 };
    },
    async prune(before) {
      return (await pool.query(query('prune', [before]))).rowCount ?? 0;
    },
  };
}
