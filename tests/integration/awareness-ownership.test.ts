import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { encodeFrame, writeAwareness } from '../../server/sync/protocol.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/** A raw socket speaking for one or more awareness instances, as a browser tab does. */
async function openSocket(server: ServerProcess, name: string): Promise<WebSocket> {
  const socket = new WebSocket(`${server.syncUrl}/${name}`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

function stateOf(awareness: Awareness): Uint8Array {
  return encodeFrame(writeAwareness, encodeAwarenessUpdate(awareness, [awareness.clientID]));
}

describe('awareness ownership with forwarding tabs', () => {
  let server: ServerProcess;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server.kill();
  });

  // Two tabs of one browser share a BroadcastChannel, and the stock provider forwards to its own
  // socket every awareness change it hears there, so tab B may send tab A's state before A's socket
  // does. A's own first frame must still make A the owner: its later changes are accepted and its
  // state goes when A's socket closes.
  it('gives a client id to the connection that claims it as its own, over one that forwarded it', async () => {
    const watcher = connectClient(server.syncUrl, 'tabs');
    clients.push(watcher);
    await synced(watcher);

    const tabA = new Awareness(new Y.Doc());
    const tabB = new Awareness(new Y.Doc());
    tabA.setLocalState({ user: { name: 'Tab A' } });
    tabB.setLocalState({ user: { name: 'Tab B' } });

    const socketB = await openSocket(server, 'tabs');
    socketB.send(stateOf(tabB)); // B's own state first, as the provider does on open
    socketB.send(stateOf(tabA)); // then A's state, forwarded from the BroadcastChannel
    await waitFor(() => watcher.provider.awareness.getStates().has(tabA.clientID), 'the forwarded state to arrive');

    const socketA = await openSocket(server, 'tabs');
    tabA.setLocalState({ user: { name: 'Tab A, moved' } });
    socketA.send(stateOf(tabA));
    await waitFor(
      () => (watcher.provider.awareness.getStates().get(tabA.clientID) as { user?: { name: string } } | undefined)?.user?.name === 'Tab A, moved',
      'A’s own change to be accepted',
    );

    // B may no longer change A's state…
    tabA.setLocalState({ user: { name: 'forged by B' } });
    socketB.send(stateOf(tabA));
    // …and when A's socket goes, A's state goes with it although B stays.
    socketA.terminate();
    await waitFor(() => !watcher.provider.awareness.getStates().has(tabA.clientID), 'A’s state to be removed when A leaves');
    expect(watcher.provider.awareness.getStates().has(tabB.clientID)).toBe(true);
    socketB.close();
  });

  it('does not let a connection take over an id another connection claimed as its own', async () => {
    const watcher = connectClient(server.syncUrl, 'no-theft');
    clients.push(watcher);
    await synced(watcher);
    const victim = new Awareness(new Y.Doc());
    victim.setLocalState({ user: { name: 'Victim' } });
    const victimSocket = await openSocket(server, 'no-theft');
    victimSocket.send(stateOf(victim));
    await waitFor(() => watcher.provider.awareness.getStates().has(victim.clientID), 'the victim’s state');

    // The attacker's first frame claims the victim's id as its own, with a newer clock.
    const forged = new Awareness(new Y.Doc());
    forged.clientID = victim.clientID;
    forged.setLocalState({ user: { name: 'Attacker' } });
    forged.setLocalState({ user: { name: 'Attacker' } });
    forged.setLocalState({ user: { name: 'Attacker' } });
    const attacker = await openSocket(server, 'no-theft');
    attacker.send(stateOf(forged));
    // A later honest change from the victim still lands, and the attacker's never did.
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victimSocket.send(stateOf(victim));
    await waitFor(
      () => (watcher.provider.awareness.getStates().get(victim.clientID) as { user?: { name: string } } | undefined)?.user?.name === 'Victim, still',
      'the victim’s own change',
    );
    attacker.terminate();
    victimSocket.close();
  });
});
