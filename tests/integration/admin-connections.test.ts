/**
 * GET /api/admin/connections: loaded documents and their live connections (transport, address,
 * token subject, since when, messages and bytes both ways, queued bytes, awareness client ids),
 * counted by the server exactly as the clients counted what they sent and received. Admin tokens
 * only (403 without the claim, 401 without a token); an open server answers on loopback. Never
 * document content or tokens.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { once, waitFor } from '../helpers/wait.js';
import { SECRET, token } from './security-harness.js';

interface Counts {
  messagesOut: number;
  bytesOut: number;
  messagesIn: number;
  bytesIn: number;
}

/** A stock WebsocketProvider whose socket counts the messages it sends and receives, as the server should. */
function countingClient(syncUrl: string, document: string, params: Record<string, string>) {
  const counts: Counts = { messagesOut: 0, bytesOut: 0, messagesIn: 0, bytesIn: 0 };
  const sockets: WebSocket[] = [];
  class CountingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      this.on('message', (data: Buffer) => {
        counts.messagesIn++;
        counts.bytesIn += data.byteLength;
      });
    }
    override send(data: Uint8Array, ...rest: never[]): void {
      counts.messagesOut++;
      counts.bytesOut += data.byteLength;
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(syncUrl, document, doc, { WebSocketPolyfill: CountingWebSocket as unknown as typeof globalThis.WebSocket, disableBc: true, params });
  return { doc, provider, counts, sockets, destroy: () => (provider.destroy(), doc.destroy()) };
}

interface ListedConnection {
  id: number;
  transport: string;
  address: string | null;
  subject: string;
  canWrite: boolean;
  connectedAt: string;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  queuedBytes: number;
  awarenessClients: number[];
}
interface Listing {
  generatedAt: string;
  totals: { documents: number; connections: number };
  documents: Array<{ name: string; committedSeq: number; connections: ListedConnection[] }>;
}

async function listing(server: ServerProcess, bearer?: string): Promise<{ status: number; text: string; body: Listing & { error?: string } }> {
  const response = await fetch(`${server.httpUrl}/api/admin/connections`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
});

describe('GET /api/admin/connections', () => {
  it('lists documents and connections with the figures the clients saw, and nothing of content or tokens', async () => {
    const server = await startServer({ env: { AUTH_SECRET: SECRET } });
    servers.push(server);
    const aliceToken = await token({ subject: 'alice' });
    const bobToken = await token({ subject: 'bob', canWrite: false });
    const adminToken = await token({ subject: 'ops', admin: true });
    const started = Date.now();
    const alice = countingClient(server.syncUrl, 'team/plan', { token: aliceToken });
    const bob = countingClient(server.syncUrl, 'team/plan', { token: bobToken });
    const carol = countingClient(server.syncUrl, 'other', { token: aliceToken });
    try {
      await Promise.all([alice, bob, carol].map((client) => once(client.provider as never, 'sync', 'a client to sync')));
      alice.provider.awareness.setLocalStateField('user', { name: 'Alice Secretname', color: '#123456' });
      bob.provider.awareness.setLocalStateField('user', { name: 'Bob Hiddenname', color: '#654321' });
      alice.doc.getText('t').insert(0, 'confidential paragraph text');
      await waitFor(() => bob.doc.getText('t').toString() === 'confidential paragraph text', 'bob to receive the edit');
      await waitFor(() => bob.provider.awareness.getStates().has(alice.doc.clientID), "bob to see alice's cursor");

      // Once quiet, the server counted exactly what each client sent and received.
      let latest: Listing | null = null;
      await waitFor(
        async () => {
          const { body } = await listing(server, adminToken);
          latest = body;
          const plan = body.documents.find((d) => d.name === 'team/plan');
          if (!plan || plan.connections.length !== 2) return false;
          return [alice, bob].every((client) => {
            const listed = plan.connections.find((c) => c.awarenessClients.includes(client.doc.clientID));
            return !!listed && listed.messagesIn === client.counts.messagesOut && listed.bytesIn === client.counts.bytesOut && listed.messagesOut === client.counts.messagesIn && listed.bytesOut === client.counts.bytesIn;
          });
        },
        'the listing to match what the clients counted',
        15_000,
        100,
      );
      const body = latest!;
      expect(body.totals).toEqual({ documents: 2, connections: 3 });
      expect(body.documents.map((d) => d.name)).toEqual(['other', 'team/plan']);
      const plan = body.documents.find((d) => d.name === 'team/plan')!;
      expect(plan.committedSeq).toBeGreaterThan(0);
      const aliceListed = plan.connections.find((c) => c.subject === 'alice')!;
      const bobListed = plan.connections.find((c) => c.subject === 'bob')!;
      for (const [listed, client, canWrite] of [
        [aliceListed, alice, true],
        [bobListed, bob, false],
      ] as const) {
        expect(listed.transport).toBe('websocket');
        expect(listed.address).toBe('127.0.0.1');
        expect(listed.canWrite).toBe(canWrite);
        expect(listed.queuedBytes).toBe(0);
        expect(listed.awarenessClients).toEqual([client.doc.clientID]);
        expect(Date.parse(listed.connectedAt)).toBeGreaterThanOrEqual(started - 1000);
        expect(Date.parse(listed.connectedAt)).toBeLessThanOrEqual(Date.now());
        expect(listed.messagesIn).toBeGreaterThan(0);
        expect(listed.messagesOut).toBeGreaterThan(0);
      }

      const { text } = await listing(server, adminToken);
      for (const secret of ['confidential', 'Secretname', 'Hiddenname', '#123456', aliceToken, bobToken, adminToken, SECRET]) expect(text).not.toContain(secret);
    } finally {
      for (const client of [alice, bob, carol]) client.destroy();
    }
    await waitFor(async () => (await listing(server, adminToken)).body.documents.every((d) => d.connections.length === 0), 'closed connections to leave the listing');
  });

  it('needs an admin token: 401 without a valid one, 403 without the admin claim', async () => {
    const server = await startServer({ env: { AUTH_SECRET: SECRET } });
    servers.push(server);
    const none = await listing(server);
    expect(none.status).toBe(401);
    expect(none.body.error).toBeTruthy();
    expect((await listing(server, 'not.a.token')).status).toBe(401);
    const writer = await listing(server, await token({ subject: 'alice', canWrite: true }));
    expect(writer.status).toBe(403);
    expect(writer.body.error).toBe('the admin API needs an admin token');
    const expired = await listing(server, await token({ subject: 'ops', admin: true, now: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 }));
    expect(expired.status).toBe(401);
    // Other methods and paths of the admin API are not there, and say so.
    const post = await fetch(`${server.httpUrl}/api/admin/connections`, { method: 'POST', headers: { authorization: `Bearer ${await token({ admin: true })}`, 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(404);
    expect((await post.json()).error).toBeTruthy();
  });

  it('answers on an open server listening on loopback', async () => {
    const server = await startServer();
    servers.push(server);
    const open = await listing(server);
    expect(open.status).toBe(200);
    expect(open.body.totals).toEqual({ documents: 0, connections: 0 });
  });
});
