import { afterEach, describe, expect, it } from 'vitest';
import { synced } from '../helpers/clients.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { startRedis, type RedisService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { clientPool, converged, insertMarker, markerList, textOf } from './cluster-harness.js';

const clients = clientPool();
const servers: ServerProcess[] = [];
let redis: RedisService | null = null;
afterEach(async () => {
  clients.destroyAll();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  await redis?.stop();
  redis = null;
});

describe('several processes on one machine sharing one SQLite file, relaying through Redis', () => {
  it('converge, and storage has everything', async () => {
    redis = await startRedis();
    const dataDir = tempDir();
    const env = { REDIS_URL: redis.url, COMPACT_AFTER_ROWS: '20' };
    servers.push(...(await Promise.all([startServer({ dataDir, env }), startServer({ dataDir, env })])));
    const editors = servers.flatMap((server) => [clients.connect(server.syncUrl, 'one file'), clients.connect(server.syncUrl, 'one file')]);
    await Promise.all(editors.map((client) => synced(client)));
    const inserted: string[] = [];
    for (let round = 0; round < 20; round++) {
      editors.forEach((client, i) => {
        insertMarker(client, `${i}.${round}`);
        inserted.push(`<${i}.${round}>`);
      });
      // A sleep on purpose (load, not a wait): spreads the rounds over many commits on both processes.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const text = await converged(editors, 'editors on both processes to converge');
    // A sorted list, not a set: a marker applied twice would show.
    expect(markerList(text)).toEqual(inserted.sort());
    // A third process on the same file loads it all cold.
    const third = await startServer({ dataDir, env });
    servers.push(third);
    const reader = clients.connect(third.syncUrl, 'one file');
    await synced(reader);
    await waitFor(() => textOf(reader) === text, 'a cold reader to load everything');
  });
});
