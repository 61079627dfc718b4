import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MessageType } from '../../shared/protocol.js';
import { readAccess, readSavedState, readSubscribeSaved, writeAccess, writeSavedState, writeSubscribeSaved } from '../../shared/saved-state.js';

function write(writer: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  writer(encoder);
  return encoding.toUint8Array(encoder);
}

/** Reads the message type as a dispatcher does, then hands the decoder on. */
function typed(frame: Uint8Array): { type: number; decoder: decoding.Decoder } {
  const decoder = decoding.createDecoder(frame);
  return { type: decoding.readVarUint(decoder), decoder };
}

describe('the SavedState extension frames (shared/saved-state.ts)', () => {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, 'committed');
  const stateVector = Y.encodeStateVector(doc);

  it('reads back what the write functions wrote, to the last byte', () => {
    const subscribe = typed(write(writeSubscribeSaved));
    expect(subscribe.type).toBe(MessageType.SavedState);
    readSubscribeSaved(subscribe.decoder);
    expect(decoding.hasContent(subscribe.decoder)).toBe(false);

    const saved = typed(write((e) => writeSavedState(e, stateVector)));
    expect(saved.type).toBe(MessageType.SavedState);
    expect(readSavedState(saved.decoder)).toEqual(stateVector);
    expect(decoding.hasContent(saved.decoder)).toBe(false);

    for (const canWrite of [true, false]) {
      const access = typed(write((e) => writeAccess(e, { canWrite })));
      expect(access.type).toBe(MessageType.Access);
      expect(readAccess(access.decoder)).toEqual({ canWrite });
      expect(decoding.hasContent(access.decoder)).toBe(false);
    }
  });

  it('ignores Access flags it does not know (room for new ones)', () => {
    const frame = write((e) => (encoding.writeVarUint(e, MessageType.Access), encoding.writeVarUint(e, 0b110)));
    expect(readAccess(typed(frame).decoder)).toEqual({ canWrite: false });
  });

  it('refuses a SavedState frame whose declared length points past the frame, also inside a larger buffer', () => {
    const frame = write((e) => writeSavedState(e, stateVector));
    const backing = new Uint8Array(64);
    backing.set(frame.subarray(0, frame.length - 1));
    expect(() => readSavedState(typed(backing.subarray(0, frame.length - 1)).decoder)).toThrowError(/Unexpected end of array/);
    expect(() => readAccess(typed(Uint8Array.of(MessageType.Access)).decoder)).toThrowError(/Unexpected end of array/);
  });
});
