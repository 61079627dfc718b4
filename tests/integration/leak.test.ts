import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { connectClient, synced } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import type { ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { frames, startSecureServer, token } from './security-harness.js';

const CYCLES = 3_000;
const PROVIDER_CYCLES = 200;
const CONCURRENCY = 50;
const DOCUMENTS = 20;

interface Memory {
  rss: number;
  heap: number;
}

/** One connection's life, ending one of several ways; resolves once the client side is done. */
function cycle(url: string, i: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const done = () => resolve();
    socket.once('close', done);
    socket.once('error', () => {});
    const style = i % 4;
    if (style === 3) {
      // Gone during the handshake.
      setImmediate(() => socket.terminate());
      return;
    }
    socket.once('open', () => {
      const doc = new Y.Doc();
      doc.getText('t').insert(0, `cycle ${i} `);
      socket.send(frames.step1(Y.encodeStateVector(doc)));
      socket.send(frames.update(Y.encodeStateAsUpdate(doc)));
      socket.send(frames.awareness([[doc.clientID, 1, { user: { name: `c${i}` } }]]));
      setTimeout(() => {
        if (style === 0) socket.close(1000);
        // Abrupt: the TCP socket is destroyed without a close handshake.
        else if (style === 1) (socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
        else socket.terminate();
      }, 5);
    });
  });
}

describe('connect/disconnect cycles', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    const preload = pathToFileURL(path.resolve('tests/helpers/gc-on-signal.mjs')).href;
    server = await startSecureServer({ ROOM_IDLE_MS: '100', NODE_OPTIONS: `--expose-gc --import ${preload}` });
  });
  afterAll(async () => {
    await server.kill();
  });

  async function settle(): Promise<Memory> {
    await waitFor(async () => (await metric(server.httpUrl, 'collab_connections')) === 0, 'every connection to be gone', 30_000, 50);
    await waitFor(async () => (await metric(server.httpUrl, 'collab_rooms')) === 0, 'every room to unload', 30_000, 50);
    for (let i = 0; i < 3; i++) {
      const acknowledged = server.logs.filter((line) => line.includes('"gcOnSignal"')).length;
      server.child.kill('SIGUSR2');
      await waitFor(() => server.logs.filter((line) => line.includes('"gcOnSignal"')).length > acknowledged, 'the server to acknowledge a forced GC', 10_000);
    }
    return { rss: await metric(server.httpUrl, 'process_resident_memory_bytes'), heap: await metric(server.httpUrl, 'nodejs_heap_size_used_bytes') };
  }

  async function run(count: number, offset: number, url: (i: number) => string): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) {
          const i = offset + next++;
          await cycle(url(i), i);
        }
      }),
    );
  }

  it(`returns to its baseline memory after ${CYCLES} raw and ${PROVIDER_CYCLES} WebsocketProvider cycles (a quarter each: clean close, socket destroyed, terminated, gone mid-handshake)`, async () => {
    const t = await token({ subject: 'cycler' });
    const url = (i: number) => `${server.syncUrl}/leak-${i % DOCUMENTS}?token=${t}`;
    await run(500, 0, url);
    const before = await settle();

    const started = Date.now();
    await run(CYCLES, 500, url);
    for (let i = 0; i < PROVIDER_CYCLES; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) => connectClient(server.syncUrl, `leak-${(i + j) % DOCUMENTS}`, { params: { token: t } }));
      await Promise.all(batch.map((client) => synced(client)));
      for (const client of batch) {
        client.provider.awareness.setLocalStateField('user', { name: 'p' });
        client.destroy();
      }
    }
    const elapsed = Date.now() - started;
    const after = await settle();

    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    console.log(
      `leak test: ${CYCLES + PROVIDER_CYCLES} cycles in ${elapsed} ms; heap used ${mb(before.heap)} → ${mb(after.heap)} MB, RSS ${mb(before.rss)} → ${mb(after.rss)} MB`,
    );
    // Generous bounds: a leak of even 2 KB per connection would add 6 MB of heap.
    expect(after.heap - before.heap).toBeLessThan(5 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(60 * 1024 * 1024);
    expect(await metric(server.httpUrl, 'collab_connections')).toBe(0);
    expect(await metric(server.httpUrl, 'collab_rooms')).toBe(0);
  });
});
