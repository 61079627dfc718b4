import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Connection } from '../../server/sync/connection.js';
import { PendingContent } from '../../server/sync/pending-content.js';
import type { SyncTransport } from '../../server/sync/transport.js';
import { UpdateGuard } from '../../server/sync/update-guard.js';

const socket: SyncTransport = { kind: 'websocket', send() {}, close() {}, bufferedAmount: 0, pause() {}, resume() {} };
const connection = (subject: string) => new Connection(socket, { subject, canWrite: true }, 1 << 20);

/** Applies like Room.applyClientUpdate does. */
function apply(doc: Y.Doc, guard: UpdateGuard, from: Connection, update: Uint8Array): void {
  const { writes } = guard.check(from, update);
  Y.applyUpdate(doc, update, from);
  guard.claim(from, writes);
}

function clientUpdates(clientID: number, edit: (doc: Y.Doc) => void): Uint8Array[] {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  edit(doc);
  return updates;
}

describe('update guard', () => {
  it('refuses an item that refers forward within its own client (Yjs would later throw half-way)', () => {
    const [first, second] = clientUpdates(7, (doc) => {
      doc.getText('t').insert(0, 'a');
      doc.getText('t').insert(1, 'b');
    });
    const poisoned = Uint8Array.from(second!);
    poisoned[6] = 99; // origin 7:0 → 7:99
    // Without the guard, the poisoned item waits in Yjs' pending store and breaks the next honest update.
    const unguarded = new Y.Doc();
    Y.applyUpdate(unguarded, poisoned);
    const more = clientUpdates(7, (doc) => doc.getText('t').insert(0, 'abcdefghijklmn'));
    expect(() => Y.applyUpdate(unguarded, more[0]!)).toThrow();

    const doc = new Y.Doc();
    const guard = new UpdateGuard(doc);
    expect(() => apply(doc, guard, connection('m'), poisoned)).toThrow(/refers to a later item of its own client/);
    apply(doc, guard, connection('x'), first!);
    expect(doc.getText('t').toString()).toBe('a');
  });

  it('refuses new content under a client id another connection writes with or announced, unless it is the same subject', () => {
    const doc = new Y.Doc();
    const owner = connection('alice');
    const guard = new UpdateGuard(doc, { announcedBy: (id) => (id === 99 ? owner : undefined) });
    const [a1, a2] = clientUpdates(5, (d) => {
      d.getText('t').insert(0, 'one');
      d.getText('t').insert(3, 'two');
    });
    apply(doc, guard, owner, a1!);
    expect(() => apply(doc, guard, connection('mallory'), a2!)).toThrow(/writes as client 5/);
    // A copy of what the server has already is no new content: nothing to refuse.
    apply(doc, guard, connection('mallory'), a1!);
    // Announced in awareness but not written yet: still protected.
    const [announced] = clientUpdates(99, (d) => d.getText('t').insert(0, 'x'));
    expect(() => apply(doc, guard, connection('mallory'), announced!)).toThrow(/writes as client 99/);
    // The same person on a new connection (the old one not yet timed out) may continue.
    apply(doc, guard, connection('alice'), a2!);
    expect(doc.getText('t').toString()).toBe('onetwo');
  });

  it('passes a client id on once its writer is gone, to the subject that wrote with it only', () => {
    const doc = new Y.Doc();
    const guard = new UpdateGuard(doc);
    const first = connection('a');
    const [u1, u2] = clientUpdates(3, (d) => {
      d.getText('t').insert(0, 'x');
      d.getText('t').insert(0, 'y');
    });
    apply(doc, guard, first, u1!);
    guard.release(first);
    expect(() => apply(doc, guard, connection('b'), u2!)).toThrow(/writes as client 3/);
    apply(doc, guard, connection('a'), u2!);
    expect(doc.getText('t').toString()).toBe('yx');
  });

  it('never lets a read-only connection own a client id by announcing it', () => {
    const doc = new Y.Doc();
    const reader = new Connection(socket, { subject: 'reader', canWrite: false }, 1 << 20);
    const guard = new UpdateGuard(doc, { announcedBy: () => reader });
    const [update] = clientUpdates(8, (d) => d.getText('t').insert(0, 'mine'));
    apply(doc, guard, connection('writer'), update!);
    expect(doc.getText('t').toString()).toBe('mine');
  });

  it('discards pending copies of items the document has, and keeps genuinely new pending items until their dependencies arrive', () => {
    const doc = new Y.Doc();
    const guard = new UpdateGuard(doc);
    const pending = new PendingContent(doc);
    const [real] = clientUpdates(11, (d) => d.getText('t').insert(0, 'real'));
    apply(doc, guard, connection('alice'), real!);
    // Written by hand (update format v1): 1 client, 1 struct, client 11 clock 0, info 4 (string
    // content, no origins), parent given as an ID (0) = 1:116, the string "fake", empty delete set.
    const forged = Uint8Array.from([1, 1, 11, 0, 4, 0, 1, 116, 4, ...new TextEncoder().encode('fake'), 0]);
    expect(Y.decodeUpdate(forged).structs[0]).toMatchObject({ id: { client: 11, clock: 0 }, parent: { client: 1, clock: 116 } });
    // Without the guard Yjs keeps the copy pending and merges it into every full-state encoding
    // (what newcomers load); under fuzzing that left documents newcomers could not load.
    const unguarded = new Y.Doc();
    Y.applyUpdate(unguarded, real!);
    Y.applyUpdate(unguarded, forged);
    expect(unguarded.store.pendingStructs).not.toBeNull();

    apply(doc, guard, connection('mallory'), forged);
    expect(doc.store.pendingStructs).toBeNull();

    // An update that builds on one the server has not seen yet (another instance's, or a tab's
    // over BroadcastChannel) waits, and applies once the missing one arrives.
    const base = new Y.Doc();
    base.clientID = 21;
    base.getText('t').insert(0, 'A');
    const dependent = new Y.Doc();
    dependent.clientID = 22;
    Y.applyUpdate(dependent, Y.encodeStateAsUpdate(doc));
    Y.applyUpdate(dependent, Y.encodeStateAsUpdate(base));
    dependent.getText('t').insert(dependent.getText('t').length, 'B');
    apply(doc, guard, connection('bob'), Y.encodeStateAsUpdate(dependent, Y.encodeStateVector(base)));
    expect(doc.store.pendingStructs).not.toBeNull();
    // The update that completes it is applied with an origin that makes the room relay the
    // completed content to its sender too; others are applied as their connection's.
    const carol = connection('carol');
    expect(pending.waitsFor([21])).toBe(true);
    expect(pending.waitsFor([23])).toBe(false);
    apply(doc, guard, carol, Y.encodeStateAsUpdate(base));
    expect(doc.store.pendingStructs).toBeNull();

    const newcomer = new Y.Doc();
    Y.applyUpdate(newcomer, Y.encodeStateAsUpdate(doc));
    expect(newcomer.getText('t').toString()).toBe(doc.getText('t').toString());
    expect(newcomer.getText('t').toString()).toContain('real');
    expect(newcomer.getText('t').toString()).toContain('AB');
    expect(newcomer.store.pendingStructs).toBeNull();
  });
});
