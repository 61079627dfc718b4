/**
 * Webhooks survive SIGKILL: events whose deliveries were pending, and changes whose debounced
 * document.updated had not been enqueued yet (only the change mark, written with the commit,
 * existed), are all delivered after a restart on the same data.
 */
import { afterAll, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { api, startReceiver, webhookEnv, type Receiver } from './webhooks-harness.js';

const clients: TestClient[] = [];
const servers: ServerProcess[] = [];
let receiver: Receiver | null = null;
afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(servers.map((s) => s.kill('SIGKILL')));
  await receiver?.close();
});

async function editor(server: ServerProcess, document: string): Promise<TestClient> {
  const client = connectClient(server.syncUrl, document);
  clients.push(client);
  await synced(client);
  return client;
}

async function commit(client: TestClient, observer: TestClient, text: string): Promise<void> {
  client.doc.getText('body').insert(0, text);
  await waitFor(() => observer.doc.getText('body').toString().includes(text), `"${text}" committed and relayed`);
}

it('delivers every event after a SIGKILL: pending deliveries and debounced changes not yet enqueued', async () => {
  receiver = await startReceiver();
  const down = receiver;
  // Down at first: every attempt fails, so deliveries stay pending in the outbox.
  down.respond = () => 503;
  const dataDir = tempDir();
  const retries = Array.from({ length: 20 }, () => '300ms').join(',');
  const first = await startServer({ dataDir, env: webhookEnv(down, { WEBHOOK_RETRY_SCHEDULE: retries, WEBHOOK_DEBOUNCE_MS: '200', WEBHOOK_MAX_WAIT_MS: '1000' }) });
  servers.push(first);

  // 1. An event that was attempted and is pending a retry.
  const early = await editor(first, 'early');
  const earlyObserver = await editor(first, 'early');
  await commit(early, earlyObserver, 'one');
  await waitFor(() => down.received.some((r) => r.event.type === 'document.updated' && r.event.data.document === 'early'), 'a failed attempt of early');
  const earlyId = down.received.find((r) => r.event.type === 'document.updated' && r.event.data.document === 'early')!.id;

  // 2. A POST-created document: its document.created is enqueued at once (and fails).
  expect((await api(first.httpUrl, 'POST', '/api/documents', { body: { name: 'posted' } })).status).toBe(201);
  await waitFor(() => down.received.some((r) => r.event.type === 'document.created' && r.event.data.document === 'posted'), 'a failed attempt of posted');

  // 3. Changes whose document.updated waits for the debounce, which this process never reaches.
  const late = await editor(first, 'late');
  const lateObserver = await editor(first, 'late');
  await commit(late, lateObserver, 'two');
  await commit(late, lateObserver, 'three');
  // SIGKILL right after the commits were relayed, within the 200 ms debounce.
  await first.kill('SIGKILL');

  down.respond = () => 204;
  const restarted = await startServer({ dataDir, env: webhookEnv(down, { WEBHOOK_RETRY_SCHEDULE: retries }) });
  servers.push(restarted);

  const again = await down.waitFor((_, r) => r.id === earlyId, 'the pending event of early, same id');
  expect(again.event.data).toMatchObject({ document: 'early', seq: 1 });
  await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === 'posted', 'document.created of posted');
  await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === 'late', 'document.created of late');
  const lateUpdated = await receiver.waitFor((e) => e.type === 'document.updated' && e.data.document === 'late', 'document.updated of late, from its change mark');
  // The commits were made before the kill; the event carries the seq they reached.
  expect(lateUpdated.event.data.seq).toBe(2);
  // Enqueued by the restarted process from the mark: the names, held in memory only, are gone
  // (the killed process would have listed the stock client as "anonymous").
  expect(lateUpdated.event.data.editors).toEqual([]);

  // Nothing is left in the outbox.
  await waitFor(async () => {
    const { body } = await api(restarted.httpUrl, 'GET', '/api/webhooks/default/deliveries?status=pending');
    return body.deliveries.length === 0;
  }, 'the outbox to empty');
  expect(receiver.received.every((r) => r.verified)).toBe(true);
});
