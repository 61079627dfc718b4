import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe('room lifecycle', () => {
  const serverOf = useServer({ env: { ROOM_IDLE_MS: '300' } });
  let server: ReturnType<typeof serverOf>;
  const clients: TestClient[] = [];
  // Each test starts from an empty server: its clients gone, its rooms unloaded.
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await waitFor(async () => (await metric(server.httpUrl, 'collab_connections')) === 0, 'every connection to close');
    await waitFor(async () => (await metric(server.httpUrl, 'collab_rooms')) === 0, 'every room to unload', 10_000, 50);
  });

  it('loads a document once when many clients arrive at the same moment', async () => {
    server = serverOf();
    const loadsBefore = await metric(server.httpUrl, 'collab_room_load_seconds_count');
    const crowd = Array.from({ length: 25 }, () => connectClient(server.syncUrl, 'stampede'));
    clients.push(...crowd);
    await Promise.all(crowd.map((client) => synced(client)));
    expect(await metric(server.httpUrl, 'collab_room_load_seconds_count')).toBe(loadsBefore + 1);
    crowd[0]!.doc.getText('t').insert(0, 'one room for all');
    await waitFor(() => crowd.every((client) => client.doc.getText('t').toString() === 'one room for all'), 'everyone to see the edit');
  });

  it('unloads a room after its last client left, and loads it again intact', async () => {
    server = serverOf();
    const connectionsBefore = 0;
    const roomsBefore = 0;
    expect(await metric(server.httpUrl, 'collab_rooms')).toBe(roomsBefore);
    const writer = connectClient(server.syncUrl, 'comes and goes');
    clients.push(writer);
    await synced(writer);
    writer.doc.getText('t').insert(0, 'still here after unloading');
    const witness = connectClient(server.syncUrl, 'comes and goes');
    clients.push(witness);
    await waitFor(() => witness.doc.getText('t').length > 0, 'the edit to be committed and relayed');
    writer.destroy();
    witness.destroy();
    await waitFor(async () => (await metric(server.httpUrl, 'collab_connections')) === connectionsBefore, 'the connections to close');
    await waitFor(async () => (await metric(server.httpUrl, 'collab_rooms')) === roomsBefore, 'the idle room to unload', 10_000, 50);

    const again = connectClient(server.syncUrl, 'comes and goes');
    clients.push(again);
    await synced(again);
    expect(again.doc.getText('t').toString()).toBe('still here after unloading');
  });
});
