/**
 * Webhooks against a real server process and a real receiver (tests/integration/webhooks-harness.ts):
 * debouncing, creation, signatures, retries and failures, endpoints through the API, presence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { counter } from '../helpers/metrics.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { freePort } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_SECRET, api, startReceiver, webhookEnv, type Receiver } from './webhooks-harness.js';

let receiver: Receiver;
let running: ServerProcess;
const server = () => running;
const extraReceivers: Receiver[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  receiver = await startReceiver();
  running = await startServer({
    env: webhookEnv(receiver, { WEBHOOK_DEBOUNCE_MS: '300', WEBHOOK_MAX_WAIT_MS: '1200', WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,400ms,800ms,1600ms' }),
  });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await running?.kill();
  await Promise.all([receiver?.close(), ...extraReceivers.map((r) => r.close())]);
});

/** A stock client that announces `name` in its awareness (what editors lists on an open server). */
async function editor(document: string, name: string): Promise<TestClient> {
  const client = connectClient(server().syncUrl, document);
  client.provider.awareness.setLocalStateField('user', { name });
  clients.push(client);
  await synced(client);
  return client;
}

/** Inserts `text` and waits until `observer` has it: the server committed it (it relays only after). */
async function commit(client: TestClient, observer: TestClient, text: string): Promise<void> {
  client.doc.getText('body').insert(0, text);
  await waitFor(() => observer.doc.getText('body').toString().includes(text), `"${text}" to be committed and relayed`);
}

const updatesOf = (document: string) => receiver.acknowledged().filter((r) => r.event.type === 'document.updated' && r.event.data.document === document);

describe('document events', () => {
  it('sends one debounced document.updated for a burst of edits, after document.created by the first edit', async () => {
    const ada = await editor('burst', 'Ada');
    const observer = await editor('burst', 'Observer');
    for (let i = 0; i < 5; i++) await commit(ada, observer, `<${i}>`);

    const created = await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === 'burst', 'document.created of burst');
    expect(created.event.data).toMatchObject({ document: 'burst', seq: 1, editors: ['Ada'] });
    const updated = await receiver.waitFor((e) => e.type === 'document.updated' && e.data.document === 'burst', 'document.updated of burst');
    // Its title is '': the document has no editor content (the title is its first line), only text.
    expect(updated.event.data).toEqual({ document: 'burst', seq: 5, editors: ['Ada'], title: '' });
    expect(Object.keys(updated.event).sort()).toEqual(['data', 'timestamp', 'type']);
    expect(Object.keys(updated.event.data).sort()).toEqual(['document', 'editors', 'seq', 'title']);

    // A later batch of another document is told after this one would have been, had there been two.
    const other = await editor('burst-sentinel', 'Ada');
    const otherObserver = await editor('burst-sentinel', 'Observer');
    await commit(other, otherObserver, 'later');
    await receiver.waitFor((e) => e.type === 'document.updated' && e.data.document === 'burst-sentinel', 'the sentinel document.updated');
    expect(updatesOf('burst')).toHaveLength(1);
  });

  it('sends document.updated by the maximum wait while edits never pause', async () => {
    const grace = await editor('nonstop', 'Grace');
    let n = 0;
    // One edit every 30 ms: never the 300 ms of quiet the debounce waits for.
    const typing = setInterval(() => grace.doc.getText('body').insert(0, `${n++} `), 30);
    try {
      await waitFor(() => updatesOf('nonstop').length >= 2, 'two document.updated while typing goes on');
    } finally {
      clearInterval(typing);
    }
    const [first, second] = updatesOf('nonstop');
    expect(second!.event.data.seq!).toBeGreaterThan(first!.event.data.seq!);
    expect(first!.event.data.editors).toEqual(['Grace']);
  });

  it('sends document.created for POST /api/documents, then document.updated for its title', async () => {
    const created = await api(server().httpUrl, 'POST', '/api/documents', { body: { name: 'posted', title: 'Plan' } });
    expect(created.status).toBe(201);
    const event = await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === 'posted', 'document.created of posted');
    expect(event.event.data).toMatchObject({ document: 'posted', title: 'Plan', editors: ['anonymous'] });
    const updated = await receiver.waitFor((e) => e.type === 'document.updated' && e.data.document === 'posted', 'document.updated of posted');
    expect(updated.event.data).toMatchObject({ seq: 1, title: 'Plan', editors: [] });
    expect(receiver.acknowledged().filter((r) => r.event.type === 'document.created' && r.event.data.document === 'posted')).toHaveLength(1);
  });

  it('sends document.deleted when a document is deleted', async () => {
    expect((await api(server().httpUrl, 'POST', '/api/documents', { body: { name: 'doomed' } })).status).toBe(201);
    await receiver.waitFor((e) => e.type === 'document.created' && e.data.document === 'doomed', 'document.created of doomed');
    expect((await api(server().httpUrl, 'DELETE', '/api/documents/doomed')).status).toBe(204);
    const deleted = await receiver.waitFor((e) => e.type === 'document.deleted' && e.data.document === 'doomed', 'document.deleted of doomed');
    expect(deleted.event.data.document).toBe('doomed');
  });

  it('signs every request so that standardwebhooks verifies it, and never sends document content', () => {
    expect(receiver.received.length).toBeGreaterThan(5);
    for (const request of receiver.received) {
      expect(request.verified).toBe(true);
      expect(request.headers['webhook-id']).toMatch(/^msg_/);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers.cookie).toBeUndefined();
      expect(request.headers.authorization).toBeUndefined();
    }
  });
});

describe('retries', () => {
  it('retries after 500, a timeout and a dropped connection, with the same event id', async () => {
    receiver.respond = ({ event, attempt }) => {
      if (event.data.document !== 'flaky') return 204;
      return ([500, 'hang', 'drop'] as const)[attempt - 1] ?? 204;
    };
    const ada = await editor('flaky', 'Ada');
    const observer = await editor('flaky', 'Observer');
    await commit(ada, observer, 'hello');
    const delivered = await receiver.waitFor((e) => e.type === 'document.updated' && e.data.document === 'flaky', 'flaky document.updated, finally');
    const attempts = receiver.received.filter((r) => r.id === delivered.id);
    expect(attempts.map((r) => r.answer)).toEqual([500, 'hang', 'drop', 204]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    expect(attempts.every((r) => r.verified)).toBe(true);

    // The outcome is recorded just after the receiver answered.
    let record: { status: string } | undefined;
    await waitFor(async () => {
      const { body } = await api(server().httpUrl, 'GET', '/api/webhooks/default/deliveries?limit=500');
      record = body.deliveries.find((d: { eventId: string }) => d.eventId === delivered.id);
      return record?.status === 'delivered';
    }, 'the delivery recorded as delivered');
    expect(record).toMatchObject({ status: 'delivered', attempts: 4, lastStatus: 204, lastError: null, type: 'document.updated', document: 'flaky' });
  });

  it('retries while the endpoint refuses connections, and delivers the same event once it listens', async () => {
    const port = await freePort();
    const added = await api(server().httpUrl, 'POST', '/api/webhooks', {
      body: { url: `http://127.0.0.1:${port}/hooks`, secret: TEST_SECRET, events: ['document.updated'], documents: ['refused-*'] },
    });
    expect(added.status).toBe(201);
    const id = added.body.id as string;
    const ada = await editor('refused-doc', 'Ada');
    const observer = await editor('refused-doc', 'Observer');
    await commit(ada, observer, 'knock knock');
    let pending: { eventId: string; attempts: number; lastError: string } | undefined;
    await waitFor(async () => {
      const { body } = await api(server().httpUrl, 'GET', `/api/webhooks/${id}/deliveries`);
      pending = body.deliveries.find((d: { status: string; attempts: number }) => d.status === 'pending' && d.attempts >= 1);
      return pending !== undefined;
    }, 'a refused attempt recorded');
    expect(pending!.lastError).toBe('connection refused');
    const late = await startReceiver({ port });
    extraReceivers.push(late);
    const arrived = await late.waitFor((e) => e.data.document === 'refused-doc', 'the event at the endpoint that now listens');
    expect(arrived.id).toBe(pending!.eventId);
    expect(arrived.verified).toBe(true);
  });

  it('marks a delivery failed after its last retry, visible in the deliveries list and metrics', async () => {
    const failing = await startReceiver();
    extraReceivers.push(failing);
    failing.respond = () => 500;
    const added = await api(server().httpUrl, 'POST', '/api/webhooks', { body: { url: failing.url, secret: TEST_SECRET, documents: ['hopeless'] } });
    expect(added.status).toBe(201);
    const ada = await editor('hopeless', 'Ada');
    const observer = await editor('hopeless', 'Observer');
    await commit(ada, observer, 'anyone?');
    let failed: Record<string, unknown> | undefined;
    await waitFor(async () => {
      const { body } = await api(server().httpUrl, 'GET', `/api/webhooks/${added.body.id}/deliveries?status=failed`);
      failed = body.deliveries.find((d: { type: string }) => d.type === 'document.updated');
      return failed !== undefined;
    }, 'the delivery to fail for good', 20_000);
    // One attempt and five retries (WEBHOOK_RETRY_SCHEDULE has five entries).
    expect(failed).toMatchObject({ status: 'failed', attempts: 6, lastStatus: 500, lastError: 'HTTP 500', nextAttemptAt: null, document: 'hopeless' });
    expect(failing.received.filter((r) => r.id === failed!.eventId)).toHaveLength(6);
    expect(await counter(server().httpUrl, 'collab_webhook_deliveries_total', '{outcome="failed"}')).toBeGreaterThanOrEqual(1);
    expect(await counter(server().httpUrl, 'collab_webhook_deliveries_total', '{outcome="retry"}')).toBeGreaterThanOrEqual(5);
    expect(await counter(server().httpUrl, 'collab_webhook_deliveries_total', '{outcome="delivered"}')).toBeGreaterThanOrEqual(5);
  });
});

describe('endpoints and presence', () => {
  it('lists endpoints without secrets, deletes API endpoints, and keeps the configured one', async () => {
    const { status, body } = await api(server().httpUrl, 'GET', '/api/webhooks');
    expect(status).toBe(200);
    expect(body.endpoints.find((e: { id: string }) => e.id === 'default')).toMatchObject({ url: receiver.url, source: 'config', events: ['document.created', 'document.updated', 'document.deleted'] });
    expect(JSON.stringify(body)).not.toContain('whsec_');

    const added = await api(server().httpUrl, 'POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/in' } });
    expect(added.status).toBe(201);
    expect(added.body.secret).toMatch(/^whsec_/);
    expect((await api(server().httpUrl, 'DELETE', `/api/webhooks/${added.body.id}`)).status).toBe(204);
    expect((await api(server().httpUrl, 'GET', `/api/webhooks/${added.body.id}`)).status).toBe(404);
    expect((await api(server().httpUrl, 'DELETE', '/api/webhooks/default')).status).toBe(409);

    for (const [input, message] of [
      [{ url: 'ftp://example.com/' }, 'http'],
      [{ url: 'https://user:pw@example.com/' }, 'credentials'],
      [{ url: 'https://example.com/', secret: 'hunter2' }, 'whsec_'],
      [{ url: 'https://example.com/', events: ['document.exploded'] }, 'unknown event type'],
      [{ url: 'https://example.com/', documents: [] }, 'documents'],
    ] as const) {
      const refused = await api(server().httpUrl, 'POST', '/api/webhooks', { body: input });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toContain(message);
    }
  });

  it('sends user.joined and user.left to an endpoint that asked for them', async () => {
    const presence = await startReceiver();
    extraReceivers.push(presence);
    const added = await api(server().httpUrl, 'POST', '/api/webhooks', {
      body: { url: presence.url, secret: TEST_SECRET, events: ['user.joined', 'user.left'], documents: ['meeting'] },
    });
    expect(added.status).toBe(201);
    const linus = await editor('meeting', 'Linus');
    const joined = await presence.waitFor((e) => e.type === 'user.joined', 'user.joined');
    expect(joined.event.data).toMatchObject({ document: 'meeting', user: 'Linus' });
    linus.destroy();
    const left = await presence.waitFor((e) => e.type === 'user.left', 'user.left');
    expect(left.event.data).toMatchObject({ document: 'meeting', user: 'Linus' });
    // The default endpoint did not ask for presence.
    expect(receiver.received.some((r) => r.event.type.startsWith('user.'))).toBe(false);
  });
});

describe('an endpoint that keeps failing', () => {
  it('is disabled once every attempt has failed for WEBHOOK_DISABLE_AFTER, and says so in the API, the log and the metrics', async () => {
    const failing = await startReceiver();
    extraReceivers.push(failing);
    failing.respond = () => 503;
    // Retries every 300 ms for a while, and "days" shortened to one second.
    const own = await startServer({ env: webhookEnv(failing, { WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms', WEBHOOK_DISABLE_AFTER: '1s' }) });
    try {
      const writer = connectClient(own.syncUrl, 'doomed');
      const observer = connectClient(own.syncUrl, 'doomed');
      clients.push(writer, observer);
      await Promise.all([synced(writer), synced(observer)]);
      await commit(writer, observer, 'is anyone there?');
      let endpoint: { disabledAt: string | null; disabledReason: string | null } | undefined;
      await waitFor(async () => {
        endpoint = (await api(own.httpUrl, 'GET', '/api/webhooks')).body.endpoints.find((e: { id: string }) => e.id === 'default');
        return endpoint?.disabledAt != null;
      }, 'the endpoint to be disabled', 20_000);
      expect(endpoint!.disabledReason).toMatch(/every attempt failed since/);
      expect(await counter(own.httpUrl, 'collab_webhook_endpoints_disabled_total')).toBe(1);
      expect(own.logs.some((line) => /disabl/i.test(line) && line.includes('default'))).toBe(true);
    } finally {
      await own.kill();
    }
  });
});
