import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { encodeFrame, writeUpdate } from '../../server/sync/protocol.js';
import { decodeHocuspocusServerFrame, writeAuthToken, writeKeyedMessage, writeStateless, type HocuspocusServerMessage } from '../../server/transport/hocuspocus-codec.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { metricValue } from './cluster-harness.js';
import { closed, upgrade } from './security-harness.js';


describe('rate limits on Hocuspocus sockets', () => {
  // 50 frames/s sustained, bursts of 500.
  const server = useServer({ env: { MAX_MESSAGES_PER_SECOND: '50' } });

  async function authenticated(name: string): Promise<{ socket: WebSocket; received: HocuspocusServerMessage[] }> {
    const socket = (await upgrade(server().syncUrl)).socket!;
    const received: HocuspocusServerMessage[] = [];
    socket.on('message', (data: Buffer) => received.push(decodeHocuspocusServerFrame(new Uint8Array(data))));
    socket.send(encodeFrame(writeAuthToken, name, '', '4.8.0'));
    await waitFor(() => received.some((m) => m.kind === 'authenticated'), `${name} to be authenticated`);
    return { socket, received };
  }

  it('frames that reach no document (stateless) count too: a socket over its rate is slowed, loses nothing, and one far over is closed with 4429', async () => {
    const paused = await metricValue(server(), 'collab_reads_paused_total');
    const { socket, received } = await authenticated('limited');
    for (let i = 0; i < 700; i++) socket.send(encodeFrame(writeStateless, 'limited', `{"n":${i}}`));
    const edit = new Y.Doc();
    edit.getText('t').insert(0, 'after the flood');
    socket.send(encodeFrame(writeKeyedMessage, 'limited', encodeFrame(writeUpdate, Y.encodeStateAsUpdate(edit))));
    await waitFor(() => received.some((m) => m.kind === 'sync-status' && m.applied), 'the edit sent after the flood to be committed', 20_000);
    expect(await metricValue(server(), 'collab_reads_paused_total')).toBeGreaterThan(paused);
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();

    const flood = await authenticated('flood');
    const gone = closed(flood.socket, 20_000);
    for (let i = 0; i < 3_000 && flood.socket.readyState === WebSocket.OPEN; i++) flood.socket.send(encodeFrame(writeStateless, 'flood', 'x'));
    expect(await gone).toMatchObject({ code: 4429, reason: expect.stringMatching(/^rate limit: more than 50 messages per second/) });
  });
});
