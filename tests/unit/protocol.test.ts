import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { documentNameProblem } from '../../shared/protocol.js';
import { writeSubscribeSaved } from '../../shared/saved-state.js';
import {
  ProtocolError,
  decodeAwarenessUpdate,
  decodeClientMessage,
  encodeAwarenessEntries,
  encodeFrame,
  writeAwareness,
  writeSyncStep1,
  writeSyncStep2,
  writeUpdate,
} from '../../server/sync/protocol.js';

function frame(...parts: Array<number | Uint8Array>): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const part of parts) {
    if (typeof part === 'number') encoding.writeVarUint(encoder, part);
    else encoding.writeVarUint8Array(encoder, part);
  }
  return encoding.toUint8Array(encoder);
}

describe('decodeClientMessage', () => {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, 'hello');
  const update = Y.encodeStateAsUpdate(doc);
  const stateVector = Y.encodeStateVector(doc);

  it('reads back what the write functions wrote', () => {
    expect(decodeClientMessage(encodeFrame(writeSyncStep1, stateVector))).toEqual({ kind: 'sync-step1', stateVector });
    expect(decodeClientMessage(encodeFrame(writeSyncStep2, update))).toEqual({ kind: 'sync-step2', update });
    expect(decodeClientMessage(encodeFrame(writeUpdate, update))).toEqual({ kind: 'sync-update', update });
    expect(decodeClientMessage(encodeFrame(writeAwareness, new Uint8Array([0])))).toEqual({ kind: 'awareness', update: new Uint8Array([0]) });
    expect(decodeClientMessage(frame(3))).toEqual({ kind: 'query-awareness' });
    expect(decodeClientMessage(encodeFrame(writeSubscribeSaved))).toEqual({ kind: 'subscribe-saved' });
  });

  it.each([
    ['an empty frame', new Uint8Array(0), /empty message/],
    ['an unknown message type', frame(7), /unknown message type 7/],
    ['an unknown sync type', frame(0, 9), /unknown sync message type 9/],
    ['a sync frame without a sub-type', frame(0), /empty sync message/],
    ['a truncated varint', new Uint8Array([0x80]), /malformed message type/],
    ['a declared length beyond the frame', new Uint8Array([0, 2, 0xff, 0x7f, 1, 2]), /truncated update/],
    ['trailing bytes', new Uint8Array([...frame(0, 2, update), 1]), /trailing bytes/],
    ['trailing bytes after query-awareness', frame(3, 1), /trailing bytes/],
    ['trailing bytes after a SavedState subscription', new Uint8Array([...encodeFrame(writeSubscribeSaved), 0]), /trailing bytes after subscribe-saved/],
  ])('refuses %s with a ProtocolError', (_what, bytes, message) => {
    expect(() => decodeClientMessage(bytes)).toThrowError(ProtocolError);
    expect(() => decodeClientMessage(bytes)).toThrowError(message);
  });

  it('refuses a length that points past a frame that is a view into a larger buffer', () => {
    const backing = new Uint8Array(64);
    backing.set([0, 2, 10, 1, 2], 0);
    expect(() => decodeClientMessage(backing.subarray(0, 5))).toThrowError(/truncated update/);
  });
});

describe('awareness updates', () => {
  it('decodes entries and re-encodes a subset that y-protocols accepts', () => {
    const awareness = new Awareness(new Y.Doc());
    awareness.setLocalState({ user: { name: 'Ada' } });
    const bytes = encodeAwarenessUpdate(awareness, [awareness.clientID]);
    const entries = decodeAwarenessUpdate(bytes);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.clientId).toBe(awareness.clientID);
    expect(JSON.parse(entries[0]!.stateJson)).toEqual({ user: { name: 'Ada' } });
    expect(encodeAwarenessEntries(entries)).toEqual(bytes);
    awareness.destroy();
  });

  it('refuses counts larger than the bytes, bad JSON and truncation', () => {
    expect(() => decodeAwarenessUpdate(new Uint8Array([0xff, 0xff, 0x03]))).toThrowError(ProtocolError);
    const badJson = encodeAwarenessEntries([{ clientId: 1, clock: 1, stateJson: '{nope' }]);
    expect(() => decodeAwarenessUpdate(badJson)).toThrowError(/malformed awareness/);
    const good = encodeAwarenessEntries([{ clientId: 1, clock: 1, stateJson: '{"a":1}' }]);
    expect(() => decodeAwarenessUpdate(good.subarray(0, good.length - 2))).toThrowError(ProtocolError);
  });
});

describe('documentNameProblem', () => {
  it('accepts free text and refuses what would be ambiguous or unbounded', () => {
    expect(documentNameProblem('Team notes/2026 Q4 ✓')).toBeNull();
    expect(documentNameProblem('')).toMatch(/empty/);
    expect(documentNameProblem('x'.repeat(201))).toMatch(/longer than 200 bytes/);
    expect(documentNameProblem('a\nb')).toMatch(/control characters/);
    expect(documentNameProblem(' padded')).toMatch(/whitespace/);
    expect(documentNameProblem('..')).toMatch(/may not be/);
  });
});
