import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { backends, durablePostgresBackend } from '../helpers/backends.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The promise we make: SIGKILL at any moment loses no update that any client has received from
 * the server. A writer streams numbered edits, an observer records what reached it, the server is
 * killed, and after a restart every number the observer saw must still be there.
 */
describe.each([...backends, durablePostgresBackend])('durability on $name', (backend) => {
  let env: Record<string, string> = {};
  let teardown: () => Promise<void> = async () => {};
  const servers: ServerProcess[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    ({ env, teardown } = await backend.setup());
  }, 120_000);
  afterAll(async () => {
    await teardown();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  });

  async function start(dataDir: string, port?: number) {
    const server = await startServer({ dataDir, port, env });
    servers.push(server);
    return server;
  }
  function connect(server: ServerProcess, name: string) {
    const client = connectClient(server.syncUrl, name);
    clients.push(client);
    return client;
  }
  const numbers = (doc: Y.Doc) => doc.getArray<number>('numbers');

  /** Kills the server, drops the clients before they can re-send anything, restarts, returns what survived. */
  async function killAndReload(server: ServerProcess, dataDir: string, name: string, observer: TestClient): Promise<{ seen: number[]; survived: Set<number> }> {
    await server.kill('SIGKILL');
    const seen = numbers(observer.doc).toArray();
    // The clients still hold every edit: destroy them so they cannot restore what the server lost.
    for (const client of clients.splice(0)) client.destroy();
    const restarted = await start(dataDir);
    const fresh = connect(restarted, name);
    await synced(fresh, 30_000);
    return { seen, survived: new Set(numbers(fresh.doc).toArray()) };
  }

  it('loses nothing the observer received when killed at a random moment mid-stream', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir);
    const name = `stream-${backend.name}`;
    const writer = connect(server, name);
    const observer = connect(server, name);
    await Promise.all([synced(writer), synced(observer)]);

    let next = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 5; i++) numbers(writer.doc).push([next++]);
    }, 1);
    // Random, but replayable: printed now, and KILL_AFTER_MS=<ms> repeats it.
    const killAfter = Number(process.env.KILL_AFTER_MS ?? 300 + Math.floor(Math.random() * 1200));
    console.log(`${backend.name}: killing after ${killAfter} ms (replay with KILL_AFTER_MS=${killAfter})`);
    await waitFor(() => numbers(observer.doc).length > 0, 'the observer to receive edits');
    // A sleep on purpose: the kill comes at a random (printed) moment of the stream, which runs meanwhile.
    await new Promise((resolve) => setTimeout(resolve, killAfter));
    clearInterval(timer);
    const { seen, survived } = await killAndReload(server, dataDir, name, observer);

    expect(seen.length).toBeGreaterThan(50);
    const lost = seen.filter((n) => !survived.has(n));
    console.log(`${backend.name}: killed after ${killAfter} ms; writer sent ${next}, observer saw ${seen.length}, lost ${lost.length}`);
    expect(lost).toEqual([]);
  });

  it.each([
    ['right after the observer received the whole burst', 1],
    ['in the middle of the burst', 0.5],
  ])('loses nothing of a burst of thousands of edits when killed %s', async (_when, fraction) => {
    const dataDir = tempDir();
    const server = await start(dataDir);
    const name = `burst-${backend.name}-${fraction}`;
    const writer = connect(server, name);
    const observer = connect(server, name);
    await Promise.all([synced(writer), synced(observer)]);

    const burst = 5_000;
    // Kill from inside the observer's handler, the moment it holds the chosen share of the burst.
    let killedAt = -1;
    numbers(observer.doc).observe(() => {
      if (killedAt < 0 && numbers(observer.doc).length >= burst * fraction) {
        killedAt = numbers(observer.doc).length;
        server.child.kill('SIGKILL');
      }
    });
    // Paced in chunks of 50 so that it reaches the server, and is committed, in many batches.
    for (let i = 0; i < burst; i++) {
      numbers(writer.doc).push([i]);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await waitFor(() => killedAt >= 0, `the observer to receive ${fraction * 100}% of the burst`, 60_000, 1);
    const { seen, survived } = await killAndReload(server, dataDir, name, observer);

    expect(seen.length).toBeGreaterThanOrEqual(burst * fraction);
    const lost = seen.filter((n) => !survived.has(n));
    console.log(`${backend.name}: burst of ${burst}, killed when the observer had ${killedAt}, observer saw ${seen.length}, server kept ${survived.size}, lost ${lost.length}`);
    expect(lost).toEqual([]);
  });
});
