/**
 * The editor's status owner (client/editor/status-store.ts) against a real y-websocket provider
 * whose socket is a fake driven by the test: what the store says through connect, sync, the
 * server's SavedState and Access frames, 44xx closes, refused handshakes, and network changes.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as syncProtocol from 'y-protocols/sync';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { StatusStore } from '../../client/editor/status-store.js';
import type { EditorStatus } from '../../client/editor/status.js';
import { canEdit, refusalText, statusLabel } from '../../client/editor/status.js';
import { CloseCode, MessageType } from '../../shared/protocol.js';
import { readSubscribeSaved, writeAccess, writeSavedState } from '../../shared/saved-state.js';

/** A WebSocket whose server side is the test: it opens, receives and closes when told to. */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static created: FakeSocket[] = [];
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  binaryType = 'blob';
  readonly sent: Uint8Array[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[] = [],
  ) {
    FakeSocket.created.push(this);
  }

  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
  }

  /** The client closing (y-websocket has detached its handlers by then). */
  close(): void {
    this.readyState = this.CLOSED;
  }

  // --- the server's side
  open(): void {
    this.readyState = this.OPEN;
    this.onopen?.();
  }

  receive(frame: Uint8Array): void {
    this.onmessage?.({ data: frame.slice().buffer });
  }

  closeFromServer(code: number, reason = ''): void {
    this.readyState = this.CLOSED;
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }
}

function frame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** The server's sync step 2 (what it has), written with y-protocols' own writer. */
function syncStep2(serverDoc: Y.Doc): Uint8Array {
  return frame((e) => (encoding.writeVarUint(e, MessageType.Sync), syncProtocol.writeSyncStep2(e, serverDoc)));
}

/** A SavedState subscription, read back with the shared reader: the message type, nothing after it. */
function isSubscription(bytes: Uint8Array): boolean {
  const decoder = decoding.createDecoder(bytes);
  if (decoding.readVarUint(decoder) !== MessageType.SavedState) return false;
  readSubscribeSaved(decoder);
  return !decoding.hasContent(decoder);
}

/** The network the store listens to, in place of window and navigator.onLine. */
class FakeNetwork extends EventTarget {
  isOnline = true;
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--;
    super.removeEventListener(...args);
  }
  go(online: boolean): void {
    this.isOnline = online;
    this.dispatchEvent(new Event(online ? 'online' : 'offline'));
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  FakeSocket.created = [];
});

function setup(options: { probeAccess?: () => Promise<string | null>; protocols?: string[] } = {}) {
  const doc = new Y.Doc();
  const network = new FakeNetwork();
  const provider = new WebsocketProvider('ws://collab.test/sync', 'doc', doc, {
    WebSocketPolyfill: FakeSocket as unknown as typeof WebSocket,
    disableBc: true,
    protocols: options.protocols ?? [],
  });
  const store = new StatusStore({ provider, doc, network: { events: network, online: () => network.isOnline }, probeAccess: options.probeAccess });
  const seen: EditorStatus[] = [];
  store.subscribe((status) => seen.push(status));
  cleanups.push(() => {
    store.destroy();
    provider.destroy();
    doc.destroy();
  });
  const socket = () => FakeSocket.created.at(-1)!;
  return { doc, network, provider, store, seen, socket };
}

describe('StatusStore', () => {
  it('goes connecting → connected (syncing) → synced, and subscribes to SavedState on each connection', () => {
    const { store, socket, seen } = setup();
    expect(store.status).toMatchObject({ connection: 'connecting', synced: false, saved: false, unsavedChanges: false });
    expect(statusLabel(store.status)).toBe('Connecting…');

    socket().open();
    expect(store.status).toMatchObject({ connection: 'connected', synced: false });
    expect(statusLabel(store.status)).toBe('Syncing…');
    expect(socket().sent.filter(isSubscription)).toHaveLength(1);

    socket().receive(syncStep2(new Y.Doc()));
    expect(store.status).toMatchObject({ connection: 'connected', synced: true, saved: false });
    expect(seen.map((status) => statusLabel(status))).toEqual(['Syncing…', 'Saving…']);
  });

  it('says saved only once the server’s SavedState frame covers every local change', () => {
    const { doc, store, socket } = setup();
    socket().open();
    socket().receive(syncStep2(new Y.Doc()));
    doc.getText('t').insert(0, 'first');
    const afterFirst = Y.encodeStateVector(doc);
    expect(store.status).toMatchObject({ saved: false, unsavedChanges: true });

    // An older commit does not cover the local state.
    socket().receive(frame((e) => writeSavedState(e, Y.encodeStateVector(new Y.Doc()))));
    expect(store.status).toMatchObject({ saved: false, unsavedChanges: true });

    socket().receive(frame((e) => writeSavedState(e, afterFirst)));
    expect(store.status).toMatchObject({ saved: true, unsavedChanges: false });
    expect(statusLabel(store.status)).toBe('All changes saved');

    // A new local edit is unsaved again until the server says it committed it.
    doc.getText('t').insert(5, ', second');
    expect(store.status).toMatchObject({ saved: false, unsavedChanges: true });
    expect(statusLabel(store.status)).toBe('Saving…');
    socket().receive(frame((e) => writeSavedState(e, Y.encodeStateVector(doc))));
    expect(store.status.saved).toBe(true);
  });

  it('turns read-only when the server’s Access frame says the connection may not write', () => {
    const { store, socket } = setup();
    socket().open();
    socket().receive(syncStep2(new Y.Doc()));
    socket().receive(frame((e) => writeAccess(e, { canWrite: false })));
    expect(store.status).toMatchObject({ readOnly: true, unsavedChanges: false });
    expect(statusLabel(store.status)).toBe('Read-only');
  });

  it('says denied with the server’s reason on a 4401 close, and retry() reconnects', () => {
    const { provider, store, socket, seen } = setup({ protocols: ['collab', 'collab.token.old'] });
    socket().open();
    socket().closeFromServer(4401, 'token expired');
    expect(store.status).toMatchObject({ connection: 'denied', reason: 'token expired', synced: false, saved: false });
    expect(statusLabel(store.status)).toBe('Access denied');
    expect(provider.shouldConnect).toBe(false); // y-websocket stops retrying a 44xx close
    expect(seen.at(-1)).toBe(store.status);

    const before = FakeSocket.created.length;
    provider.protocols = ['collab', 'collab.token.new'];
    store.retry();
    expect(FakeSocket.created.length).toBe(before + 1);
    expect(socket().protocols).toEqual(['collab', 'collab.token.new']);
    expect(store.status.connection).not.toBe('denied');
    socket().open();
    expect(store.status).toMatchObject({ connection: 'connected' });
    expect(store.status.reason).toBeUndefined();
  });

  it('gives a 4403 close without a reason a generic one', () => {
    const { store, socket } = setup();
    socket().open();
    socket().closeFromServer(4403);
    expect(store.status).toMatchObject({ connection: 'denied', reason: 'access to this document is not allowed' });
  });

  it('asks probeAccess when a handshake fails with 1006, and stops connecting if access is refused', async () => {
    const probeAccess = vi.fn(async () => 'a valid access token is required');
    const { provider, store, socket } = setup({ probeAccess });
    socket().closeFromServer(1006);
    expect(store.status.connection).toBe('offline');
    await vi.waitFor(() => expect(store.status.connection).toBe('denied'));
    expect(probeAccess).toHaveBeenCalledTimes(1);
    expect(store.status.reason).toBe('a valid access token is required');
    expect(provider.shouldConnect).toBe(false);
  });

  it('does not ask probeAccess while the browser is offline, nor after a connection that had opened', async () => {
    const probeAccess = vi.fn(async () => 'refused');
    const { network, store, socket } = setup({ probeAccess });
    network.isOnline = false;
    socket().closeFromServer(1006);
    expect(store.status.connection).toBe('offline');
    network.go(true); // reconnects at once
    socket().open();
    socket().closeFromServer(1006);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(probeAccess).not.toHaveBeenCalled();
    expect(store.status.connection).toBe('offline');
  });

  it('follows the network: offline restarts the socket and says offline; online reconnects at once', () => {
    const { network, store, socket } = setup();
    socket().open();
    const first = socket();
    network.go(false);
    expect(store.status.connection).toBe('offline');
    expect(statusLabel(store.status)).toBe('Offline');
    expect(first.readyState).toBe(first.CLOSED); // the old socket, maybe dead without knowing it, is gone
    const second = socket();
    expect(second).not.toBe(first);

    second.closeFromServer(1006); // no network: the attempt fails
    const attempts = FakeSocket.created.length;
    network.go(true);
    expect(FakeSocket.created.length).toBe(attempts + 1); // not waiting for y-websocket's backoff
    socket().open();
    expect(store.status.connection).toBe('connected');
  });

  it('keeps local edits made offline as unsaved changes', () => {
    const { doc, network, store, socket } = setup();
    socket().open();
    network.go(false);
    doc.getText('t').insert(0, 'offline edit');
    expect(store.status).toMatchObject({ connection: 'offline', unsavedChanges: true });
    expect(statusLabel(store.status)).toBe('Offline · changes kept on this device');
  });

  it('tells subscribers only about changes, and nothing after unsubscribing', () => {
    const { doc, store, socket, seen } = setup();
    const other: EditorStatus[] = [];
    const stop = store.subscribe((status) => other.push(status));
    socket().open();
    socket().receive(syncStep2(new Y.Doc()));
    doc.getText('t').insert(0, 'a');
    doc.getText('t').insert(1, 'b'); // still unsaved: no new status
    expect(seen.map((status) => [statusLabel(status), status.unsavedChanges])).toEqual([
      ['Syncing…', false],
      ['Saving…', false],
      ['Saving…', true],
    ]);
    stop();
    socket().receive(frame((e) => writeSavedState(e, Y.encodeStateVector(doc))));
    expect(seen).toHaveLength(4);
    expect(other).toHaveLength(3);
  });

  it('says an invalid name (4400) is refused for good, in words, and that editing is off', () => {
    const { provider, store, socket } = setup();
    socket().open();
    socket().receive(syncStep2(new Y.Doc()));
    expect(canEdit(store.status)).toBe(true);
    socket().closeFromServer(CloseCode.BadRequest, 'document name has leading or trailing whitespace');
    expect(store.status).toMatchObject({ connection: 'refused', closeCode: 4400, reason: 'document name has leading or trailing whitespace', synced: false, saved: false });
    expect(statusLabel(store.status)).toBe('Not a valid document name');
    expect(refusalText(store.status)!.message).toMatch(/does not accept this document's name \(document name has leading or trailing whitespace\)\. Editing is off/);
    expect(canEdit(store.status)).toBe(false);
    expect(provider.shouldConnect).toBe(false);
    // Not "offline" however the network changes: nothing would ever merge.
    const attempts = FakeSocket.created.length;
    socket().closeFromServer(1006);
    expect(store.status.connection).toBe('refused');
    expect(FakeSocket.created.length).toBe(attempts);
  });

  it('says a deleted document (4404) is deleted, and retry() connects again (once it was created again)', () => {
    const { doc, store, socket } = setup();
    socket().open();
    socket().receive(syncStep2(new Y.Doc()));
    doc.getText('t').insert(0, 'kept on this device');
    socket().closeFromServer(CloseCode.NotFound, 'document deleted');
    expect(store.status).toMatchObject({ connection: 'refused', closeCode: 4404, reason: 'document deleted', unsavedChanges: true });
    expect(statusLabel(store.status)).toBe('Document deleted');
    expect(refusalText(store.status)!.message).toContain('Create it again');
    expect(canEdit(store.status)).toBe(false);

    const before = FakeSocket.created.length;
    store.retry();
    expect(FakeSocket.created.length).toBe(before + 1);
    expect(store.status.connection).not.toBe('refused'); // reconnecting (it reads "offline" until it is back, as after any lost connection)
    expect(store.status.closeCode).toBeUndefined();
    expect(canEdit(store.status)).toBe(true);
    socket().open();
    expect(store.status).toMatchObject({ connection: 'connected' });
    expect(store.status.reason).toBeUndefined();
  });

  it('names other refusals (4429, any other 44xx) and keeps retried closes (4503, 1012) as offline', () => {
    const { store, socket } = setup();
    socket().open();
    socket().closeFromServer(CloseCode.TooManyRequests, 'too many messages');
    expect(statusLabel(store.status)).toBe('Disconnected: too many changes');
    expect(refusalText(store.status)!.message).toContain('Reconnect');
    store.retry();
    socket().open();
    socket().closeFromServer(4410, '');
    expect(store.status).toMatchObject({ connection: 'refused', closeCode: 4410 });
    expect(store.status.reason).toBeUndefined();
    expect(statusLabel(store.status)).toBe('Refused by the server');
    store.retry();
    socket().open();
    socket().closeFromServer(CloseCode.StorageUnavailable, 'could not load the document; try again');
    expect(store.status.connection).toBe('offline');
    expect(canEdit(store.status)).toBe(true); // kept on this device, merged when the server is back
    expect(refusalText(store.status)).toBeNull();
  });

  it('turns editing off while access is denied or the connection is read-only, not while offline', () => {
    const { network, store, socket } = setup();
    socket().open();
    socket().receive(frame((e) => writeAccess(e, { canWrite: false })));
    expect(canEdit(store.status)).toBe(false);
    socket().receive(frame((e) => writeAccess(e, { canWrite: true })));
    expect(canEdit(store.status)).toBe(true);
    network.go(false);
    expect(store.status.connection).toBe('offline');
    expect(canEdit(store.status)).toBe(true);
    network.go(true);
    socket().open();
    socket().closeFromServer(CloseCode.Forbidden, 'not granted');
    expect(store.status.connection).toBe('denied');
    expect(canEdit(store.status)).toBe(false);
    expect(refusalText(store.status)!.message).toContain('access token');
  });

  it('removes every listener and message handler on destroy', () => {
    const { doc, network, provider, store, socket, seen } = setup();
    expect(network.listeners).toBe(2);
    expect(provider.messageHandlers[MessageType.SavedState]).toBeTypeOf('function');
    store.destroy();
    expect(network.listeners).toBe(0);
    expect(provider.messageHandlers[MessageType.SavedState]).toBeUndefined();
    expect(provider.messageHandlers[MessageType.Access]).toBeUndefined();
    const before = store.status;
    socket().open();
    doc.getText('t').insert(0, 'x');
    network.go(false);
    expect(store.status).toBe(before);
    expect(seen).toEqual([]);
    expect(socket().sent.filter(isSubscription)).toEqual([]);
  });
});
