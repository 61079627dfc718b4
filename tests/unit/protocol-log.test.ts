import { describe, expect, it } from 'vitest';
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { writeAccess, writeSavedState, writeSubscribeSaved } from '../../shared/saved-state.js';
import { adminAccessProblem } from '../../server/http/admin.js';
import { OPEN_ACCESS } from '../../server/auth/tokens.js';
import { encodeFrame, writeAwareness, writeSyncStep1, writeSyncStep2, writeUpdate } from '../../server/sync/protocol.js';
import { summarizeFrame } from '../../server/sync/protocol-log.js';

describe('summarizeFrame', () => {
  const doc = new Y.Doc();
  doc.clientID = 4242;
  const text = doc.getText('t');
  text.insert(0, 'secret words');

  it('gives the client ids and clock ranges of an update, and how much it deletes, never its text', () => {
    const before = Y.encodeStateVector(doc);
    text.delete(0, 7);
    text.insert(5, ' more');
    const update = Y.encodeStateAsUpdate(doc, before);
    const summary = summarizeFrame(encodeFrame(writeUpdate, update));
    expect(summary).toMatchObject({ type: 'sync', subtype: 'update', structs: { '4242': [12, 17] }, deleted: 7 });
    expect(JSON.stringify(summary)).not.toMatch(/secret|words|more/);
    const full = summarizeFrame(encodeFrame(writeSyncStep2, Y.encodeStateAsUpdate(doc)));
    expect(full).toMatchObject({ type: 'sync', subtype: 'step2', structs: { '4242': [0, 17] } });
    expect(full.bytes).toBe(encodeFrame(writeSyncStep2, Y.encodeStateAsUpdate(doc)).byteLength);
  });

  it('gives state vectors of sync step 1 and saved state', () => {
    const other = new Y.Doc();
    other.clientID = 7;
    other.getText('t').insert(0, 'abc');
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
    const vector = Y.encodeStateVector(other);
    expect(summarizeFrame(encodeFrame(writeSyncStep1, vector))).toMatchObject({ type: 'sync', subtype: 'step1', stateVector: { '7': 3, '4242': 17 } });
    expect(summarizeFrame(encodeFrame(writeSavedState, vector))).toMatchObject({ type: 'saved-state', subtype: 'state', stateVector: { '7': 3, '4242': 17 } });
    expect(summarizeFrame(encodeFrame(writeSubscribeSaved))).toEqual({ type: 'saved-state', subtype: 'subscribe', bytes: 1 });
    expect(summarizeFrame(encodeFrame(writeAccess, { canWrite: false }))).toEqual({ type: 'access', bytes: 2, canWrite: false });
  });

  it('gives awareness client ids and clocks, never the states (names, cursors)', () => {
    const awareness = new Awareness(doc);
    awareness.setLocalStateField('user', { name: 'Ada Lovelace', color: '#ff0000' });
    const summary = summarizeFrame(encodeFrame(writeAwareness, encodeAwarenessUpdate(awareness, [4242])));
    expect(summary).toMatchObject({ type: 'awareness', awareness: { '4242': 1 } });
    expect(JSON.stringify(summary)).not.toMatch(/Ada|ff0000/);
    removeAwarenessStates(awareness, [4242], 'test');
    expect(summarizeFrame(encodeFrame(writeAwareness, encodeAwarenessUpdate(awareness, [4242])))).toMatchObject({ awareness: { '4242': -2 } });
    awareness.destroy();
  });

  it('lists at most 20 clients and counts the rest', () => {
    const many = new Y.Doc();
    for (let client = 1; client <= 25; client++) {
      const writer = new Y.Doc();
      writer.clientID = client;
      writer.getText('t').insert(0, 'x');
      Y.applyUpdate(many, Y.encodeStateAsUpdate(writer));
    }
    const summary = summarizeFrame(encodeFrame(writeSyncStep2, Y.encodeStateAsUpdate(many)));
    expect(Object.keys(summary.structs!)).toHaveLength(20);
    expect(summary.moreClients).toBe(5);
  });

  it('says malformed instead of throwing', () => {
    for (const bytes of [[], [0], [0, 2, 50, 1], [1, 5, 1], [77], [0, 9, 0], [101]]) {
      expect(summarizeFrame(new Uint8Array(bytes)), JSON.stringify(bytes)).toEqual({ type: 'malformed', bytes: bytes.length });
    }
  });
});

describe('adminAccessProblem', () => {
  it('lets an open server answer only on loopback, and a secured one only to admin tokens', () => {
    expect(adminAccessProblem(OPEN_ACCESS, { open: true, loopbackOnly: true })).toBeNull();
    expect(adminAccessProblem(OPEN_ACCESS, { open: true, loopbackOnly: false })).toMatch(/needs HOST on loopback/);
    expect(adminAccessProblem({ ...OPEN_ACCESS, authenticated: true, admin: false }, { open: false, loopbackOnly: true })).toBe('the admin API needs an admin token');
    expect(adminAccessProblem({ ...OPEN_ACCESS, authenticated: true, admin: true }, { open: false, loopbackOnly: false })).toBeNull();
  });
});
