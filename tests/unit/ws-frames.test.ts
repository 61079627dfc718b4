import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { binaryFrame } from '../../server/http/ws-frames.js';

// ws' own framing, as the reference: Sender.frame returns [header, payload] for an unmasked frame.
const require = createRequire(import.meta.url);
const { Sender } = require('ws') as { Sender: { frame(data: Buffer, options: object): Buffer[] } };

function wsFrame(payload: Buffer): Buffer {
  return Buffer.concat(Sender.frame(payload, { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false }));
}

describe('binaryFrame', () => {
  it.each([0, 1, 125, 126, 127, 65_535, 65_536, 200_000])('frames %i bytes exactly as ws does', (length) => {
    const payload = Buffer.alloc(length, 0xab);
    expect(Buffer.from(binaryFrame(payload)).equals(wsFrame(payload))).toBe(true);
  });

  it('frames only the bytes of a view into a larger buffer', () => {
    const backing = Buffer.from([9, 9, 1, 2, 3, 9]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 3);
    expect([...binaryFrame(view)]).toEqual([0x82, 3, 1, 2, 3]);
  });
});
