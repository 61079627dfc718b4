import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { freePort, startPostgres, startRedis, type PostgresService, type RedisService } from '../helpers/services.js';
import { metric } from '../helpers/metrics.js';
import { waitFor } from '../helpers/wait.js';

let postgres: PostgresService;
const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
const redises: RedisService[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  await Promise.all(redises.splice(0).map((redis) => redis.stop()));
});
afterAll(async () => {
  await postgres?.stop();
});

async function refusal(env: Record<string, string>): Promise<string> {
  const error = await startServer({ env }).then(
    (server) => {
      servers.push(server);
      return null;
    },
    (failure: Error) => failure,
  );
  return error?.message ?? 'started';
}

async function health(server: ServerProcess) {
  const response = await fetch(`${server.httpUrl}/healthz`);
  return { code: response.status, ...((await response.json()) as { status: string; checks: Record<string, string> }) };
}

describe('configuring PostgreSQL and Redis', () => {
  it.each([
    ['DATABASE_URL', 'mysql://db/collab', /exited with 78[\s\S]*DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    ['DATABASE_URL', 'not a url', /exited with 78[\s\S]*DATABASE_URL must be a URL/],
    ['REDIS_URL', 'http://cache:6379', /exited with 78[\s\S]*REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    ['DATABASE_POOL_SIZE', '0', /exited with 78[\s\S]*DATABASE_POOL_SIZE must be between 1 and 1000/],
  ])('refuses %s=%s at start, naming the variable', async (key, value, message) => {
    expect(await refusal({ [key]: value })).toMatch(message);
  });

  it('does not print the database password when it cannot connect', async () => {
    const port = await freePort();
    const message = await refusal({ DATABASE_URL: `postgres://collab:hunter2secret@127.0.0.1:${port}/collab` });
    expect(message).toMatch(/exited with 1/);
    expect(message).toMatch(/cannot open storage/);
    expect(message).not.toContain('hunter2secret');
  });

  it('creates the schema on first start, and several instances may start at once', async () => {
    const url = await postgres.createDatabase();
    const started = await Promise.all([1, 2, 3].map(() => startServer({ env: { DATABASE_URL: url } })));
    servers.push(...started);
    for (const server of started) expect((await health(server)).checks.storage).toBe('ok');
    const writer = connectClient(started[0]!.syncUrl, 'schema');
    clients.push(writer);
    await synced(writer);
    writer.doc.getText('body').insert(0, 'stored in PostgreSQL');
    await waitFor(async () => ((await (await fetch(`${started[2]!.httpUrl}/api/documents`)).json()) as { documents: unknown[] }).documents.length === 1, 'the document to be listed by another instance');
  });

  it('starts while Redis is down (degraded), and connects by itself once Redis is up', async () => {
    const url = await postgres.createDatabase();
    const redisPort = await freePort();
    const env = { DATABASE_URL: url, REDIS_URL: `redis://127.0.0.1:${redisPort}` };
    const [a, b] = await Promise.all([startServer({ env }), startServer({ env })]);
    servers.push(a!, b!);
    expect(await health(a!)).toMatchObject({ code: 200, status: 'degraded', checks: { storage: 'ok' } });

    // Edits cross instances meanwhile, through storage.
    const [x, y] = [connectClient(a!.syncUrl, 'late redis'), connectClient(b!.syncUrl, 'late redis')];
    clients.push(x, y);
    await Promise.all([synced(x), synced(y)]);
    x.doc.getText('body').insert(0, 'before redis');
    await waitFor(() => y.doc.getText('body').toString() === 'before redis', 'the edit to cross instances without Redis', 10_000);

    redises.push(await startRedis({ port: redisPort }));
    await waitFor(async () => (await health(a!)).status === 'ok' && (await health(b!)).status === 'ok', 'both instances to connect to Redis', 15_000, 100);
    // The fast path is in use: the next edit arrives at the other instance as a Redis message.
    const relayed = () => metric(b!.httpUrl, 'collab_cluster_messages_in_total', '{type="update"}');
    const relayedBefore = await relayed().catch(() => 0); // no sample before the first message
    x.doc.getText('body').insert(0, 'fast ');
    await waitFor(() => y.doc.getText('body').toString() === 'fast before redis', 'the edit to cross instances through Redis', 10_000);
    await waitFor(async () => (await relayed()) > relayedBefore, 'the edit to arrive as a Redis relay message');
  });
});
