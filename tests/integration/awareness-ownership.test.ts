import * as decoding from 'lib0/decoding';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { encodeFrame, writeAwareness } from '../../server/sync/protocol.js';
import { counter } from '../helpers/metrics.js';
import { useServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { frames } from './security-harness.js';

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

const nameIn = (state: unknown) => (state as { user?: { name?: string } } | undefined)?.user?.name;

interface Watcher {
  /** The states the server relayed to this connection. */
  awareness: Awareness;
  /**
   * Every name shown for `clientId` from now on, change by change: a forged state that was shown
   * even for a moment (and then replaced by the owner's next change) is in this history.
   */
  history(clientId: number): Array<string | undefined>;
  close(): void;
}

/**
 * A connection that only listens. Not a stock provider: that one sends back every awareness change
 * it hears (how tabs forward to each other), and the server refuses those, which would blur the
 * count of refusals this file checks.
 */
async function watch(server: ServerProcess, name: string): Promise<Watcher> {
  const socket = await openSocket(server, name);
  const awareness = new Awareness(new Y.Doc());
  awareness.setLocalState(null);
  socket.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== 1) return; // awareness frames only
    applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'server');
  });
  // The states the server sent on joining may have arrived with the upgrade, before the listener
  // above existed: ask for them again now that it listens.
  socket.send(frames.queryAwareness());
  return {
    awareness,
    history(clientId) {
      const seen: Array<string | undefined> = [];
      awareness.on('change', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
        if ([...added, ...updated, ...removed].includes(clientId)) seen.push(nameIn(awareness.getStates().get(clientId)));
      });
      return seen;
    },
    close() {
      socket.terminate();
      awareness.destroy();
    },
  };
}

/** Awareness entries the server refused (someone else's id, or too large) so far. */
const refusedAwareness = (server: ServerProcess) => counter(server.httpUrl, 'collab_refused_total', '{reason="foreign or oversized awareness"}');

describe('awareness ownership with forwarding tabs', () => {
  const server = useServer();
  const watchers: Watcher[] = [];
  afterAll(() => {
    for (const watcher of watchers) watcher.close();
  });

  // Two tabs of one browser share a BroadcastChannel, and the stock provider forwards to its own
  // socket every awareness change it hears there, so tab B may send tab A's state before A's socket
  // does. A's own first frame must still make A the owner: its later changes are accepted and its
  // state goes when A's socket closes.
  it('gives a client id to the connection that claims it as its own, over one that forwarded it', async () => {
    const watcher = await watch(server(), 'tabs');
    watchers.push(watcher);

    const tabA = new Awareness(new Y.Doc());
    const tabB = new Awareness(new Y.Doc());
    const namesOfA = watcher.history(tabA.clientID);
    tabA.setLocalState({ user: { name: 'Tab A' } });
    tabB.setLocalState({ user: { name: 'Tab B' } });

    const socketB = await openSocket(server(), 'tabs');
    socketB.send(stateOf(tabB)); // B's own state first, as the provider does on open
    socketB.send(stateOf(tabA)); // then A's state, forwarded from the BroadcastChannel
    await waitFor(() => watcher.awareness.getStates().has(tabA.clientID), 'the forwarded state to arrive');

    const socketA = await openSocket(server(), 'tabs');
    tabA.setLocalState({ user: { name: 'Tab A, moved' } });
    socketA.send(stateOf(tabA));
    await waitFor(
      () => (watcher.awareness.getStates().get(tabA.clientID) as { user?: { name: string } } | undefined)?.user?.name === 'Tab A, moved',
      'A’s own change to be accepted',
    );

    // B may no longer change A's state: the server refuses the entry (and counts it)…
    const refusedBefore = await refusedAwareness(server());
    tabA.setLocalState({ user: { name: 'forged by B' } });
    socketB.send(stateOf(tabA));
    await waitFor(async () => (await refusedAwareness(server())) === refusedBefore + 1, 'the server to refuse B’s change of A’s state');
    // …and nothing of it ever reaches anyone: B's own change, sent after the forgery over the same
    // socket, reaches the watcher, so whatever the forgery changed would have been shown by now.
    tabB.setLocalState({ user: { name: 'Tab B, after the forgery' } });
    socketB.send(stateOf(tabB));
    await waitFor(() => nameIn(watcher.awareness.getStates().get(tabB.clientID)) === 'Tab B, after the forgery', 'B’s own change after the forgery');
    expect(namesOfA).not.toContain('forged by B');
    expect(nameIn(watcher.awareness.getStates().get(tabA.clientID))).toBe('Tab A, moved');
    expect(await refusedAwareness(server())).toBe(refusedBefore + 1);
    // …and when A's socket goes, A's state goes with it although B stays.
    socketA.terminate();
    await waitFor(() => !watcher.awareness.getStates().has(tabA.clientID), 'A’s state to be removed when A leaves');
    expect(watcher.awareness.getStates().has(tabB.clientID)).toBe(true);
    socketB.close();
  });

  it('does not let a connection take over an id another connection claimed as its own', async () => {
    const watcher = await watch(server(), 'no-theft');
    watchers.push(watcher);
    const victim = new Awareness(new Y.Doc());
    victim.setLocalState({ user: { name: 'Victim' } });
    const victimSocket = await openSocket(server(), 'no-theft');
    victimSocket.send(stateOf(victim));
    await waitFor(() => watcher.awareness.getStates().has(victim.clientID), 'the victim’s state');
    const namesOfVictim = watcher.history(victim.clientID);

    // The attacker's first frame claims the victim's id as its own, with a newer clock.
    const forged = new Awareness(new Y.Doc());
    forged.clientID = victim.clientID;
    forged.setLocalState({ user: { name: 'Attacker' } });
    forged.setLocalState({ user: { name: 'Attacker' } });
    forged.setLocalState({ user: { name: 'Attacker' } });
    const refusedBefore = await refusedAwareness(server());
    const attacker = await openSocket(server(), 'no-theft');
    attacker.send(stateOf(forged));
    // The server refuses the entry. Without this the test would pass on a takeover that the
    // victim's higher clock below then undoes.
    await waitFor(async () => (await refusedAwareness(server())) === refusedBefore + 1, 'the server to refuse the attacker’s claim');
    // The attacker's own state, sent after the claim on the same socket, reaches the watcher: the
    // claim would have been shown by then.
    const attackersOwn = new Awareness(new Y.Doc());
    attackersOwn.setLocalState({ user: { name: 'Attacker, own id' } });
    attacker.send(stateOf(attackersOwn));
    await waitFor(() => watcher.awareness.getStates().has(attackersOwn.clientID), 'the attacker’s own state, sent after the claim');
    expect(nameIn(watcher.awareness.getStates().get(victim.clientID))).toBe('Victim');
    // A later honest change from the victim still lands, and the attacker's never did.
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victim.setLocalState({ user: { name: 'Victim, still' } });
    victimSocket.send(stateOf(victim));
    await waitFor(
      () => (watcher.awareness.getStates().get(victim.clientID) as { user?: { name: string } } | undefined)?.user?.name === 'Victim, still',
      'the victim’s own change',
    );
    // Never, not even for a moment before the victim's higher clock replaced it.
    expect(namesOfVictim).not.toContain('Attacker');
    expect(await refusedAwareness(server())).toBe(refusedBefore + 1);
    attacker.terminate();
    victimSocket.close();
  });
});
