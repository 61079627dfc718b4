import { encodeFrame } from '../../server/sync/protocol.js';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeHocuspocusServerFrame, writeAuthToken, writePong, type HocuspocusServerMessage } from '../../server/transport/hocuspocus-codec.js';
import { connectHocuspocus, hocuspocusSaved, hocuspocusSocket, hocuspocusSynced } from '../helpers/hocuspocus.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { upgrade } from './security-harness.js';


describe('Hocuspocus versions: keep-alive and session-aware keys', () => {
  // A short heartbeat makes the keep-alive Ping come after a third of it (500 ms) instead of 10 s.
  const server = useServer({ env: { PING_INTERVAL_MS: '1500' } });

  it('pings an idle 4.x provider (which announced its version) and never a 3.x one, which could not read a frame without a key', async () => {
    const open = async (version: string | null) => {
      const socket = (await upgrade(server().syncUrl)).socket!;
      const received: HocuspocusServerMessage[] = [];
      socket.on('message', (data: Buffer) => received.push(decodeHocuspocusServerFrame(new Uint8Array(data))));
      socket.send(encodeFrame(writeAuthToken, `keepalive-${version ?? '3'}`, '', version));
      return { socket, received };
    };
    const v4 = await open('4.8.0');
    const v3 = await open(null);
    await waitFor(() => v3.received.some((m) => m.kind === 'authenticated'), 'the 3.x client to be authenticated');
    await waitFor(() => v4.received.filter((m) => m.kind === 'ping').length >= 2, 'two keep-alive pings to the idle 4.x client');
    v4.socket.send(encodeFrame(writePong));
    expect(v3.received.filter((m) => m.kind === 'ping')).toEqual([]);
    expect(v4.socket.readyState).toBe(v4.socket.OPEN);
    v4.socket.close();
    v3.socket.close();
  });

  it('providers with sessionAwareness share one socket for the same document, each answered under its own key', async () => {
    const socket = hocuspocusSocket(server().syncUrl);
    const first = connectHocuspocus(server().syncUrl, 'sessions', { websocket: socket, sessionAwareness: true });
    const second = connectHocuspocus(server().syncUrl, 'sessions', { websocket: socket, sessionAwareness: true, doc: new Y.Doc() });
    try {
      await Promise.all([hocuspocusSynced(first), hocuspocusSynced(second)]);
      first.doc.getText('t').insert(0, 'one ');
      second.doc.getText('t').insert(0, 'two ');
      await waitFor(() => first.doc.getText('t').length === 8 && second.doc.getText('t').toString() === first.doc.getText('t').toString(), 'the two sessions to converge');
      await Promise.all([hocuspocusSaved(first), hocuspocusSaved(second)]);
    } finally {
      first.destroy();
      second.destroy();
      socket.destroy();
    }
  });
});
