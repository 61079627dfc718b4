import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { encodeFrame, writeSyncStep1, writeUpdate } from '../../server/sync/protocol.js';
import {
  decodeHocuspocusServerFrame,
  writeAuthToken,
  writeClientClose,
  writeKeyedMessage,
  writePong,
  writeStateless,
  type HocuspocusServerMessage,
} from '../../server/transport/hocuspocus-codec.js';
import { connectHocuspocus, hocuspocusSaved, hocuspocusSocket, hocuspocusSynced, type HocuspocusClient } from '../helpers/hocuspocus.js';
import type { ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { closed, startSecureServer, token, upgrade } from './security-harness.js';

const text = (doc: Y.Doc) => doc.getText('t').toString();


/** A raw Hocuspocus socket: what it received, decoded. */
async function rawSocket(url: string, options: { origin?: string } = {}): Promise<{ socket: WebSocket; received: HocuspocusServerMessage[] }> {
  const attempt = await upgrade(url, options);
  expect(attempt.status).toBe(101);
  const socket = attempt.socket!;
  const received: HocuspocusServerMessage[] = [];
  socket.on('message', (data: Buffer) => received.push(decodeHocuspocusServerFrame(new Uint8Array(data))));
  return { socket, received };
}

describe('Hocuspocus connections with AUTH_SECRET', () => {
  let server: ServerProcess;
  const cleanup: Array<{ destroy(): void }> = [];
  beforeAll(async () => {
    server = await startSecureServer({ HANDSHAKE_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await server.kill();
  });
  afterEach(() => {
    for (const item of cleanup.splice(0).reverse()) item.destroy();
  });
  const hocuspocus = (name: string, options: Parameters<typeof connectHocuspocus>[2] = {}): HocuspocusClient => {
    const client = connectHocuspocus(server.syncUrl, name, options);
    cleanup.push(client);
    return client;
  };

  it('accepts the upgrade without a token, and each document by the token of its Auth message', async () => {
    const bare = await upgrade(server.syncUrl);
    expect(bare.status).toBe(101);
    bare.socket!.close();
    const client = hocuspocus('team/plan', { token: await token({ subject: 'alice', documents: ['team/*'] }) });
    await hocuspocusSynced(client);
    expect(client.provider.isAuthenticated).toBe(true);
    expect(client.provider.authorizedScope).toBe('read-write');
    client.doc.getText('t').insert(0, 'authorised');
    await hocuspocusSaved(client);
  });

  it('refuses a document without a token, with a bad token, or not granted by the token, with the reason; the socket’s other documents go on', async () => {
    const socket = hocuspocusSocket(server.syncUrl);
    cleanup.push(socket);
    const granted = hocuspocus('team/ok', { websocket: socket, token: await token({ documents: ['team/*'] }) });
    const none = hocuspocus('team/none', { websocket: socket });
    const forged = hocuspocus('team/forged', { websocket: socket, token: (await token()).slice(0, -4) + 'AAAA' });
    const other = hocuspocus('private/notes', { websocket: socket, token: await token({ documents: ['team/*'] }) });
    await waitFor(() => none.denials.length > 0 && forged.denials.length > 0 && other.denials.length > 0, 'the three refusals');
    expect(none.denials[0]).toMatch(/token is required/);
    expect(forged.denials[0]).toMatch(/token/i);
    expect(other.denials[0]).toMatch(/does not grant document "private\/notes"/);
    for (const refused of [none, forged, other]) {
      refused.doc.getText('t').insert(0, 'should never arrive');
      expect(refused.provider.isSynced).toBe(false);
    }
    await hocuspocusSynced(granted);
    granted.doc.getText('t').insert(0, 'fine');
    await hocuspocusSaved(granted);
    // Nothing of the refused documents was stored: a granted reader finds them empty.
    const admin = await token({ subject: 'admin', documents: ['*'] });
    for (const name of ['team/none', 'team/forged', 'private/notes']) {
      const reader = hocuspocus(name, { token: admin });
      await hocuspocusSynced(reader);
      expect(text(reader.doc)).toBe('');
    }
  });

  it('a read-only token is told `readonly`; its edits are refused (never applied, never confirmed) while it still receives others’ edits', async () => {
    const writer = hocuspocus('ro-doc', { token: await token({ subject: 'writer' }) });
    const reader = hocuspocus('ro-doc', { token: await token({ subject: 'reader', canWrite: false }) });
    await Promise.all([hocuspocusSynced(writer), hocuspocusSynced(reader)]);
    expect(reader.provider.authorizedScope).toBe('readonly');
    expect(writer.provider.authorizedScope).toBe('read-write');
    // The read-only provider's first sync held nothing new: confirmed.
    await hocuspocusSaved(reader);
    reader.doc.getText('t').insert(0, 'vandalism');
    writer.doc.getText('t').insert(0, 'legit');
    await waitFor(() => text(reader.doc).includes('legit'), 'the reader to receive the writer’s edit');
    await hocuspocusSaved(writer);
    // The refusal (SyncStatus false) leaves the provider with an unsynced change.
    await waitFor(() => reader.provider.unsyncedChanges === 1, 'the reader’s edit to stay unconfirmed');
    const fresh = hocuspocus('ro-doc', { token: await token({ subject: 'fresh' }) });
    await hocuspocusSynced(fresh);
    expect(text(fresh.doc)).toBe('legit');
    expect(text(writer.doc)).toBe('legit');
  });

  it('queues what a client sends before its Auth message is answered, and bounds it', async () => {
    const { socket, received } = await rawSocket(server.syncUrl);
    const edit = new Y.Doc();
    edit.getText('t').insert(0, 'sent before auth');
    // Update first, Auth last: the update waits in the queue for the Auth.
    socket.send(encodeFrame(writeKeyedMessage, 'queued', encodeFrame(writeUpdate, Y.encodeStateAsUpdate(edit))));
    socket.send(encodeFrame(writeKeyedMessage, 'queued', encodeFrame(writeSyncStep1, Y.encodeStateVector(new Y.Doc()))));
    socket.send(encodeFrame(writeStateless, 'queued', 'hello'));
    socket.send(encodeFrame(writeAuthToken, 'queued', await token(), '4.8.0'));
    const isStep2 = (m: HocuspocusServerMessage) => m.kind === 'yjs' && m.message[0] === 0 && m.message[1] === 1;
    await waitFor(() => received.some((m) => m.kind === 'sync-status' && m.applied) && received.some(isStep2), 'the queued update to be confirmed and the step 1 answered');
    expect(received[0]).toEqual({ kind: 'authenticated', key: 'queued', scope: 'read-write' });
    // The confirmation and the answer both come after the commit, the confirmation first.
    expect(received.findIndex((m) => m.kind === 'sync-status')).toBeLessThan(received.findIndex(isStep2));
    socket.send(encodeFrame(writePong));
    socket.send(encodeFrame(writeClientClose, 'queued'));
    const reader = hocuspocus('queued', { token: await token() });
    await hocuspocusSynced(reader);
    expect(text(reader.doc)).toBe('sent before auth');

    // Never authenticating while sending: closed once past the bound.
    const flood = await rawSocket(server.syncUrl);
    const gone = closed(flood.socket);
    const big = new Uint8Array(512 * 1024);
    for (let i = 0; i < 12 && flood.socket.readyState === WebSocket.OPEN; i++) flood.socket.send(encodeFrame(writeKeyedMessage, 'never', encodeFrame(writeUpdate, big)));
    expect(await gone).toEqual({ code: 4429, reason: 'too much sent before authentication' });
    socket.close();
  });

  it('closes a socket that authenticates no document in time, a malformed frame with 4400, and refuses foreign origins at the upgrade', async () => {
    const idle = await rawSocket(server.syncUrl);
    expect(await closed(idle.socket)).toEqual({ code: 4408, reason: 'no document was authenticated in time' });
    const bad = await rawSocket(server.syncUrl);
    const badClosed = closed(bad.socket);
    bad.socket.send(Uint8Array.from([0xff, 0xff, 0xff]));
    expect((await badClosed).code).toBe(4400);
    const foreign = await upgrade(server.syncUrl, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });

  it('a bad y-websocket message inside the framing ends that document only', async () => {
    const { socket, received } = await rawSocket(server.syncUrl);
    const t = await token();
    socket.send(encodeFrame(writeAuthToken, 'good', t, '4.8.0'));
    socket.send(encodeFrame(writeAuthToken, 'broken', t, '4.8.0'));
    await waitFor(() => received.filter((m) => m.kind === 'authenticated').length === 2, 'both documents authenticated');
    socket.send(encodeFrame(writeKeyedMessage, 'broken', Uint8Array.from([0, 2, 5, 1])));
    await waitFor(() => received.some((m) => m.kind === 'close' && m.key === 'broken'), 'the broken document to be closed');
    const edit = new Y.Doc();
    edit.getText('t').insert(0, 'still alive');
    socket.send(encodeFrame(writeKeyedMessage, 'good', encodeFrame(writeUpdate, Y.encodeStateAsUpdate(edit))));
    await waitFor(() => received.some((m) => m.kind === 'sync-status' && m.key === 'good' && m.applied), 'the other document to go on');
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });
});
