/**
 * The HTTP fallback transport with stock y-websocket clients on Node: `WebsocketProvider` with the
 * exported FallbackWebSocket as its `WebSocketPolyfill`, behind a proxy that WebSockets do not get
 * through (tests/helpers/blocking-proxy.ts), against a real server process.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StatusStore } from '../../client/editor/status-store.js';
import { memoryTransportMemory } from '../../client/transport/transport-memory.js';
import { startBlockingProxy, type BlockingProxy } from '../helpers/blocking-proxy.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { connectFallbackClient, transportOf } from '../helpers/fallback-clients.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { markerList } from './cluster-harness.js';
import { waitFor } from '../helpers/wait.js';

const text = (client: TestClient) => client.doc.getText('body').toString();

describe('stock WebsocketProvider with FallbackWebSocket', () => {
  let server: ServerProcess;
  let proxy: BlockingProxy;
  const clients: TestClient[] = [];
  const connect = (url: string, name: string, options?: Parameters<typeof connectFallbackClient>[2]) => {
    const client = connectFallbackClient(url, name, options);
    clients.push(client);
    return client;
  };
  const connectDirect = (name: string) => {
    const client = connectClient(server.syncUrl, name);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startServer({ env: { AWARENESS_INTERVAL_MS: '20' } });
    proxy = await startBlockingProxy(server.port);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.kill();
  });

  it('uses WebSocket where it gets through', async () => {
    const client = connect(server.syncUrl, 'direct');
    await synced(client);
    expect(transportOf(client)).toBe('websocket');
  });

  it('falls back to HTTP when the upgrade is refused, and syncs edits and awareness both ways with a WebSocket client', async () => {
    const fallback = connect(proxy.syncUrl, 'refused upgrade');
    const direct = connectDirect('refused upgrade');
    await Promise.all([synced(fallback, 15_000), synced(direct)]);
    expect(transportOf(fallback)).toBe('http');
    fallback.doc.getText('body').insert(0, 'from http;');
    direct.doc.getText('body').insert(0, 'from ws;');
    await waitFor(() => text(fallback).length === 18 && text(fallback) === text(direct), 'both edits on both sides');
    expect(text(fallback)).toContain('from http;');
    expect(text(fallback)).toContain('from ws;');
    fallback.provider.awareness.setLocalStateField('user', { name: 'Hattie' });
    direct.provider.awareness.setLocalStateField('user', { name: 'Wes' });
    const names = (client: TestClient) => [...client.provider.awareness.getStates().values()].map((state) => (state.user as { name?: string } | undefined)?.name);
    await waitFor(() => names(direct).includes('Hattie'), "the WebSocket client to see the HTTP client's presence");
    await waitFor(() => names(fallback).includes('Wes'), "the HTTP client to see the WebSocket client's presence");
    // Binary frames intact: an update with every byte value round-trips.
    const bytes = new Uint8Array(256).map((_, i) => i);
    fallback.doc.getMap('meta').set('blob', bytes);
    await waitFor(() => direct.doc.getMap('meta').get('blob') instanceof Uint8Array, 'the binary value to arrive');
    expect([...(direct.doc.getMap('meta').get('blob') as Uint8Array)]).toEqual([...bytes]);
    expect(proxy.forwarded.get('stream')).toBeGreaterThan(0);
    expect(proxy.forwarded.get('send')).toBeGreaterThan(0);
  });

  it('falls back when the WebSocket opens but never delivers the handshake reply', async () => {
    const silent = await startBlockingProxy(server.port, 'silent');
    try {
      const fallback = connect(silent.syncUrl, 'silent upgrade');
      const direct = connectDirect('silent upgrade');
      await Promise.all([synced(fallback, 15_000), synced(direct)]);
      expect(transportOf(fallback)).toBe('http');
      direct.doc.getText('body').insert(0, 'hello');
      await waitFor(() => text(fallback) === 'hello', 'the edit to reach the HTTP client');
    } finally {
      await silent.close();
    }
  });

  it('remembers the transport that worked and starts with it', async () => {
    const memory = memoryTransportMemory();
    const first = connect(proxy.syncUrl, 'remembered', { memory });
    await synced(first, 15_000);
    expect(memory.get(`127.0.0.1:${proxy.port}`)).toBe('http');
    const before = proxy.forwarded.get('stream') ?? 0;
    // With a long handshake timeout, a client that tried WebSocket first would take 30 s to sync.
    const second = connect(proxy.syncUrl, 'remembered', { memory, handshakeTimeoutMs: 30_000 });
    await synced(second, 10_000);
    expect(transportOf(second)).toBe('http');
    expect(proxy.forwarded.get('stream')).toBeGreaterThan(before);
  });
});

describe('the fallback across a server restart and back to WebSocket', () => {
  const clients: TestClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });

  it('survives a server restart: edits made while it was down arrive, nothing twice', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir });
    const proxy = await startBlockingProxy(server.port);
    try {
      const fallback = connectFallbackClient(proxy.syncUrl, 'restart');
      clients.push(fallback);
      await synced(fallback, 15_000);
      expect(transportOf(fallback)).toBe('http');
      const body = fallback.doc.getText('body');
      body.insert(0, '<before>');
      const probe = connectClient(server.syncUrl, 'restart');
      clients.push(probe);
      await waitFor(() => text(probe) === '<before>', 'the first edit to be on the server');
      const port = server.port;
      await server.kill('SIGTERM');
      body.insert(body.length, '<while down>');
      server = await startServer({ dataDir, port });
      body.insert(body.length, '<after>');
      const direct = connectClient(server.syncUrl, 'restart');
      clients.push(direct);
      await waitFor(() => markerList(text(direct)).length === 3 && text(direct) === text(fallback), 'the restarted server and both clients to agree', 30_000);
      expect(markerList(text(direct))).toEqual(['<after>', '<before>', '<while down>']);
      expect(transportOf(fallback)).toBe('http');
    } finally {
      await proxy.close();
      await server.kill();
    }
  });

  it('moves back to WebSocket once it gets through, without losing or duplicating an edit', async () => {
    const server = await startServer();
    const proxy = await startBlockingProxy(server.port);
    try {
      const memory = memoryTransportMemory();
      const fallback = connectFallbackClient(proxy.syncUrl, 'switch back', { memory, probeDelayMs: 300 });
      const direct = connectClient(server.syncUrl, 'switch back');
      clients.push(fallback, direct);
      // The editor's status owner, watching the switch.
      const store = new StatusStore({ provider: fallback.provider, doc: fallback.doc, network: { events: new EventTarget(), online: () => true } });
      const seen: string[] = [];
      store.subscribe((status) => seen.push(`${status.connection}:${status.transport ?? ''}`));
      await Promise.all([synced(fallback, 15_000), synced(direct)]);
      expect(transportOf(fallback)).toBe('http');
      await waitFor(() => store.status.transport === 'http', 'the status to say HTTP');
      const inserted: string[] = [];
      const type = (client: TestClient, tag: string) => {
        const body = client.doc.getText('body');
        body.insert(body.length, `<${tag}>`);
        inserted.push(`<${tag}>`);
      };
      for (let i = 0; i < 5; i++) type(fallback, `http ${i}`);
      proxy.mode = 'pass';
      // Typing on both sides while the socket switches.
      for (let i = 0; i < 20 && transportOf(fallback) !== 'websocket'; i++) {
        type(fallback, `during ${i}`);
        type(direct, `other ${i}`);
        await waitFor(() => text(fallback) === text(direct), 'both to agree after a round of typing', 15_000);
      }
      await waitFor(() => transportOf(fallback) === 'websocket' && fallback.provider.synced, 'the client to move to WebSocket', 20_000);
      expect(memory.get(`127.0.0.1:${proxy.port}`)).toBe('websocket');
      type(fallback, 'ws');
      await waitFor(() => text(fallback) === text(direct) && text(direct).includes('<ws>'), 'both to agree after the switch');
      expect(markerList(text(direct))).toEqual([...inserted].sort());
      await waitFor(() => store.status.transport === 'websocket', 'the status to say WebSocket');
      // A switch is a reconnect: never shown as offline.
      expect(seen.filter((entry) => entry.startsWith('offline'))).toEqual([]);
      expect(seen).toContain('connected:http');
      store.destroy();
    } finally {
      await proxy.close();
      await server.kill();
    }
  });
});
