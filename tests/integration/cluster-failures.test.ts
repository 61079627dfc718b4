import { afterEach, describe, expect, it } from 'vitest';
import { synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { waitFor } from '../helpers/wait.js';
import { clientPool, converged, insertMarker, markerList, markers, metricValue, startCluster, textOf, type Cluster } from './cluster-harness.js';

let cluster: Cluster | null = null;
const clients = clientPool();
afterEach(async () => {
  clients.destroyAll();
  if (process.env.SHOW_PROBLEMS) console.log(cluster?.problems().join('\n'));
  await cluster?.stop();
  cluster = null;
});

/** Every client inserts a marker every `everyMs` until stopped; returns the markers inserted. */
function keepEditing(editors: TestClient[], everyMs: number) {
  const inserted: string[] = [];
  let round = 0;
  const timer = setInterval(() => {
    round++;
    editors.forEach((client, i) => {
      const tag = `c${i}.${round}`;
      insertMarker(client, tag);
      inserted.push(`<${tag}>`);
    });
  }, everyMs);
  return {
    inserted,
    /** Rounds inserted so far. */
    rounds: () => round,
    stop: () => clearInterval(timer),
  };
}

/** Waits until `count` more editing rounds have been made (editing goes on meanwhile). */
async function rounds(editing: { rounds(): number }, count: number, what: string): Promise<void> {
  const target = editing.rounds() + count;
  await waitFor(() => editing.rounds() >= target, `${count} more rounds of editing ${what}`, 20_000);
}

async function health(server: { httpUrl: string }) {
  const response = await fetch(`${server.httpUrl}/healthz`);
  return { code: response.status, ...((await response.json()) as { status: string; checks: Record<string, string> }) };
}

describe('cluster failures', () => {
  it('keeps relaying (degraded) while Redis is down, converges after it restarts, loses nothing', async () => {
    cluster = await startCluster(3);
    const editors = cluster.servers.flatMap((server) => [clients.connect(server.syncUrl, 'redis down'), clients.connect(server.syncUrl, 'redis down')]);
    await Promise.all(editors.map((client) => synced(client)));
    const editing = keepEditing(editors, 20);
    await rounds(editing, 20, 'before Redis goes down');

    await cluster.redis.kill();
    // While Redis is down the instances still serve, report it, and relay through storage catch-up.
    await waitFor(async () => (await health(cluster!.servers[0]!)).status === 'degraded', '/healthz to report Redis down');
    const down = await health(cluster.servers[0]!);
    expect(down.code).toBe(200);
    expect(down.checks.storage).toBe('ok');
    expect(down.checks.redis).not.toBe('ok');
    // Edits still reach other instances, through storage catch-up: every instance reads rows back.
    const catchUpBefore = await Promise.all(cluster.servers.map((server) => metricValue(server, 'collab_catch_up_rows_total')));
    await waitFor(
      async () => (await Promise.all(cluster!.servers.map((server) => metricValue(server, 'collab_catch_up_rows_total')))).every((rows, i) => rows > catchUpBefore[i]!),
      'every instance to read other instances\' edits from storage while Redis is down',
      15_000,
      100,
    );
    // An edit made on one instance reaches clients of another with Redis down (catch-up, ~1 s).
    const probe = '<probe-while-down>';
    editors[0]!.doc.getText('body').insert(0, probe);
    await waitFor(() => textOf(editors[5]!).includes(probe), 'an edit to cross instances with Redis down', 10_000);

    await cluster.redis.restart();
    await waitFor(async () => (await Promise.all(cluster!.servers.map(health))).every((h) => h.status === 'ok'), 'every instance to reconnect to Redis', 15_000);
    await rounds(editing, 10, 'after Redis came back');
    editing.stop();

    const text = await converged(editors, 'all editors to converge after Redis came back');
    // Sorted lists, not sets: a marker applied twice (say, by relay and catch-up) would show.
    expect(markerList(text)).toEqual([...editing.inserted, probe].sort());
    // The fast path is back: the next edit reaches the other instance as a relay message through
    // Redis (not only by the periodic storage catch-up).
    const receiver = cluster.servers[2]!; // editors[4] is connected to it
    const relayedBefore = await metric(receiver.httpUrl, 'collab_cluster_messages_in_total', '{type="update"}');
    editors[1]!.doc.getText('body').insert(0, '<after>');
    await waitFor(() => textOf(editors[4]!).includes('<after>'), 'an edit to cross instances through Redis again', 10_000);
    await waitFor(
      async () => (await metric(receiver.httpUrl, 'collab_cluster_messages_in_total', '{type="update"}')) > relayedBefore,
      'the edit to arrive as a Redis relay message',
    );
    // Everything is durable: a fresh client on any instance loads all of it.
    const fresh = clients.connect(cluster.servers[2]!.syncUrl, 'redis down');
    await synced(fresh);
    await waitFor(() => textOf(fresh) === textOf(editors[4]!), 'a fresh client to load everything');
    expect(await metricValue(cluster.servers[0]!, 'collab_cluster_redis_connected')).toBe(1);
    expect(cluster.problems().filter((line) => /"level":[56]\d/.test(line))).toEqual([]);
  });

  it('loses nothing when an instance is SIGKILLed mid-editing; its clients move to the others', async () => {
    cluster = await startCluster(3, { COMPACT_AFTER_ROWS: '25' });
    // Through the balancer: no stickiness, so clients land on all three instances, and those of the
    // killed instance reconnect (the stock client retries by itself) to the survivors.
    const editors = Array.from({ length: 6 }, () => clients.connect(cluster!.balancer.syncUrl, 'kill -9'));
    editors.forEach((client, i) => client.provider.awareness.setLocalStateField('user', { name: `editor ${i}` }));
    await Promise.all(editors.map((client) => synced(client)));
    // Watchers on fixed instances that survive: what they received before the kill must be durable.
    const [victim, ...survivors] = cluster.servers;
    const watchers = survivors.map((server) => clients.connect(server!.syncUrl, 'kill -9'));
    await Promise.all(watchers.map((client) => synced(client)));

    const editing = keepEditing(editors, 15);
    // Kill only once the victim's clients' edits have reached the watchers (so there is something to lose).
    await rounds(editing, 30, 'before the kill');
    await waitFor(() => markers(textOf(watchers[0]!)).size >= 6 * 10, 'the watchers to have received edits before the kill', 20_000);
    const killed = victim!.kill('SIGKILL');
    cluster.balancer.backends.splice(cluster.balancer.backends.indexOf(victim!.port), 1);
    await killed;
    const seenAtKill = watchers.map((w) => markers(textOf(w)));
    expect(seenAtKill[0]!.size).toBeGreaterThan(0);

    // Editing goes on while clients reconnect; then everything converges.
    await waitFor(() => editors.every((client) => client.provider.wsconnected), 'every client to be connected again', 15_000);
    await rounds(editing, 20, 'after the clients reconnected');
    editing.stop();
    const text = await converged([...editors, ...watchers], 'all clients to converge after the kill', 30_000);
    // Sorted lists, not sets: an edit resent on reconnect and applied twice would show.
    expect(markerList(text)).toEqual([...editing.inserted].sort());
    // The moved clients' cursors work again everywhere: their ids were owned by the dead instance,
    // whose states the survivors drop once its heartbeats stop (~6 s, not the 30 s awareness
    // timeout); the moved clients then re-announce theirs, and their moves show.
    const killedAt = performance.now();
    editors.forEach((client) => client.provider.awareness.setLocalStateField('cursor', { moved: true }));
    for (const watcher of watchers) {
      await waitFor(
        () => editors.every((editor) => (watcher.provider.awareness.getStates().get(editor.doc.clientID) as { cursor?: { moved?: boolean } } | undefined)?.cursor?.moved === true),
        "every editor's cursor move to show on the survivors",
        12_000,
        50,
      );
    }
    console.log(`cursor moves of every client shown on every survivor ${Math.round(performance.now() - killedAt)} ms after convergence`);

    // Nothing any client had received is lost: a fresh client on a survivor loads it from storage...
    const fresh = clients.connect(survivors[1]!.syncUrl, 'kill -9');
    await synced(fresh);
    await waitFor(() => textOf(fresh) === text, 'a fresh client to load the converged document');
    for (const seen of seenAtKill) for (const marker of seen) expect(textOf(fresh)).toContain(marker);
    // ...and so does a client of a new instance, which loads the document cold from storage.
    clients.destroyAll();
    const restarted = await cluster.addInstance();
    const cold = clients.connect(restarted.syncUrl, 'kill -9');
    await synced(cold);
    expect(textOf(cold)).toBe(text);
    expect(cluster.problems().filter((line) => /"level":[56]\d/.test(line))).toEqual([]);
  });
});
