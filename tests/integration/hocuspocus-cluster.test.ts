import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { connectHocuspocus, hocuspocusSaved, hocuspocusSynced, type HocuspocusClient } from '../helpers/hocuspocus.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { startRedis, type RedisService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const clients: Array<TestClient | HocuspocusClient> = [];
const servers: ServerProcess[] = [];
let redis: RedisService | null = null;
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  await redis?.stop();
  redis = null;
});

describe('Hocuspocus providers on several instances', () => {
  it('a provider on one instance and a y-websocket client on another edit one document and see each other’s cursors', async () => {
    redis = await startRedis();
    const dataDir = tempDir();
    const env = { REDIS_URL: redis.url };
    // One after the other, each kept as soon as it runs: teardown must find every process started.
    for (let i = 0; i < 2; i++) servers.push(await startServer({ dataDir, env }));
    const tiptap = connectHocuspocus(servers[0]!.syncUrl, 'scaled');
    const stock = connectClient(servers[1]!.syncUrl, 'scaled');
    clients.push(tiptap, stock);
    await Promise.all([hocuspocusSynced(tiptap), synced(stock)]);
    tiptap.provider.setAwarenessField('user', { name: 'Tia' });
    stock.provider.awareness.setLocalStateField('user', { name: 'Stan' });
    for (let i = 0; i < 20; i++) {
      tiptap.doc.getText('t').insert(0, `h${i} `);
      stock.doc.getText('t').insert(0, `y${i} `);
    }
    const text = (client: TestClient | HocuspocusClient) => client.doc.getText('t').toString();
    await waitFor(() => text(tiptap) === text(stock) && text(tiptap).split(' ').length === 41, 'the two instances’ clients to converge', 20_000);
    await hocuspocusSaved(tiptap);
    const names = (states: Map<number, Record<string, unknown>>) => [...states.values()].map((state) => (state.user as { name?: string } | undefined)?.name).filter(Boolean).sort().join();
    await waitFor(() => names(tiptap.provider.awareness!.getStates()) === 'Stan,Tia' && names(stock.provider.awareness.getStates()) === 'Stan,Tia', 'cursors across instances', 20_000);
    // A newcomer on either instance loads the same document.
    const late = connectHocuspocus(servers[1]!.syncUrl, 'scaled');
    clients.push(late);
    await hocuspocusSynced(late);
    expect(text(late)).toBe(text(tiptap));
  });
});
