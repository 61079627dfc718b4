import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ProtocolError, encodeFrame } from '../../server/sync/protocol.js';
import {
  decodeHocuspocusFrame,
  decodeHocuspocusServerFrame,
  documentNameOfKey,
  writeAuthenticated,
  writeAuthToken,
  writeClientClose,
  writeKeyedMessage,
  writePermissionDenied,
  writePing,
  writePong,
  writeServerClose,
  writeStateless,
  writeSyncStatus,
} from '../../server/transport/hocuspocus-codec.js';
import { waitFor } from '../helpers/wait.js';


/** A stand-in for the browser WebSocket that records what the real provider sends and lets the test answer. */
class RecordingSocket {
  static last: RecordingSocket | null = null;
  readyState = 1;
  binaryType = 'arraybuffer';
  readonly sent: Uint8Array[] = [];
  private readonly listeners = new Map<string, Array<(event: unknown) => void>>();
  constructor(readonly url: string) {
    RecordingSocket.last = this;
    queueMicrotask(() => this.emit('open', {}));
  }
  addEventListener(name: string, listener: (event: unknown) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
  }
  removeEventListener(): void {}
  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
  }
  close(): void {}
  /** A frame from "the server". */
  receive(frame: Uint8Array): void {
    this.emit('message', { data: frame.slice().buffer });
  }
  private emit(name: string, event: unknown): void {
    for (const listener of this.listeners.get(name) ?? []) listener(event);
  }
}

describe('the Hocuspocus codec against the real @hocuspocus/provider', () => {
  it('reads every frame the provider sends, and the provider understands every frame the server writes', async () => {
    const websocket = new HocuspocusProviderWebsocket({ url: 'ws://collab.test/sync', WebSocketPolyfill: RecordingSocket });
    const doc = new Y.Doc();
    const provider = new HocuspocusProvider({ websocketProvider: websocket, name: 'team/notes', document: doc, token: 'the-token' });
    provider.attach();
    provider.setAwarenessField('user', { name: 'Ada' });
    await waitFor(() => (RecordingSocket.last?.sent.length ?? 0) >= 4, 'the provider’s opening frames');
    const socket = RecordingSocket.last!;
    // The awareness change made before the socket opened goes first: the server queues it until the Auth is answered.
    const opening = socket.sent.map((frame) => decodeHocuspocusFrame(frame));
    const auth = opening.findIndex((m) => m.kind === 'auth');
    expect(opening[auth]).toMatchObject({ kind: 'auth', key: 'team/notes', token: 'the-token' });
    // 4.x announces its version after the token (3.x does not).
    expect(opening[auth]).toHaveProperty('providerVersion', expect.any(String));
    expect(opening.slice(auth + 1).map((m) => m.kind === 'yjs' && m.message[0])).toEqual([0, 1]);

    socket.receive(encodeFrame(writeAuthenticated, 'team/notes', 'readonly'));
    expect(provider.isAuthenticated).toBe(true);
    expect(provider.authorizedScope).toBe('readonly');

    // A sync step 2 (a y-websocket message) under the key: the provider applies it and is synced.
    const remote = new Y.Doc();
    remote.getText('t').insert(0, 'from the server');
    const step2 = encoding.createEncoder();
    encoding.writeVarUint(step2, 0);
    encoding.writeVarUint(step2, 1);
    encoding.writeVarUint8Array(step2, Y.encodeStateAsUpdate(remote));
    socket.receive(encodeFrame(writeKeyedMessage, 'team/notes', encoding.toUint8Array(step2)));
    expect(doc.getText('t').toString()).toBe('from the server');
    expect(provider.isSynced).toBe(true);

    // Each local edit is one unsynced change until a SyncStatus(true) confirms it; false confirms nothing.
    const before = provider.unsyncedChanges;
    doc.getText('t').insert(0, 'local ');
    expect(provider.unsyncedChanges).toBe(before + 1);
    const update = decodeHocuspocusFrame(socket.sent.at(-1)!);
    expect(update.kind === 'yjs' && [...update.message.subarray(0, 2)]).toEqual([0, 2]);
    socket.receive(encodeFrame(writeSyncStatus, 'team/notes', false));
    expect(provider.unsyncedChanges).toBe(before + 1);
    socket.receive(encodeFrame(writeSyncStatus, 'team/notes', true));
    expect(provider.unsyncedChanges).toBe(before);

    // Ping (no key) is answered with Pong, which the server reads.
    const sentBefore = socket.sent.length;
    socket.receive(encodeFrame(writePing));
    expect(decodeHocuspocusFrame(socket.sent[sentBefore]!)).toEqual({ kind: 'pong' });

    // Stateless both ways.
    const stateless: string[] = [];
    provider.on('stateless', ({ payload }: { payload: string }) => stateless.push(payload));
    socket.receive(encodeFrame(writeStateless, 'team/notes', '{"hello":1}'));
    expect(stateless).toEqual(['{"hello":1}']);
    provider.sendStateless('{"back":2}');
    expect(decodeHocuspocusFrame(socket.sent.at(-1)!)).toEqual({ kind: 'stateless', key: 'team/notes', payload: '{"back":2}' });

    // The server ending the document: the provider's close event carries the reason.
    const closes: string[] = [];
    provider.on('close', ({ event }: { event: { reason: string } }) => closes.push(event.reason));
    socket.receive(encodeFrame(writeServerClose, 'team/notes', 'document deleted'));
    expect(closes).toEqual(['document deleted']);

    // Detaching sends Close.
    provider.detach();
    expect(decodeHocuspocusFrame(socket.sent.at(-1)!)).toEqual({ kind: 'close', key: 'team/notes' });

    // Permission denied, on a second provider of the same socket.
    const denied: string[] = [];
    const other = new HocuspocusProvider({ websocketProvider: websocket, name: 'other', token: null, onAuthenticationFailed: ({ reason }) => denied.push(reason) });
    other.attach();
    await waitFor(() => socket.sent.some((frame) => { const m = decodeHocuspocusFrame(frame); return m.kind === 'auth' && m.key === 'other'; }), 'the second provider’s Auth');
    socket.receive(encodeFrame(writePermissionDenied, 'other', 'a token is required'));
    expect(denied).toEqual(['a token is required']);
    other.destroy();
    provider.destroy();
    websocket.destroy();
  });

  it('round-trips each message through its writer and reader, and refuses malformed frames with ProtocolError', () => {
    expect(decodeHocuspocusFrame(encodeFrame(writeAuthToken, 'd', 'tok', null))).toEqual({ kind: 'auth', key: 'd', token: 'tok', providerVersion: null });
    expect(decodeHocuspocusFrame(encodeFrame(writeClientClose, 'd'))).toEqual({ kind: 'close', key: 'd' });
    expect(decodeHocuspocusFrame(encodeFrame(writePong))).toEqual({ kind: 'pong' });
    expect(decodeHocuspocusServerFrame(encodeFrame(writeAuthenticated, 'd', 'read-write'))).toEqual({ kind: 'authenticated', key: 'd', scope: 'read-write' });
    expect(decodeHocuspocusServerFrame(encodeFrame(writePermissionDenied, 'd', 'no'))).toEqual({ kind: 'permission-denied', key: 'd', reason: 'no' });
    expect(decodeHocuspocusServerFrame(encodeFrame(writeSyncStatus, 'd', true))).toEqual({ kind: 'sync-status', key: 'd', applied: true });
    expect(decodeHocuspocusServerFrame(encodeFrame(writeServerClose, 'd', 'bye'))).toEqual({ kind: 'close', key: 'd', reason: 'bye' });
    expect(decodeHocuspocusServerFrame(encodeFrame(writePing))).toEqual({ kind: 'ping' });
    expect(documentNameOfKey('team/notes\0abc')).toBe('team/notes');
    expect(documentNameOfKey('team/notes')).toBe('team/notes');
    const malformed = [
      Uint8Array.of(),
      Uint8Array.of(9),
      Uint8Array.of(5, 0x61),
      Uint8Array.of(1, 0x61),
      Uint8Array.of(1, 0x61, 42),
      Uint8Array.of(1, 0x61, 4, 0, 0),
      Uint8Array.of(1, 0x61, 2, 1, 0),
      Uint8Array.of(1, 0x61, 2, 0, 200, 200, 200, 200, 1),
      Uint8Array.of(1, 0x61, 7, 0),
      Uint8Array.of(1, 0x61, 5),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
    ];
    for (const frame of malformed) expect(() => decodeHocuspocusFrame(frame), `frame ${[...frame]}`).toThrow(ProtocolError);
  });
});
