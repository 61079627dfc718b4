/**
 * A cluster for tests: throwaway PostgreSQL and Redis, several built server instances sharing
 * them, and a round-robin TCP load balancer without sticky sessions in front, as in production.
 */
import net from 'node:net';
import * as Y from 'yjs';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { mulberry32 } from '../helpers/random.js';

export interface Balancer {
  readonly url: string;
  readonly syncUrl: string;
  /** Backend ports, tried in turn for each new connection; a dead one is skipped. */
  backends: number[];
  close(): Promise<void>;
}

/** Round robin over `backends`: each new TCP connection goes to the next one that accepts it. */
export async function startBalancer(backends: number[]): Promise<Balancer> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const tryBackend = (attempt: number) => {
      if (attempt >= balancer.backends.length || client.destroyed) {
        client.destroy();
        return;
      }
      const port = balancer.backends[next++ % balancer.backends.length]!;
      const upstream = net.connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('error', () => {
        if (!connected) tryBackend(attempt + 1);
      });
      upstream.once('connect', () => {
        connected = true;
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const balancer: Balancer = {
    url: `http://127.0.0.1:${port}`,
    syncUrl: `ws://127.0.0.1:${port}/sync`,
    backends,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return balancer;
}

export interface Cluster {
  postgres: PostgresService;
  redis: RedisService;
  servers: ServerProcess[];
  balancer: Balancer;
  /** Starts one more instance (added to the balancer). */
  addInstance(): Promise<ServerProcess>;
  /** Log lines of level warn or above from every instance. */
  problems(): string[];
  stop(): Promise<void>;
}

export async function startCluster(instances: number, env: Record<string, string> = {}): Promise<Cluster> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const servers: ServerProcess[] = [];
  const balancer = await startBalancer([]);
  const addInstance = async () => {
    const server = await startServer({ env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, LOG_LEVEL: 'info', ...env } });
    servers.push(server);
    balancer.backends.push(server.port);
    return server;
  };
  try {
    // One at a time, so schema creation is not raced on the first start (it would be safe, but slower).
    await addInstance();
    await Promise.all(Array.from({ length: instances - 1 }, addInstance));
  } catch (error) {
    await Promise.all(servers.map((s) => s.kill('SIGKILL')));
    await balancer.close();
    await Promise.all([postgres.stop(), redis.stop()]);
    throw error;
  }
  return {
    postgres,
    redis,
    servers,
    balancer,
    addInstance,
    problems: () => servers.flatMap((server) => server.logs.filter((line) => /"level":(4|5|6)\d/.test(line))),
    async stop() {
      await balancer.close();
      await Promise.all(servers.map((server) => server.kill('SIGKILL')));
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}

export interface Clients {
  connect(syncUrl: string, name: string): TestClient;
  all: TestClient[];
  destroyAll(): void;
}

export function clientPool(): Clients {
  const all: TestClient[] = [];
  return {
    all,
    connect(syncUrl, name) {
      const client = connectClient(syncUrl, name);
      all.push(client);
      return client;
    },
    destroyAll() {
      for (const client of all.splice(0)) client.destroy();
    },
  };
}

export const textOf = (client: TestClient, field = 'body') => client.doc.getText(field).toString();

/** Waits until every client's document has the same state, and returns that text. */
export async function converged(clients: TestClient[], what: string, timeoutMs = 20_000): Promise<string> {
  await waitFor(
    () => {
      const first = Y.encodeStateVector(clients[0]!.doc);
      return clients.every((client) => Buffer.from(Y.encodeStateVector(client.doc)).equals(Buffer.from(first))) && clients.every((c) => textOf(c) === textOf(clients[0]!));
    },
    what,
    timeoutMs,
    25,
  );
  return textOf(clients[0]!);
}

/** Text markers `<tag>` that `text` contains (a set: hides duplicates; compare markerList too). */
export function markers(text: string): Set<string> {
  return new Set(text.match(/<[^<>]+>/g) ?? []);
}

/** Every text marker `<tag>` of `text`, sorted, duplicates kept: equal to the sorted inserted list only if each is there once. */
export function markerList(text: string): string[] {
  return (text.match(/<[^<>]+>/g) ?? []).sort();
}

/**
 * Where markers go is random but replayable: the seed is printed once per test file, and
 * TEST_SEED=<seed> repeats it.
 */
export const seed = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000_007);
console.log(`cluster-harness random seed ${seed} (replay with TEST_SEED=${seed})`);
export const random = mulberry32(seed);

/** Inserts `<tag>` at a random (seeded) place of the client's body text. */
export function insertMarker(client: TestClient, tag: string): void {
  const body = client.doc.getText('body');
  // Insert between markers only, so that markers are never split.
  const text = body.toString();
  const boundaries = [0, ...[...text.matchAll(/>/g)].map((m) => m.index! + 1)];
  body.insert(boundaries[Math.floor(random() * boundaries.length)]!, `<${tag}>`);
}

export async function metricValue(server: { httpUrl: string }, metric: string): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(metric + ' ') || line.startsWith(metric + '{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
