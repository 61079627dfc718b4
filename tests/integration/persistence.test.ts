/**
 * What a server promises about its stored documents, on each store it supports (SQLite by default,
 * PostgreSQL with DATABASE_URL): content survives a graceful restart and a SIGKILL, and the log is
 * compacted while a long editing session is replayed edit by edit.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, tempDir, type ServerProcess, type StartOptions } from '../helpers/server.js';
import { startPostgres, type PostgresService } from '../helpers/services.js';
import { loadTrace, replayTrace } from '../helpers/trace.js';
import { waitFor } from '../helpers/wait.js';

/** A fresh, empty store: how a server is started on it, and how many log rows a document has there. */
interface Store {
  options: StartOptions;
  logRows(name: string): Promise<number>;
}

let postgres: PostgresService | undefined;
afterAll(async () => {
  await postgres?.stop();
});

const stores: Array<{ name: string; open(): Promise<Store> }> = [
  {
    name: 'SQLite',
    async open() {
      const dataDir = tempDir();
      return {
        options: { dataDir },
        async logRows(name) {
          const db = new Database(path.join(dataDir, 'collab.sqlite'), { readonly: true });
          try {
            return (db.prepare('SELECT count(*) AS rows FROM updates WHERE name = ?').get(name) as { rows: number }).rows;
          } finally {
            db.close();
          }
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      postgres ??= await startPostgres();
      const url = await postgres.createDatabase();
      return {
        options: { env: { DATABASE_URL: url } },
        async logRows(name) {
          const db = new pg.Client({ connectionString: url });
          await db.connect();
          try {
            const { rows } = await db.query<{ rows: string }>('SELECT count(*) AS rows FROM updates WHERE name = $1', [name]);
            return Number(rows[0]!.rows);
          } finally {
            await db.end();
          }
        },
      };
    },
  },
];

const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
});

async function start(store: Store, env: Record<string, string> = {}) {
  const server = await startServer({ ...store.options, env: { ...store.options.env, ...env }, timeoutMs: 60_000 });
  servers.push(server);
  return server;
}
function connect(server: ServerProcess, name: string) {
  const client = connectClient(server.syncUrl, name);
  clients.push(client);
  return client;
}

describe.each(stores)('persistence ($name)', ({ open }) => {
  it('keeps content across a graceful restart, and tells clients to reconnect with 1012', async () => {
    const store = await open();
    const first = await start(store);
    const writer = connect(first, 'restart me');
    await synced(writer);
    writer.doc.getText('body').insert(0, 'before the restart');
    writer.doc.getMap('meta').set('title', 'Restart');
    const witness = connect(first, 'restart me');
    await waitFor(() => witness.doc.getText('body').toString() === 'before the restart', 'the edit to be relayed');

    // Stock clients reconnect on their own; observe the close code from a plain socket.
    const raw = new WebSocket(`${first.syncUrl}/restart%20me`);
    await new Promise((resolve) => raw.once('open', resolve));
    const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
    expect(await first.kill('SIGTERM')).toBe(0);
    expect(await closed).toBe(1012);
    for (const client of clients.splice(0)) client.destroy();

    const second = await start(store);
    const reader = connect(second, 'restart me');
    await synced(reader);
    expect(reader.doc.getText('body').toString()).toBe('before the restart');
    expect(reader.doc.getMap('meta').get('title')).toBe('Restart');
    const listed = (await (await fetch(`${second.httpUrl}/api/documents`)).json()) as { documents: Array<{ name: string; title: string }> };
    expect(listed.documents.find((doc) => doc.name === 'restart me')?.title).toBe('Restart');
  });

  it('persists the automerge-paper trace replayed edit by edit, reloads it cold after SIGKILL, and keeps the log compacted', async () => {
    const trace = loadTrace();
    const store = await open();
    // A replay at machine speed (about 15,000 edits/s from one connection) is no abuse here: no rate limit.
    const server = await start(store, { COMPACT_AFTER_ROWS: '200', MAX_MESSAGES_PER_SECOND: '0' });
    const writer = connect(server, 'paper');
    const observer = connect(server, 'paper');
    await Promise.all([synced(writer), synced(observer)]);

    const started = performance.now();
    await replayTrace(writer.doc, writer.doc.getText('paper'), trace);
    // The observer only gets what the server committed, so once it has the end content, all is stored.
    await waitFor(() => observer.doc.getText('paper').length === trace.endContent.length && observer.doc.getText('paper').toString() === trace.endContent, 'the observer to receive the whole trace', 240_000, 100);
    const seconds = (performance.now() - started) / 1000;
    console.log(`automerge-paper: ${trace.txns.length} edits replayed and persisted in ${seconds.toFixed(1)} s (${Math.round(trace.txns.length / seconds)} edits/s)`);

    // No graceful shutdown: what the observer saw must already be stored.
    await server.kill('SIGKILL');
    for (const client of clients.splice(0)) client.destroy();
    const rows = await store.logRows('paper');
    expect(rows).toBeLessThanOrEqual(400);

    const restarted = await start(store);
    const reader = connect(restarted, 'paper');
    await synced(reader, 30_000);
    await waitFor(() => reader.doc.getText('paper').length === trace.endContent.length, 'the fresh client to load the document', 30_000, 5);
    expect(reader.doc.getText('paper').toString()).toBe(trace.endContent);
  }, 300_000);
});
