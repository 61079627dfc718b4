/**
 * Who may manage webhook endpoints (admin tokens; on an open server, loopback only), and the SSRF
 * rule: private, loopback and link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE is set,
 * as IP literals when an endpoint is added and, for host names, at delivery time after resolving.
 */
import dns from 'node:dns/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../server/auth/tokens.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startRefused, startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_SECRET, api, startReceiver, webhookEnv, type Receiver } from './webhooks-harness.js';

const AUTH_SECRET = 'webhook access test secret, long enough to be valid';
const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(servers.map((s) => s.kill()));
  await receiver?.close();
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer({ env });
  servers.push(server);
  return server;
}

describe('access to /api/webhooks', () => {
  it('needs an admin token on a secured server', async () => {
    const server = await start({ AUTH_SECRET, ...webhookEnv(null) });
    const token = (options: { admin?: boolean } = {}) => mintToken(AUTH_SECRET, { subject: 'alice', documents: ['*'], canWrite: true, expiresInSeconds: 600, ...options });
    const writer = await token();
    const admin = await token({ admin: true });
    const endpoint = { url: receiver.url, secret: TEST_SECRET };

    expect((await api(server.httpUrl, 'GET', '/api/webhooks')).status).toBe(401);
    expect((await api(server.httpUrl, 'GET', '/api/webhooks', { token: 'not.a.token' })).status).toBe(401);
    expect((await api(server.httpUrl, 'GET', '/api/webhooks', { token: await mintToken('another secret that is long enough, really', { subject: 'alice', documents: ['*'], canWrite: true, expiresInSeconds: 600, admin: true }) })).status).toBe(401);
    for (const [method, path, body] of [
      ['GET', '/api/webhooks', undefined],
      ['POST', '/api/webhooks', endpoint],
      ['GET', '/api/webhooks/default', undefined],
      ['DELETE', '/api/webhooks/default', undefined],
      ['GET', '/api/webhooks/default/deliveries', undefined],
      ['POST', '/api/webhooks/default/enable', undefined],
    ] as const) {
      const refused = await api(server.httpUrl, method, path, { token: writer, ...(body && { body }) });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.error).toBe('managing webhooks needs an admin token');
    }

    const created = await api(server.httpUrl, 'POST', '/api/webhooks', { token: admin, body: endpoint });
    expect(created.status).toBe(201);
    expect((await api(server.httpUrl, 'GET', '/api/webhooks', { token: admin })).body.endpoints).toHaveLength(1);
    expect((await api(server.httpUrl, 'GET', `/api/webhooks/${created.body.id}/deliveries`, { token: admin })).status).toBe(200);
    expect((await api(server.httpUrl, 'DELETE', `/api/webhooks/${created.body.id}`, { token: admin })).status).toBe(204);
  });

  it('refuses endpoint management on an open server that listens beyond loopback', async () => {
    const server = await start({ HOST: '0.0.0.0', ...webhookEnv(null) });
    const refused = await api(server.httpUrl, 'GET', '/api/webhooks');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('AUTH_SECRET');
    expect((await api(server.httpUrl, 'POST', '/api/webhooks', { body: { url: receiver.url } })).status).toBe(403);
  });
});

describe('private addresses (SSRF)', () => {
  it('refuses WEBHOOK_URL on a loopback address at start unless WEBHOOK_ALLOW_PRIVATE is set', async () => {
    const output = await startRefused({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: TEST_SECRET } });
    expect(output).toContain('WEBHOOK_URL: 127.0.0.1 is a loopback address (set WEBHOOK_ALLOW_PRIVATE=1');
  });

  it('refuses private IP literals when an endpoint is added, and names resolving to them at delivery', async () => {
    const server = await start({ ...webhookEnv(null), WEBHOOK_ALLOW_PRIVATE: '' });
    for (const host of ['127.0.0.1', '[::1]', '169.254.169.254', '10.1.2.3', '192.168.0.10', '[::ffff:127.0.0.1]', 'localhost']) {
      const refused = await api(server.httpUrl, 'POST', '/api/webhooks', { body: { url: `http://${host}:${receiver.port}/hooks` } });
      expect(refused.status, host).toBe(400);
      expect(refused.body.error, host).toContain('WEBHOOK_ALLOW_PRIVATE');
    }

    // This machine's own name resolves to a loopback address (Debian's /etc/hosts): accepted as a
    // name, refused when the delivery resolves it.
    const hostname = os.hostname();
    const addresses = (await dns.lookup(hostname, { all: true })).map((a) => a.address);
    expect(addresses.some((address) => address.startsWith('127.') || address === '::1'), `${hostname} should resolve to loopback, got ${addresses}`).toBe(true);
    const added = await api(server.httpUrl, 'POST', '/api/webhooks', { body: { url: `http://${hostname}:${receiver.port}/hooks`, secret: TEST_SECRET } });
    expect(added.status).toBe(201);
    const client = connectClient(server.syncUrl, 'ssrf');
    clients.push(client);
    await synced(client);
    client.doc.getText('body').insert(0, 'hello');
    let attempt: { lastError: string; status: string } | undefined;
    await waitFor(async () => {
      const { body } = await api(server.httpUrl, 'GET', `/api/webhooks/${added.body.id}/deliveries`);
      attempt = body.deliveries.find((d: { attempts: number }) => d.attempts >= 1);
      return attempt !== undefined;
    }, 'a refused attempt');
    expect(attempt!.lastError).toMatch(new RegExp(`^refused: ${hostname} resolves to (127\\.|::1).*WEBHOOK_ALLOW_PRIVATE`));
    expect(receiver.received).toHaveLength(0);
  });
});
