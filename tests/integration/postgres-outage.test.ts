import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { startPostgres, type PostgresService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { metricValue } from './cluster-harness.js';

const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
let postgres: PostgresService | null = null;
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  await postgres?.stop();
  postgres = null;
});

const text = (client: TestClient) => client.doc.getText('body').toString();

describe('PostgreSQL outage', () => {
  it('holds edits back while PostgreSQL is down (503 on /healthz), commits and relays them once it is back', async () => {
    postgres = await startPostgres();
    const url = await postgres.createDatabase();
    const server = await startServer({ env: { DATABASE_URL: url } });
    servers.push(server);
    const [writer, reader] = [connectClient(server.syncUrl, 'outage'), connectClient(server.syncUrl, 'outage')];
    clients.push(writer, reader);
    await Promise.all([synced(writer), synced(reader)]);
    writer.doc.getText('body').insert(0, 'before;');
    await waitFor(() => text(reader) === 'before;', 'the first edit to be relayed');

    await postgres.kill();
    await waitFor(async () => (await fetch(`${server.httpUrl}/healthz`)).status === 503, '/healthz to report storage down', 10_000, 100);
    const failuresBefore = await metricValue(server, 'collab_persist_failures_total');
    writer.doc.getText('body').insert(text(writer).length, 'during;');
    // Not committed, so not relayed. No fixed wait: the server has tried to commit the edit (and
    // failed), and a cursor change the writer sent after the edit has reached the reader, so the
    // connection between them works and the server has long handled the edit.
    await waitFor(async () => (await metricValue(server, 'collab_persist_failures_total')) > failuresBefore, 'a failed commit of the held edit', 15_000, 50);
    writer.provider.awareness.setLocalStateField('marker', 'after the held edit');
    await waitFor(
      () => (reader.provider.awareness.getStates().get(writer.doc.clientID) as { marker?: string } | undefined)?.marker === 'after the held edit',
      "the writer's cursor change (sent after the edit) to reach the reader",
    );
    expect(text(reader)).toBe('before;');

    await postgres.restart();
    await waitFor(() => text(reader) === 'before;during;', 'the held edit to be committed and relayed', 15_000, 50);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();

    // It is in PostgreSQL: another instance loads it cold.
    const other = await startServer({ env: { DATABASE_URL: url } });
    servers.push(other);
    const cold = connectClient(other.syncUrl, 'outage');
    clients.push(cold);
    await synced(cold);
    expect(text(cold)).toBe('before;during;');
  });
});
