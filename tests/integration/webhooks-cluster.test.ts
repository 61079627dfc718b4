/**
 * Webhooks with several instances on PostgreSQL (and Redis): every event is delivered once, by one
 * instance, though both poll the same outbox; a killed instance's delivery in flight is taken over
 * by another once its lease expires.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { api, startReceiver, webhookEnv, type Receiver } from './webhooks-harness.js';

let postgres: PostgresService;
let redis: RedisService;
let receiver: Receiver;
const servers: ServerProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  [postgres, redis, receiver] = await Promise.all([startPostgres(), startRedis(), startReceiver()]);
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(servers.map((s) => s.kill('SIGKILL')));
  await Promise.all([postgres?.stop(), redis?.stop(), receiver?.close()]);
});

const instance = async () => {
  const server = await startServer({ env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, ...webhookEnv(receiver, { WEBHOOK_TIMEOUT_MS: '1000' }) } });
  servers.push(server);
  return server;
};

async function editor(server: ServerProcess, document: string): Promise<TestClient> {
  const client = connectClient(server.syncUrl, document);
  clients.push(client);
  await synced(client);
  return client;
}

async function commit(client: TestClient, observers: TestClient[], text: string): Promise<void> {
  client.doc.getText('body').insert(0, text);
  await waitFor(() => observers.every((o) => o.doc.getText('body').toString().includes(text)), `"${text}" committed and relayed`);
}

it('delivers each event once to each endpoint, whichever instance committed it, retries included', async () => {
  const [a, b] = [await instance(), await instance()];
  // Every first attempt fails: the retries are claimed by whichever instance polls first.
  receiver.respond = ({ attempt }) => (attempt === 1 ? 500 : 204);
  const documents = ['c1', 'c2', 'c3', 'c4'];
  for (const document of documents) {
    const onA = await editor(a, document);
    const onB = await editor(b, document);
    await commit(onA, [onB], `${document} from a`);
    await commit(onB, [onA], `${document} from b`);
  }
  expect((await api(b.httpUrl, 'POST', '/api/documents', { body: { name: 'posted-on-b' } })).status).toBe(201);

  for (const document of documents) {
    await receiver.waitFor((e) => e.type === 'document.updated' && e.data.document === document && e.data.seq === 2, `document.updated of ${document} at seq 2`);
    await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === document, `document.created of ${document}`);
  }
  await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === 'posted-on-b', 'document.created of posted-on-b');
  await waitFor(async () => (await api(a.httpUrl, 'GET', '/api/webhooks/default/deliveries?status=pending')).body.deliveries.length === 0, 'no pending deliveries');

  const acknowledged = receiver.acknowledged().map((r) => r.id);
  expect(acknowledged.length).toBeGreaterThanOrEqual(documents.length * 2 + 1);
  expect(new Set(acknowledged).size).toBe(acknowledged.length);
  // Each event was attempted exactly twice: a 500, then a 204; never by both instances at once.
  for (const id of acknowledged) expect(receiver.received.filter((r) => r.id === id).map((r) => r.answer)).toEqual([500, 204]);
  // One document created: exactly one document.created, though both instances saw its first commits.
  for (const document of documents) {
    expect(receiver.acknowledged().filter((r) => r.event.type === 'document.created' && r.event.data.document === document)).toHaveLength(1);
  }
  await b.kill('SIGKILL');
});

it('takes over the delivery a killed instance had in flight once its lease expires', async () => {
  const a = servers[0]!;
  // A is alone now: it claims the event, and is SIGKILLed the moment its attempt arrives, so the
  // attempt is never answered nor recorded: the delivery stays leased to a dead instance.
  receiver.respond = ({ event, attempt }) => {
    if (event.type !== 'document.updated' || event.data.document !== 'takeover' || attempt > 1) return 204;
    a.child.kill('SIGKILL');
    return 'hang';
  };
  const writer = await editor(a, 'takeover');
  const observer = await editor(a, 'takeover');
  await commit(writer, [observer], 'in flight');
  await waitFor(() => receiver.received.some((r) => r.event.type === 'document.updated' && r.event.data.document === 'takeover'), 'the attempt of the instance that dies');
  const id = receiver.received.find((r) => r.event.type === 'document.updated' && r.event.data.document === 'takeover')!.id;
  await a.kill('SIGKILL');
  const c = await instance();
  // The lease (2 × 1 s timeout + 5 s) runs out; C claims the delivery and makes the second attempt.
  const delivered = await receiver.waitFor((_, r) => r.id === id, 'the taken-over delivery', 30_000);
  expect(delivered.verified).toBe(true);
  let record: { status: string } | undefined;
  await waitFor(async () => {
    const { body } = await api(c.httpUrl, 'GET', '/api/webhooks/default/deliveries');
    record = body.deliveries.find((d: { eventId: string }) => d.eventId === id);
    return record?.status === 'delivered';
  }, 'the delivery recorded as delivered');
  // The dead instance's attempt was never recorded: the one that delivered is the first counted.
  expect(record).toMatchObject({ status: 'delivered', attempts: 1 });
});
