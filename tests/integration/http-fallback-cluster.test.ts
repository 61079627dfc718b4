/**
 * The HTTP fallback on two instances (PostgreSQL + Redis) behind nginx that refuses WebSocket
 * upgrades and balances every request round robin, without sticky sessions: consecutive requests
 * of one client reach different instances. Fallback clients and WebSocket clients (connected to
 * the instances directly) converge, and an instance SIGKILLed while they type loses nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startUpgradeBlockingNginx, type Nginx } from '../helpers/nginx.js';
import { waitFor } from '../helpers/wait.js';
import { converged, insertMarker, markerList, metricValue, startCluster, textOf, type Cluster } from './cluster-harness.js';
import { connectFallbackClient, transportOf } from '../helpers/fallback-clients.js';

describe('HTTP fallback on two instances without sticky sessions', () => {
  let cluster: Cluster;
  let nginx: Nginx;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2);
    nginx = await startUpgradeBlockingNginx(cluster.servers.map((server) => server.port));
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  afterAll(async () => {
    await nginx?.stop();
    await cluster?.stop();
  });

  it('fallback clients and WebSocket clients converge, every edit once', async () => {
    const fallback = Array.from({ length: 3 }, () => connectFallbackClient(nginx.syncUrl, 'round robin'));
    const direct = cluster.servers.map((server) => connectClient(server.syncUrl, 'round robin'));
    clients.push(...fallback, ...direct);
    const everyone = [...fallback, ...direct];
    await Promise.all(everyone.map((client) => synced(client, 20_000)));
    expect(fallback.map(transportOf)).toEqual(['http', 'http', 'http']);
    // Both instances served fallback sessions: requests were spread.
    const sessions = await Promise.all(cluster.servers.map((server) => metricValue(server, 'collab_connections')));
    expect(sessions.every((count) => count >= 2)).toBe(true);
    const inserted: string[] = [];
    for (let round = 0; round < 8; round++) {
      everyone.forEach((client, i) => {
        insertMarker(client, `${i}.${round}`);
        inserted.push(`<${i}.${round}>`);
      });
      // Load, not a wait: spreads the rounds over many requests, commits and relay messages.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const text = await converged(everyone, 'fallback and WebSocket clients to converge', 30_000);
    expect(markerList(text)).toEqual(inserted.sort());
  });

  it('loses nothing when an instance is SIGKILLed while they type', async () => {
    const fallback = Array.from({ length: 3 }, () => connectFallbackClient(nginx.syncUrl, 'kill mid-typing'));
    const survivor = cluster.servers[1]!;
    const direct = connectClient(survivor.syncUrl, 'kill mid-typing');
    clients.push(...fallback, direct);
    const everyone = [...fallback, direct];
    await Promise.all(everyone.map((client) => synced(client, 20_000)));
    const inserted: string[] = [];
    let round = 0;
    const type = () => {
      fallback.forEach((client, i) => {
        insertMarker(client, `${i}.${round}`);
        inserted.push(`<${i}.${round}>`);
      });
      round++;
    };
    for (let i = 0; i < 5; i++) {
      type();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // What the direct client has received by now was committed: it must survive.
    const seenBeforeKill = markerList(textOf(direct));
    await cluster.servers[0]!.kill('SIGKILL');
    for (let i = 0; i < 10; i++) {
      type();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const text = await converged(everyone, 'the clients to converge on the surviving instance', 45_000);
    expect(markerList(text)).toEqual([...inserted].sort());
    for (const marker of seenBeforeKill) expect(text).toContain(marker);
    // And it is stored: a newcomer loads all of it.
    const late = connectClient(survivor.syncUrl, 'kill mid-typing');
    clients.push(late);
    await synced(late, 20_000);
    await waitFor(() => markerList(textOf(late)).length === inserted.length, 'a newcomer to load every edit');
    expect(markerList(textOf(late))).toEqual([...inserted].sort());
  });
});
